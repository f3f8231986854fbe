"""Stopping a browser and everything it started, and a private X server for WebKit."""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def dying_with_parent(argv: list[str]) -> list[str]:
    """`argv`, started so that Linux ends it when the test process dies, even by SIGKILL.

    A test run stopped from outside runs no clean-up; without this its X server and WebDriver
    would live on. util-linux's setpriv sets the signal and then runs the program in its place
    (same process), which a preexec_fn could not do safely in a process with threads. Firefox
    needs none: its Node process closes it when its stdin ends.
    """
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", *argv] if setpriv else argv


def group_members(group: int) -> list[str]:
    """The live processes of a process group (zombies left out: they are gone, only not yet reaped)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid, rest = stat.read_text().split(" (", 1)
        except OSError:
            continue  # it ended while we looked
        name, fields = rest.rsplit(") ", 1)
        state, _parent, process_group = fields.split()[:3]
        if int(process_group) == group and state != "Z":
            members.append(f"{pid} {name}")
    return members


def stop_group(group: int, grace: float = 5.0) -> None:
    """End every process of the group: SIGTERM, then SIGKILL what is left after `grace` seconds.

    A browser is a tree of processes (MiniBrowser and its web and network processes, Firefox and
    its content processes); started as the leader of a group of its own, all of it can be ended
    at once, and the test can check that nothing is left behind.
    """
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        if not group_members(group):
            return
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while group_members(group) and time.monotonic() < deadline:
            time.sleep(0.05)
    left = group_members(group)
    if left:
        raise RuntimeError(f"processes left running after SIGKILL: {left}")


def end(process: subprocess.Popen[bytes] | subprocess.Popen[str], grace: float = 5.0) -> None:
    """End a process started as a group leader (start_new_session), its whole group, and reap it."""
    stop_group(process.pid, grace)
    process.wait(timeout=5)


@contextmanager
def xvfb(log: Path) -> Iterator[str]:
    """A private X server on a free display; yields the DISPLAY value.

    WebKitGTK's MiniBrowser hangs here with --headless, and works under Xvfb. `-displayfd` lets the
    server pick a display that is free, so parallel runs and other sessions do not collide.
    """
    binary = shutil.which("Xvfb") or "/usr/bin/Xvfb"
    if not Path(binary).exists():
        raise RuntimeError("Xvfb is not installed: run `make test`, which installs it")
    read, write = os.pipe()
    with open(log, "ab") as output:
        process = subprocess.Popen(
            dying_with_parent(
                [binary, "-displayfd", str(write), "-screen", "0", "1280x1024x24", "-nolisten", "tcp", "-noreset"]
            ),
            pass_fds=(write,),
            stdout=output,
            stderr=output,
            start_new_session=True,
        )
    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], 20)
        number = os.read(read, 32).decode().strip() if ready else ""
        if not number.isdigit():
            raise RuntimeError(f"Xvfb did not start (see {log})")
        yield f":{number}"
    finally:
        os.close(read)
        end(process)
