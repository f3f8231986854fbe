"""The fast tier stays fast: collecting the suite imports no browser driver (tests/browser.py imports
Playwright when a browser test runs; tests/engines imports Selenium when WebKit is opened)."""

from __future__ import annotations

from .conftest import drivers_imported_by_collection


def test_collecting_the_suite_imports_no_browser_driver() -> None:
    assert drivers_imported_by_collection == []
