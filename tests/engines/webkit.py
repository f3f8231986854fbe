"""WebKitGTK (Safari's engine, Debian's package) through Selenium, WebKitWebDriver and MiniBrowser, under Xvfb."""

from __future__ import annotations

import os
import shlex
import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.webkitgtk.options import Options
from selenium.webdriver.webkitgtk.service import Service

from .page import Page
from .processes import dying_with_parent, stop_group, xvfb

DRIVER = shutil.which("WebKitWebDriver") or "/usr/bin/WebKitWebDriver"
MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"


class WebKitPage(Page):
    """WebDriver classic has a current browsing context: entering a frame switches to it.

    The context stays that frame across the frame's own navigations, so the flow inside the iframe
    needs no re-entering; only reading the top document switches out and back.
    """

    def __init__(self, driver: Any) -> None:
        super().__init__()
        self._driver = driver

    def goto(self, url: str) -> None:
        self.leave_frame()
        self._driver.get(url)

    def _enter(self, css: str) -> None:
        self._driver.switch_to.frame(self._driver.find_element(By.CSS_SELECTOR, css))

    def _leave(self) -> None:
        self._driver.switch_to.default_content()

    def _run(self, expression: str, *, top: bool) -> Any:
        if not (top and self.frame):
            return self._driver.execute_script(f"return {expression};")
        self._leave()
        try:
            return self._driver.execute_script(f"return {expression};")
        finally:
            self._enter(self.frame)

    def _element(self, css: str) -> Any:
        """The element, scrolled to the middle of the view, as a person would scroll before using it.

        WebKit's WebDriver checks that an element is in view right after scrolling it there, and
        the app's pages scroll smoothly (scroll-behavior), so without this a field below the fold
        is "not interactable". An instant scroll does what the person does, whatever the CSS.
        """
        element = self._driver.find_element(By.CSS_SELECTOR, css)
        self._driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
        return element

    def _fill(self, css: str, value: str) -> None:
        field = self._element(css)
        field.click()  # as a person does; in a cross-site frame WebKit cannot focus the field otherwise
        field.clear()
        field.send_keys(value)

    def _select(self, css: str, value: str) -> None:
        Select(self._element(css)).select_by_value(value)

    def _click(self, css: str) -> None:
        self._element(css).click()

    def _back(self) -> None:
        self._driver.back()

    def _reload(self) -> None:
        self._driver.refresh()


@contextmanager
def open_webkit(workdir: Path) -> Iterator[WebKitPage]:
    """MiniBrowser on a private Xvfb, with a fresh home; on exit the driver, the browser and Xvfb are gone.

    MiniBrowser in automation mode keeps its website data in memory only; the home and XDG
    directories in `workdir` make sure nothing else is read from, or left in, a shared one.
    WebKitWebDriver starts as the leader of a process group, with MiniBrowser and its web and
    network processes in it, so the whole group is ended after the session is closed.
    """
    for binary in (DRIVER, MINIBROWSER):
        if not Path(binary).exists():
            raise RuntimeError(f"{binary} is missing: run `make test`, which installs webkit2gtk-driver")
    home = workdir / "webkit-home"
    for sub in ("cache", "config", "data", "runtime"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    (home / "runtime").chmod(0o700)
    with xvfb(workdir / "xvfb.log") as display:
        env = {
            **os.environ,
            "DISPLAY": display,
            "HOME": str(home),
            "XDG_CACHE_HOME": str(home / "cache"),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_RUNTIME_DIR": str(home / "runtime"),
        }
        env.pop("WAYLAND_DISPLAY", None)
        options = Options()
        options.binary_location = MINIBROWSER
        options.add_argument("--automation")
        options.set_capability("acceptInsecureCerts", True)  # the test's own certificate
        # Selenium runs the driver itself: a small script puts it under setpriv, in the same process.
        driver_script = workdir / "webkitwebdriver"
        command = " ".join(shlex.quote(word) for word in dying_with_parent([DRIVER]))
        driver_script.write_text(f'#!/bin/sh\nexec {command} "$@"\n')
        driver_script.chmod(0o755)
        service = Service(
            executable_path=str(driver_script),
            env=env,
            log_output=str(workdir / "webkit.log"),
            popen_kw={"start_new_session": True},
        )
        try:
            with warnings.catch_warnings():
                # Selenium 4.51's own WebKitGTK class still passes the driver's address the deprecated way.
                warnings.filterwarnings("ignore", "setting remote_server_addr", DeprecationWarning)
                driver = webdriver.WebKitGTK(options=options, service=service)
        except Exception:
            if getattr(service, "process", None):  # the driver started, the session did not
                stop_group(service.process.pid)
            raise
        group = service.process.pid
        try:
            driver.set_page_load_timeout(Page.timeout * 3)
            driver.set_script_timeout(Page.timeout)
            yield WebKitPage(driver)
        finally:
            try:
                driver.quit()
            finally:
                stop_group(group)
