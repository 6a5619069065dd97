"""The DocTypes' controllers carry the typed block Frappe generates from their JSON (export_python_type_annotations),
and their Select options are the engine's values."""

import ast
import inspect
import textwrap

import frappe
import pytest
from frappe.model.base_document import get_controller
from frappe.types.exporter import TypeExporter

from async_jobs.engine.batches.status import BatchStatus
from async_jobs.engine.ledger.status import NOTIFY_MODES

DOCTYPES = (
	"Async Job",
	"Async Job Batch",
	"Async Jobs Alert",
	"Async Jobs Settings",
	"Async Job Schedule",
	"Async Job Dependency",
)


def declarations(code: str) -> dict[str, str]:
	"""field → annotation of the `if TYPE_CHECKING:` block in `code`."""
	found = {}
	for node in ast.walk(ast.parse(code)):
		if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
			found[node.target.id] = ast.unparse(node.annotation)
	return found


@pytest.mark.parametrize("doctype", DOCTYPES)
def test_the_typed_block_is_what_frappe_generates_from_the_json(doctype):
	exporter = TypeExporter(frappe.get_doc("DocType", doctype))
	controller = inspect.getsource(get_controller(doctype))
	generated = textwrap.dedent(exporter._generate_code())
	assert declarations(controller) == declarations(generated)


def options(doctype: str, field: str) -> list[str]:
	return frappe.get_meta(doctype).get_field(field).options.split("\n")


def test_the_notify_and_batch_status_options_are_the_engines_values():
	assert options("Async Job", "notify") == list(NOTIFY_MODES)
	assert options("Async Job Batch", "status") == [s.value for s in BatchStatus]
