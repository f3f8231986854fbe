"""The page driver every engine implements: a tab, driven with CSS selectors."""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from typing import Any

# Finds the element and returns its text, or null while it is missing or does not hold the text yet.
_PROBE = """(css, text) => {
  const element = document.querySelector(css);
  if (!element) return null;
  const shown = element.innerText ?? element.textContent ?? "";
  return text === null || shown.includes(text) ? shown : null;
}"""
_TEXT = """(css) => {
  const element = document.querySelector(css);
  if (!element) throw new Error("no element matches " + css);
  return element.innerText;
}"""


class Page(ABC):
    """One tab of one browser, driven the same way whatever the engine.

    Why so small: the flow needs only these steps, and Playwright, Puppeteer (WebDriver BiDi) and
    Selenium (classic WebDriver) differ most in how they wait, find frames and fail. So reading and
    waiting run here once, as JavaScript in the page (`call`), polled from outside, which survives
    the navigation a click starts in every engine; each engine only navigates, types and clicks its
    own way, with real input events. Every selector means the first element that matches it, as
    `document.querySelector` does. Commands act in the top document, or in the iframe last entered.
    """

    timeout: float = 10.0  # seconds; a step of the flow takes well under one

    def __init__(self) -> None:
        self.frame: str | None = None  # the iframe the commands act in (a selector in the top document)

    # What each engine does its own way.

    @abstractmethod
    def goto(self, url: str) -> None:
        """Load `url` in the tab and wait for its load event; commands then act in the top document."""

    @abstractmethod
    def _run(self, expression: str, *, top: bool) -> Any:
        """The JSON value of a JavaScript expression, in the current frame (or the top document)."""

    @abstractmethod
    def _fill(self, css: str, value: str) -> None: ...

    @abstractmethod
    def _select(self, css: str, value: str) -> None: ...

    @abstractmethod
    def _click(self, css: str) -> None: ...

    @abstractmethod
    def _back(self) -> None: ...

    @abstractmethod
    def _reload(self) -> None: ...

    def _enter(self, css: str) -> None:  # noqa: B027 - most engines need no switching
        """Engines with a current browsing context (WebDriver classic) switch to the frame here."""

    def _leave(self) -> None:  # noqa: B027
        """…and back to the top document here."""

    # The same for every engine.

    def enter_frame(self, css: str) -> None:
        """Act inside the iframe `css` of the top document from now on, across its navigations."""
        self.leave_frame()
        self.wait_for(css)
        self._enter(css)
        self.frame = css
        self.wait_for("body")

    def leave_frame(self) -> None:
        """Act in the top document again."""
        if self.frame is not None:
            self._leave()
            self.frame = None

    def fill(self, css: str, value: str) -> None:
        """Type `value` into the field, replacing what it held."""
        self.wait_for(css)
        self._fill(css, value)

    def select(self, css: str, value: str) -> None:
        """Choose the option whose value is `value` in a <select> (with the change events a person causes)."""
        self.wait_for(css)
        self._select(css, value)

    def click(self, css: str) -> None:
        """Click the element as a person would (a mouse click at its place, after scrolling to it)."""
        self.wait_for(css)
        self._click(css)

    def call(self, function: str, *args: Any, top: bool = False) -> Any:
        """Call a JavaScript function (source text) with JSON arguments in the current frame."""
        return self._run(f"({function})(...{json.dumps(list(args))})", top=top)

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the top document (the embedding page, say)."""
        return self._run(expression, top=True)

    def back(self) -> None:
        """Go back one page in the tab's history, as the browser's Back button does."""
        self.leave_frame()
        self._back()

    def reload(self) -> None:
        """Load the page again, as the browser's reload button does."""
        self.leave_frame()
        self._reload()

    def text(self, css: str = "body") -> str:
        """The element's text as shown (innerText)."""
        return str(self.call(_TEXT, css))

    def path(self) -> str:
        """The path of the current frame's URL: which page of the flow it shows."""
        return str(self.call("() => location.pathname"))

    def wait_for(self, css: str, text: str | None = None, timeout: float | None = None) -> str:
        """Wait until an element matches `css` (and its text holds `text`, when given); returns its text.

        On time-out the error says where the frame is and what it shows, so a failure tells why.
        """
        seconds = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + seconds
        problem: Exception | None = None
        while True:
            try:
                found = self.call(_PROBE, css, text)
                if found is not None:
                    return str(found)
                problem = None
            except Exception as err:  # a document being replaced, a frame not there yet: try again
                problem = err
            if time.monotonic() > deadline:
                wanted = f"{css!r}" + (f" with text {text!r}" if text is not None else "")
                error = f"; last error: {problem}" if problem else ""
                raise AssertionError(f"{wanted} did not appear within {seconds:g} s; {self.describe()}{error}")
            time.sleep(0.05)

    def describe(self) -> str:
        """Where the current frame is and what it says, for error messages."""
        try:
            return f"at {self.path()}, the page says: {' '.join(self.text().split())[:1500]!r}"
        except Exception as err:  # only a description
            return f"page unreadable: {err}"
