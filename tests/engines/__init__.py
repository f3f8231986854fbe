"""One page driver for three browser engines, from Debian's packages: Chromium, Firefox ESR and WebKitGTK.

Why three: the app lives in other sites' iframes, where what a browser keeps (cookies above all)
differs between engines, and WebKit stands in for Safari. A test written once against `Page`
runs in each; `open_page` gives a fresh browser with a fresh profile and ends all of it after.

- Chromium: Playwright (chromium.py), as tests/browser.py starts it.
- Firefox ESR: puppeteer-core over WebDriver BiDi, from a small Node process (firefox.py, firefox.mjs).
- WebKitGTK: Selenium with WebKitWebDriver and MiniBrowser under a private Xvfb (webkit.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from .page import Page

Engine = Literal["chromium", "firefox", "webkit"]
ENGINES: tuple[Engine, ...] = ("chromium", "firefox", "webkit")

__all__ = ["ENGINES", "Engine", "Page", "open_page"]


@contextmanager
def open_page(engine: Engine, workdir: Path, *, playwright: Any = None, no_cookies: bool = False) -> Iterator[Page]:
    """A tab in a fresh `engine` browser whose profile and logs live in `workdir`; all of it ends on exit.

    Every engine accepts the test's self-signed certificate. `no_cookies` (Chromium only) blocks
    every cookie, first-party too. Imports are lazy so that one engine's missing library does not
    stop the others.
    """
    if no_cookies and engine != "chromium":
        raise ValueError("blocking every cookie is set up for Chromium only")
    if engine == "chromium":
        from .chromium import open_chromium  # noqa: PLC0415

        with open_chromium(playwright, workdir, no_cookies=no_cookies) as page:
            yield page
    elif engine == "firefox":
        from .firefox import open_firefox  # noqa: PLC0415

        with open_firefox(workdir) as page:
            yield page
    elif engine == "webkit":
        from .webkit import open_webkit  # noqa: PLC0415

        with open_webkit(workdir) as page:
            yield page
    else:
        raise ValueError(f"unknown engine {engine!r}")
