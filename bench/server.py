"""A WSGI app under gunicorn exactly as production runs it: the Procfile's command (serving TARGET)
from the project root, so gunicorn.conf.py supplies every setting and only the environment differs.
"""

from __future__ import annotations

import runpy
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from bench import processes
from local import emulator
from local.procfile import web_command

ROOT = Path(__file__).resolve().parent.parent
# The app logs one JSON line per request it answers (app.logs): count those.
_REQUEST_MARK = b'"logger": "signup.request"'


@dataclass
class Gunicorn:
    """One running gunicorn master and its workers."""

    target: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    launch_to_ready_s: float = 0.0  # until /healthz answered (the first worker is up)
    launch_to_workers_s: float = 0.0  # until every worker gunicorn.conf.py asks for had been forked
    _log_offset: int = 0
    _served: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[int]:
        return processes.children(self.process.pid)

    def pids(self) -> list[int]:
        return [self.process.pid, *self.workers()]

    def worker_rss_kib(self) -> dict[int, int]:
        return {pid: processes.rss_kib(pid) for pid in self.workers()}

    def worker_fork_offsets_s(self) -> list[float]:
        """How long after the master started each worker was forked (the master builds the app first)."""
        master = processes.started_at(self.process.pid)
        return [processes.started_at(pid) - master for pid in self.workers()]

    def requests_served(self) -> int:
        """Requests answered so far, counted from the app's request log lines (complete lines only)."""
        with open(self.log, "rb") as log:
            log.seek(self._log_offset)
            chunk = log.read()
        end = chunk.rfind(b"\n") + 1
        self._served += chunk[:end].count(_REQUEST_MARK)
        self._log_offset += end
        return self._served

    def stop(self) -> None:
        processes.stop(self.process)


def start(target: str, env: dict[str, str], log: Path) -> Gunicorn:
    """Launch gunicorn, time it until /healthz answers, then until all its workers are forked.

    gunicorn forks workers one after the other, so the first answer can come before the last fork.
    """
    port = int(env["SIGNUP_BIND"].rsplit(":", 1)[1])
    # Its own session: a Ctrl-C reaches only the harness, which then stops gunicorn in order.
    with open(log, "wb") as output:
        launched = time.monotonic()
        process = subprocess.Popen(
            web_command(app=target), cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Gunicorn(target=target, process=process, port=port, log=log)
    try:
        emulator.wait_until_up(f"{server.url}/healthz", process, timeout=60)
    except BaseException:
        server.stop()
        raise
    server.launch_to_ready_s = time.monotonic() - launched
    wanted = settings(env)["workers"]
    deadline = time.monotonic() + 30
    while len(server.workers()) < wanted and time.monotonic() < deadline:
        time.sleep(0.01)
    server.launch_to_workers_s = time.monotonic() - launched
    return server


@contextmanager
def _environment(env: dict[str, str]) -> Any:
    with mock.patch.dict("os.environ", env, clear=True):
        yield


def settings(env: dict[str, str]) -> dict[str, Any]:
    """The settings gunicorn.conf.py gives under `env`, read by running the file as gunicorn does."""
    with _environment(env):
        values = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    names = (
        "bind",
        "workers",
        "worker_class",
        "threads",
        "preload_app",
        "timeout",
        "keepalive",
        "accesslog",
    )
    return {name: values.get(name) for name in names}
