"""Chromium (Debian's package) through Playwright, as tests/browser.py starts it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..browser import chromium
from .page import Page


class ChromiumPage(Page):
    """Playwright's own waiting is kept for typing and clicking (it waits until the element can take them)."""

    def __init__(self, tab: Any) -> None:
        super().__init__()
        self._tab = tab
        tab.set_default_timeout(self.timeout * 1000)

    def goto(self, url: str) -> None:
        self.leave_frame()
        self._tab.goto(url)

    def _scope(self) -> Any:
        return self._tab.frame_locator(self.frame).first if self.frame else self._tab

    def _run(self, expression: str, *, top: bool) -> Any:
        frame = self._tab.main_frame
        if self.frame and not top:
            frame = self._tab.locator(self.frame).first.element_handle().content_frame()
            if frame is None:
                raise RuntimeError(f"{self.frame} holds no document")
        return frame.evaluate(expression)

    def _fill(self, css: str, value: str) -> None:
        field = self._scope().locator(css).first
        field.click()  # as a person does, and as the other engines must
        field.fill(value)

    def _select(self, css: str, value: str) -> None:
        self._scope().locator(css).first.select_option(value)

    def _click(self, css: str) -> None:
        self._scope().locator(css).first.click()

    def _back(self) -> None:
        self._tab.go_back()

    def _reload(self) -> None:
        self._tab.reload()


@contextmanager
def open_chromium(playwright: Any, workdir: Path, *, no_cookies: bool = False) -> Iterator[ChromiumPage]:
    """A fresh profile in `workdir`; third-party cookies blocked (the default), or every cookie."""
    with chromium(playwright, workdir / "chromium-profile", no_cookies=no_cookies, ignore_https_errors=True) as context:
        tab = context.pages[0] if context.pages else context.new_page()
        yield ChromiumPage(tab)
