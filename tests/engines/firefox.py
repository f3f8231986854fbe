"""Firefox ESR (Debian's package) through puppeteer-core over WebDriver BiDi, from a Node process.

Puppeteer is a Node library and there is no geckodriver here, so a small Node script
(firefox.mjs) holds the browser and takes one JSON command a line; this side is the Page.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from .page import Page
from .processes import end, stop_group

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("firefox.mjs")
FIREFOX = shutil.which("firefox-esr") or "/usr/bin/firefox-esr"
NODE = shutil.which("node") or "/usr/bin/node"


class FirefoxPage(Page):
    """Commands go to the Node process and wait for its answer; Puppeteer's locators wait as Playwright's do."""

    def __init__(self, node: subprocess.Popen[str]) -> None:
        super().__init__()
        self._node = node
        self._answers: queue.Queue[str | None] = queue.Queue()
        self._next_id = 0
        self._reader = threading.Thread(target=self._read, args=(node.stdout,), daemon=True)
        self._reader.start()
        hello = self._receive(60)
        if not hello.get("ready"):
            raise RuntimeError(f"Firefox did not start: {hello}")
        self.browser_pid: int | None = hello.get("pid")
        self.version: str = hello.get("version", "")

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._answers.put(line)
        self._answers.put(None)

    def _receive(self, timeout: float) -> dict[str, Any]:
        try:
            line = self._answers.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no answer from Firefox's Node process within {timeout:g} s") from None
        if line is None:
            raise RuntimeError(f"Firefox's Node process ended (status {self._node.poll()})")
        return dict(json.loads(line))

    def _ask(self, op: str, **fields: Any) -> Any:
        self._next_id += 1
        assert self._node.stdin
        try:
            self._node.stdin.write(json.dumps({"id": self._next_id, "op": op, **fields}) + "\n")
            self._node.stdin.flush()
        except BrokenPipeError:
            raise RuntimeError(f"Firefox's Node process ended (status {self._node.poll()})") from None
        while True:
            answer = self._receive(self.timeout + 10)
            if answer.get("id") == self._next_id:  # an older one was given up on already
                break
        if not answer["ok"]:
            raise RuntimeError(f"Firefox: {op}: {answer['error']}")
        return answer["value"]

    def goto(self, url: str) -> None:
        self.leave_frame()
        self._ask("goto", url=url)

    def _run(self, expression: str, *, top: bool) -> Any:
        return self._ask("run", expression=expression, frame=None if top else self.frame)

    def _fill(self, css: str, value: str) -> None:
        self._ask("fill", css=css, value=value, frame=self.frame)

    def _select(self, css: str, value: str) -> None:
        self._ask("select", css=css, value=value, frame=self.frame)

    def _click(self, css: str) -> None:
        self._ask("click", css=css, frame=self.frame)

    def _back(self) -> None:
        self._ask("back")

    def _reload(self) -> None:
        self._ask("reload")

    def close(self) -> None:
        """Ask Node to close Firefox; the caller then ends whatever is left."""
        if self._node.stdin and not self._node.stdin.closed:
            with suppress(BrokenPipeError):
                self._node.stdin.write(json.dumps({"op": "close"}) + "\n")
                self._node.stdin.close()
        with suppress(subprocess.TimeoutExpired):
            self._node.wait(timeout=15)

    def release(self) -> None:
        """Once Node is gone: its output is read to the end, and the pipe closed."""
        self._reader.join(timeout=5)
        if self._node.stdout:
            self._node.stdout.close()


@contextmanager
def open_firefox(workdir: Path) -> Iterator[FirefoxPage]:
    """Firefox ESR with a fresh profile in `workdir`; on exit Firefox, Node and their children are gone.

    Node starts as the leader of a process group, and Puppeteer starts Firefox as the leader of
    another: both groups are ended, whatever state the test left them in.
    """
    if not (ROOT / "node_modules" / "puppeteer-core").is_dir():
        raise RuntimeError("puppeteer-core is missing: run `make test`, which installs it")
    profile = workdir / "firefox-profile"
    profile.mkdir(parents=True, exist_ok=True)
    options = {"executable": FIREFOX, "profile": str(profile), "timeout": int(Page.timeout * 1000)}
    with open(workdir / "firefox.log", "ab") as log:
        node = subprocess.Popen(
            [NODE, str(SCRIPT), json.dumps(options)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            start_new_session=True,
        )
    page: FirefoxPage | None = None
    try:
        try:
            page = FirefoxPage(node)
        except (RuntimeError, TimeoutError) as err:
            raise RuntimeError(f"{err}; see {workdir / 'firefox.log'}") from err
        yield page
    finally:
        if page is not None:
            page.close()
        end(node)
        if page is not None and page.browser_pid:
            stop_group(page.browser_pid)
        if page is not None:
            page.release()
        elif node.stdout:
            node.stdout.close()
