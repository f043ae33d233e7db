"""Browser fixtures: Debian's Chromium driven by Playwright (``executable_path``) against the console that the
offline stack serves at ``/console`` (tests/conftest.py's ``stack``: a free 127.0.0.1 port, stopped even on
failure).

Only these tests need Chromium: without it (``make test`` installs Debian's ``chromium``; docs/console.md)
they are skipped with the reason, and everything else runs. A console that is not built is a failure:
``make console`` builds it.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright

from orderflow_cli.client import OrderflowClient
from orderflow_local.console import DIST
from orderflow_local.stack import LocalStack

AXE = DIST.parent / "node_modules" / "axe-core" / "axe.min.js"  # a dev dependency of console/ (npm ci)
pytestmark = pytest.mark.browser
# A test run keeps its pictures in build/ (ignored by git); `make screenshots` points this at docs/console/.
SCREENSHOTS = Path(os.environ.get("ORDERFLOW_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "build" / "console")
# Chromium as root needs --no-sandbox; the rest keep it from calling Google's hosts on a closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


expect.set_options(timeout=30_000)  # a first run forecasts for seconds on a loaded 2-core machine


def chromium_path() -> str | None:
    wanted = os.environ.get("ORDERFLOW_CHROMIUM")
    return wanted if wanted and Path(wanted).is_file() else shutil.which("chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        pytest.skip("browser tests skipped: Debian's chromium is not installed (make test installs it with apt-get; "
                    "or set ORDERFLOW_CHROMIUM=/path/to/chromium)")
    if not (DIST / "index.html").is_file() or not AXE.is_file():
        pytest.fail(f"the console is not built ({DIST}, {AXE}): run make console")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def admin(stack: LocalStack) -> Iterator[OrderflowClient]:
    """The API as an admin, to set up what each journey starts from."""
    with OrderflowClient(stack.api_url) as client:
        yield client


class Console:
    """One signed-in browser tab on the console."""

    def __init__(self, page: Any, base_url: str):
        self.page, self.base = page, base_url
        # What a developer would see in the browser's console: uncaught errors, the console's own files failing
        # to load, and any other error logged but the API's answers (its 404 for an unknown order is a page's
        # answer, not a fault; a missing favicon is).
        self.faults: list[str] = []
        fetched: set[str] = set()
        page.on("request", lambda r: r.resource_type == "fetch" and fetched.add(r.url))
        page.on("pageerror", lambda error: self.faults.append(f"uncaught: {error}"))
        page.on("response", lambda r: r.status >= 400 and "/console/" in r.url
                and self.faults.append(f"{r.status} {r.request.method} {r.url}"))
        page.on("console", lambda m: m.type == "error" and m.location.get("url") not in fetched
                and self.faults.append(f"logged: {m.text} ({m.location.get('url')})"))

    def sign_in(self, role: str, customer_id: str | None = None) -> None:
        self.page.goto(f"{self.base}/console/")
        self.page.get_by_role("heading", name="Sign in to Orderflow").wait_for()
        self.page.get_by_label({"admin": "Customer service and buyer (admin)", "warehouse": "Warehouse",
                                "customer": "Customer"}[role], exact=True).check()
        if customer_id:
            self.page.get_by_label("Customer ID").fill(customer_id)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.get_by_role("button", name="Sign out").wait_for()
        self.page.wait_for_url(re.compile(r"#/."))  # the role's home page, before a test opens another
        assert self.faults == [], self.faults

    def go(self, route: str) -> None:
        self.page.goto(f"{self.base}/console/#/{route}")

    def screenshot(self, name: str) -> None:
        """Check the page as it is for accessibility (axe-core: labels, names, contrast, landmarks), then keep
        a picture of it (docs/console/ with `make screenshots`)."""
        self.assert_accessible(name)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def assert_fits_a_phone(self) -> None:
        """At a phone's width (390 px) the page itself never scrolls sideways: a wide table scrolls in its own
        box, and everything else wraps."""
        self.page.set_viewport_size({"width": 390, "height": 844})
        wide = self.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert wide[0] <= wide[1], f"the page is {wide[0]} px wide on a {wide[1]} px screen"

    def assert_accessible(self, name: str) -> None:
        result = self.page.evaluate("""async () => {
            const wcag = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
            const r = await axe.run(document, {runOnly: {type: "tag", values: wcag}});
            return {passed: r.passes.map(p => p.id), violations: r.violations.map(v =>
                `${v.id} (${v.impact}): ${v.help} -- ${v.nodes.slice(0, 3).map(n => n.target).join(" ; ")}`)};
        }""")
        assert "color-contrast" in result["passed"], result  # the contrast rule ran on this page's text
        assert result["violations"] == [], f"{name}: accessibility violations:\n" + "\n".join(result["violations"])
        print(f"{name}: axe-core passed {len(result['passed'])} rules")


@pytest.fixture
def console(browser: Any, stack: LocalStack, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Console]:
    context = browser.new_context(locale="en-GB", timezone_id="UTC", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    context.add_init_script(path=str(AXE))  # before the page's own scripts, past its CSP (script-src 'self')
    tab = Console(context.new_page(), stack.api_url)
    try:
        yield tab
    finally:
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:  # what the user saw when it failed, for the report
            shot = tmp_path / "failed.png"
            tab.page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the failing page: {shot}")
        context.close()
    assert tab.faults == [], f"the browser logged: {tab.faults}"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
