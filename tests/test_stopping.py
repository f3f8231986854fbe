"""A worker stops once and soon, whatever mix of SIGINT, SIGQUIT and SIGTERM reaches it, from the
terminal, its master or a supervisor that signals the whole process group (gunicorn.conf.py's
post_fork). The loop of `make run`, a page left open and Ctrl-C is in test_local_run.py."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from local import emulator
from local.procfile import web_command

from .conftest import ROOT, base_env
from .gthread_worker import DEADLOCKED

pytestmark = pytest.mark.servers

INT, QUIT, TERM = signal.SIGINT, signal.SIGQUIT, signal.SIGTERM


def worker_with_a_second_signal(*case: Any) -> tuple[int, float | None]:
    """tests/gthread_worker.py with (handlers, first, second[, "early"]): (exit status, seconds to the stop)."""
    handlers, first, second, *early = case
    argv = [sys.executable, "-m", "tests.gthread_worker", handlers, first.name, second.name, *early]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=30, check=False)
    return done.returncode, float(done.stdout.split()[-1]) if done.returncode == 0 else None


def all_at_once(*cases: tuple[Any, ...]) -> dict[tuple[Any, ...], tuple[int, float | None]]:
    with ThreadPoolExecutor(len(cases)) as pool:
        return dict(zip(cases, pool.map(lambda case: worker_with_a_second_signal(*case), cases), strict=True))


def test_a_second_signal_landing_inside_the_first_leaves_the_worker_stopping_at_once() -> None:
    orders = [(INT, QUIT), (QUIT, INT), (INT, INT), (TERM, INT), (TERM, QUIT), (INT, TERM), (QUIT, TERM)]
    cases = [("ours", *order) for order in orders] + [("ours", TERM, INT, "early"), ("ours", INT, QUIT, "early")]
    outcomes = all_at_once(*cases)
    print({f"{c[1].name}+{c[2].name}{' early' if len(c) > 3 else ''}": o for c, o in outcomes.items()})
    assert {status for status, _ in outcomes.values()} == {0}
    assert max(seconds or 0 for _, seconds in outcomes.values()) < 1


def test_gunicorns_own_handlers_deadlock_there_which_is_why_gunicorn_conf_replaces_them() -> None:
    # Ctrl-C (the terminal's SIGINT, then the master's SIGQUIT inside the first handler's pool shutdown),
    # a quick stop during a graceful one, and a SIGTERM that came before the worker had handlers.
    outcomes = all_at_once(("gunicorns", INT, QUIT), ("gunicorns", TERM, INT), ("gunicorns", TERM, INT, "early"))
    assert [status for status, _ in outcomes.values()] == [DEADLOCKED] * 3


def workers_of(master: int) -> list[int]:
    return [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def wait_for_workers(master: int, count: int, but_not: set[int] = frozenset()) -> list[int]:  # type: ignore[assignment]
    deadline = time.monotonic() + 20
    while len(pids := [p for p in workers_of(master) if p not in but_not]) < count:
        assert time.monotonic() < deadline, "the master did not start its workers"
        time.sleep(0.05)
    time.sleep(0.3)  # booted, with their own handlers
    return pids


def spin(seconds: float) -> None:
    """Wait without sleeping: a sleep is too coarse for sub-millisecond gaps."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_real_workers_stop_on_two_signals_back_to_back_and_the_master_replaces_them(tmp_path: Path) -> None:
    port = emulator.free_port()
    env = {**os.environ, **base_env(SIGNUP_WORKERS="2", SIGNUP_BIND=f"127.0.0.1:{port}")}
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as output:
        master = subprocess.Popen(web_command(), cwd=ROOT, env=env, stdout=output, stderr=output)
    try:
        emulator.wait_until_up(f"http://127.0.0.1:{port}/healthz", master)
        workers = wait_for_workers(master.pid, 2)
        stops = []
        for first, second in [(INT, QUIT), (QUIT, INT), (TERM, INT), (INT, TERM), (TERM, QUIT), (INT, INT)]:
            for gap in (0, 0.0002, 0.001, 0.005, 0.05, 0.12):
                pid = workers[0]
                os.kill(pid, first)
                spin(gap)
                with contextlib.suppress(ProcessLookupError):  # it may be gone already
                    os.kill(pid, second)
                started = time.monotonic()
                while running(pid):
                    assert time.monotonic() - started < 3, f"{first.name} then {second.name} after {gap} s: stuck"
                    time.sleep(0.01)
                stops.append(time.monotonic() - started)
                workers = wait_for_workers(master.pid, 2, but_not={pid})
        assert master.poll() is None
    finally:
        master.terminate()
        master.wait(timeout=30)
    print(f"{len(stops)} workers stopped by two signals, the slowest in {max(stops):.2f} s")
    assert "SIGKILL" not in log.read_text() and "Traceback" not in log.read_text()


@pytest.mark.parametrize(("first", "second"), [(INT, TERM), (TERM, INT), (INT, QUIT), (TERM, TERM)])
def test_a_supervisor_signalling_the_whole_group_twice_stops_the_instance_within_seconds(
    tmp_path: Path, first: signal.Signals, second: signal.Signals
) -> None:
    port = emulator.free_port()
    env = {**os.environ, **base_env(SIGNUP_WORKERS="2", SIGNUP_BIND=f"127.0.0.1:{port}")}
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as output:
        master = subprocess.Popen(
            web_command(), cwd=ROOT, env=env, stdout=output, stderr=output, start_new_session=True
        )
    emulator.wait_until_up(f"http://127.0.0.1:{port}/healthz", master)
    wait_for_workers(master.pid, 2)
    started = time.monotonic()
    os.killpg(master.pid, first)
    spin(0.002)
    os.killpg(master.pid, second)
    master.wait(timeout=30)
    took = time.monotonic() - started
    said = log.read_text()
    assert took < 3 and "SIGKILL" not in said and "Traceback" not in said, said
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
