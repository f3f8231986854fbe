"""The load generator: wrk, driven by the Lua scripts beside this file.

wrk is C with LuaJIT and costs a fraction of what a Python client would on a machine whose two
cores it shares with the app and the Cognito stand-in. The Lua scripts report their figures as
one JSON line (see page.lua and signup.lua).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
TIMEOUT = "10s"  # a request slower than this counts as failed (wrk's "timeout" errors)


def ensure_wrk() -> str:
    """wrk's path, installing Debian's package when it is missing (as scripts/install-test-packages does)."""
    found = shutil.which("wrk")
    if found:
        return found
    if not shutil.which("apt-get"):
        raise SystemExit("The bench needs wrk: install it with your system's package manager.")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    print("Installing wrk from Debian's packages", flush=True)
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True)
    subprocess.run(
        [*sudo, "apt-get", "install", "-y", "-qq", "wrk"],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        stdout=subprocess.DEVNULL,
    )
    return shutil.which("wrk") or "/usr/bin/wrk"


def version(wrk: str) -> str:
    output = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False).stdout
    return output.splitlines()[0].split(" Copyright")[0] if output else "wrk"


@dataclass(frozen=True)
class Result:
    """What one wrk run measured."""

    command: str
    seconds: float
    requests: int
    p50_ms: float  # per request
    p99_ms: float
    socket_errors: int  # connect, read, write, timeout
    bad_status: int  # answers other than 2xx/3xx
    unexpected: int = 0  # 2xx/3xx answers that were not the next step of the flow
    completed: int = 0  # complete sign-ups (flow script only)
    flow_ms: list[float] = field(default_factory=list, repr=False)  # per complete sign-up

    @property
    def failures(self) -> int:
        return self.socket_errors + self.bad_status + self.unexpected

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds

    @property
    def signups_per_s(self) -> float:
        return self.completed / self.seconds


def command(
    wrk: str, url: str, script: str, *, seconds: float, threads: int, connections: int, args: tuple[str, ...] = ()
) -> list[str]:
    return [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        f"--timeout={TIMEOUT}",
        "-s",
        str(HERE / script),
        url,
        *(["--", *args] if args else []),
    ]


def start(argv: list[str]) -> subprocess.Popen[str]:
    # Its own session, so a Ctrl-C reaches only the harness, which stops wrk itself.
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def finish(process: subprocess.Popen[str], argv: list[str], *, early: bool = False) -> Result:
    """Wait for wrk (interrupting it first when `early`: wrk then reports what it has) and parse its report."""
    if early and process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        output, _ = process.communicate()
    except BaseException:
        process.kill()
        process.wait()
        raise
    line = next((line for line in reversed(output.splitlines()) if line.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no report:\n{output}")
    data = json.loads(line.removeprefix("BENCH "))
    shown = ["wrk", *(f"bench/{Path(part).name}" if part.startswith(str(HERE)) else part for part in argv[1:])]
    return Result(
        command=" ".join(shown),
        seconds=data["duration_us"] / 1e6,
        requests=data["requests"],
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
        bad_status=data["status"],
        unexpected=data.get("unexpected", 0),
        completed=data.get("completed", 0),
        flow_ms=data.get("flow_ms", []),
    )


def run(argv: list[str]) -> Result:
    return finish(start(argv), argv)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil
    return ordered[int(rank) - 1]
