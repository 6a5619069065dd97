"""Fixtures of the Desk tests: a logged-in page in a real browser."""

import pytest

from tests.support import world


@pytest.fixture
def desk(browser, web, screenshot_dir, request):
	"""desk(user) → a logged-in page in a fresh browser context. A failing test leaves a screenshot of each page
	and the browser console in artifacts/screenshots/failed-*."""
	contexts, console = [], []

	def open_as(user: str):
		context = browser.new_context(viewport={"width": 1400, "height": 900})
		contexts.append(context)
		page = context.new_page()
		page.on("console", lambda message: console.append(f"{user} {message.type}: {message.text}"))
		page.goto(f"{web}/login")
		page.fill("#login_email", user)
		page.fill("#login_password", world.PASSWORD)
		page.click(".btn-login")
		page.wait_for_url("**/app**", timeout=60_000)
		page.wait_for_function("() => window.async_jobs && async_jobs.events && frappe.boot", timeout=60_000)
		return page

	yield open_as
	if getattr(request.node, "failed_call", False):
		for i, context in enumerate(contexts):
			for j, page in enumerate(context.pages):
				page.screenshot(path=str(screenshot_dir / f"failed-{request.node.name[:60]}-{i}-{j}.png"))
		(screenshot_dir / f"failed-{request.node.name[:60]}-console.txt").write_text("\n".join(console))
	for context in contexts:
		context.close()
