"""The Quick start's first command: a person signs up in a browser against the local Cognito."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from local import emulator

from .browser import chromium, enter_code, expect
from .conftest import ROOT

pytestmark = pytest.mark.browser


def two_free_ports() -> int:
    """A port p with p + 1 free too (the app and the demo page)."""
    for _ in range(50):
        port = emulator.free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two free ports in a row")


def start_local_run(port: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start `python -m local.run` (what `make run` runs) and wait for its banner."""
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.run"],
            cwd=ROOT,
            env={**os.environ, "PORT": str(port)},
            stdout=output,
            stderr=output,
            start_new_session=True,  # a terminal's process group: Ctrl-C reaches all of it
        )
    deadline = time.monotonic() + 60
    while "Press Ctrl-C to stop." not in log.read_text():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
    return process, log.read_text()


def stop(process: subprocess.Popen[bytes], log: Path) -> float:
    """Ctrl-C, as a terminal sends it: SIGINT to the whole process group. Seconds until all is gone."""
    started = time.monotonic()
    os.killpg(process.pid, signal.SIGINT)
    assert process.wait(timeout=30) == 0
    took = time.monotonic() - started
    said = log.read_text()
    assert "SIGKILL" not in said and "Traceback" not in said and '"level": "ERROR"' not in said, said
    return took


def test_a_person_signs_up_in_the_browser_against_the_local_run(playwright: Any, tmp_path: Path) -> None:
    port = two_free_ports()
    process, banner = start_local_run(port, tmp_path / "run.log")
    try:
        endpoint = re.search(r"Local Cognito:\s+(\S+) \(user pool (\S+)\)", banner)
        assert endpoint and f"http://localhost:{port}/signup" in banner and "123456" in banner
        with chromium(playwright, tmp_path / "profile") as browser:
            tab = browser.new_page()
            tab.goto(f"http://localhost:{port}/signup")
            tab.get_by_label("Email address").fill("person@example.com")
            tab.get_by_label("Password", exact=True).fill("Correct-Horse-9")
            tab.get_by_label("Confirm password").fill("Correct-Horse-9")
            tab.get_by_label("First name").fill("Pat")
            tab.get_by_label("Company").fill("Pat & Co")
            tab.get_by_label("Seats").fill("12")
            tab.get_by_label("Plan").select_option("enterprise")
            tab.wait_for_timeout(2000)  # as long as a person takes at least (the bot check's minimum)
            tab.get_by_role("button", name="Create account").click()
            enter_code(tab, "123456")
            expect(tab.get_by_role("heading", name="Your account is ready")).to_be_visible()

            # The embedded demo on the other loopback site works too.
            demo = browser.new_page()
            demo.goto(f"http://127.0.0.1:{port + 1}/")
            expect(demo.frame_locator("#cognito-signup").get_by_role("button", name="Create account")).to_be_visible()

        users = emulator.admin_client(endpoint.group(1)).list_users(UserPoolId=endpoint.group(2))["Users"]
        assert len(users) == 1 and users[0]["UserStatus"] == "CONFIRMED"
        attributes = {a["Name"]: a["Value"] for a in users[0]["Attributes"]}
        assert attributes | {"sub": "-"} == {
            "sub": "-",
            "email": "person@example.com",
            "given_name": "Pat",
            "custom:company": "Pat & Co",
            "custom:seats": "12",
            "custom:plan": "enterprise",
        }
    finally:
        took = stop(process, tmp_path / "run.log")
    assert took < 3  # after a sign-up in a browser, Ctrl-C ends it all within a couple of seconds


def test_ctrl_c_stops_everything_and_a_second_run_works(tmp_path: Path) -> None:
    port = two_free_ports()
    process, banner = start_local_run(port, tmp_path / "first.log")
    emulator_port = int(re.search(r"Local Cognito:\s+http://127.0.0.1:(\d+)", banner).group(1))
    assert stop(process, tmp_path / "first.log") < 3
    for closed in (port, port + 1, emulator_port):
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", closed)) != 0, closed
    again, _ = start_local_run(port, tmp_path / "second.log")
    stop(again, tmp_path / "second.log")
