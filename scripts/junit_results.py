"""One line per test of the JUnit XML files `<site>-<module>.xml` in a folder, sorted:
`<module> <class>.<test> passed|failed|skipped` (used by scripts/peer-tests).

	python scripts/junit_results.py FOLDER SITE
"""

import pathlib
import sys
import xml.etree.ElementTree as ET


def outcome(case: ET.Element) -> str:
	tags = {child.tag for child in case}
	if tags & {"failure", "error"}:
		return "failed"
	return "skipped" if "skipped" in tags else "passed"


def results(folder: pathlib.Path, site: str) -> list[str]:
	lines = []
	for path in folder.glob(f"{site}-*.xml"):
		module = path.name[len(site) + 1 : -len(".xml")]
		for case in ET.parse(path).iter("testcase"):
			test = f"{case.get('classname', '').rsplit('.', 1)[-1]}.{case.get('name')}"
			lines.append(f"{module} {test} {outcome(case)}")
	return sorted(lines)


if __name__ == "__main__":
	print("\n".join(results(pathlib.Path(sys.argv[1]), sys.argv[2])))
