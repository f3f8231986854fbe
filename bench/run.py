"""`python -m bench.run`: benchmark the app under gunicorn on loopback and write docs/BENCHMARKS.md.

One command, about five minutes, everything on this machine:

1. a Cognito stand-in (bench/upstream.py) on HTTPS with a certificate made for this run;
2. the app under gunicorn with its production configuration (gunicorn.conf.py), pointed at it;
3. wrk driving what a browser does: the form, the post, the redirect (bench/signup.lua);
4. the same gunicorn settings serving a bare Flask app with the app's page (bench/bare_app.py).

Measurements, in order: memory after 10k and 50k requests of sign-ups (which also warms the app
up), GET /signup, complete sign-ups at 0 ms and then 100 ms added upstream latency, a CPU profile
of the same steps (bench/profile.py), and GET /signup on the bare app. Every child process runs
in its own session and is stopped on exit, Ctrl-C included.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from bench import cpu, load, machine, processes, report, server, tls, upstream
from local import emulator

ROOT = server.ROOT
OUTPUT = ROOT / "docs" / "BENCHMARKS.md"
USERS = 64  # concurrent browsers, and connections for the page measurements
WARMUP_S = 3
PAGE_S = 15
FLOW_SLICE_S = 5  # the latencies take turns in slices this long...
FLOW_ROUNDS = 4  # ...this many times each, so a machine that speeds up or slows down affects both alike
LATENCIES_MS = (0, 100)
MEMORY_MARKS = (10_000, 50_000)
MEMORY_LIMIT_S = 300  # the memory phase gives up after this, and the report says how far it got
CLIENT_ID = "benchclient"
# The operator's own choice of workers and threads is kept (and shown); nothing else leaks in.
PASSED_THROUGH = ("SIGNUP_WORKERS", "SIGNUP_THREADS")


@dataclass
class Bench:
    """What the phases share, and everything measured so far."""

    wrk: str
    upstream: upstream.Handle
    tmp: Path
    results: report.Results = field(default_factory=lambda: report.Results(users=USERS, warmup_s=WARMUP_S))

    def record(self, label: str, result: load.Result) -> load.Result:
        self.results.runs.append((label, result))
        return result

    def measure(self, label: str, app: server.Gunicorn, argv: list[str]) -> report.Measured:
        meter = cpu.Meter({"gunicorn": app.pids, "stand-in": lambda: [self.upstream.process.pid]})
        meter.start()
        result = self.record(label, load.run(argv))
        return report.Measured(result=result, cpu=meter.stop())


def app_environment(bench: Bench, cert: tls.Certificate, client_secret: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COGNITO_", "SIGNUP_", "AWS_"))}
    env.update({k: os.environ[k] for k in PASSED_THROUGH if os.environ.get(k)})
    env.update(
        COGNITO_REGION="us-east-1",
        COGNITO_USER_POOL_ID="us-east-1_Bench1",
        COGNITO_CLIENT_ID=CLIENT_ID,
        COGNITO_CLIENT_SECRET=client_secret,
        COGNITO_ENDPOINT_URL=bench.upstream.url,
        AWS_CA_BUNDLE=str(cert.cert),
        SECRET_KEY=secrets.token_urlsafe(32),
        SIGNUP_CONFIG="config/signup.toml",
        SIGNUP_BIND=f"127.0.0.1:{emulator.free_port()}",
        SIGNUP_RATELIMIT_ENABLED="0",
        SIGNUP_MIN_FILL_SECONDS="0",
    )
    return env


def page_phase(bench: Bench, app: server.Gunicorn, label: str) -> report.Measured:
    def argv(seconds: float) -> list[str]:
        return load.command(bench.wrk, f"{app.url}/signup", "page.lua", seconds=seconds, threads=2, connections=USERS)

    bench.record(f"{label}, warm-up", load.run(argv(WARMUP_S)))
    measured = bench.measure(label, app, argv(PAGE_S))
    say(f"  {label}: {measured.result.requests_per_s:.0f} requests/s, p99 {measured.result.p99_ms:.1f} ms")
    return measured


def flow_phases(bench: Bench, app: server.Gunicorn) -> dict[int, report.Measured]:
    """Complete sign-ups at each upstream latency, measured in alternating slices.

    A shared virtual machine's speed drifts by tens of percent within minutes; measuring one latency
    after the other would credit that drift to the latency. Taking turns spreads it over both.
    """

    def argv(seconds: float, tag: str) -> list[str]:
        return load.command(
            bench.wrk, app.url, "signup.lua", seconds=seconds, threads=USERS, connections=USERS, args=(tag,)
        )

    slices: dict[int, list[report.Measured]] = {latency: [] for latency in LATENCIES_MS}
    for latency in LATENCIES_MS:
        bench.upstream.set_latency(latency)
        bench.record(f"sign-ups, {latency} ms upstream, warm-up", load.run(argv(WARMUP_S, f"w{latency}")))
    for turn in range(FLOW_ROUNDS):
        for latency in LATENCIES_MS:
            bench.upstream.set_latency(latency)
            label = f"sign-ups, {latency} ms upstream, slice {turn + 1} of {FLOW_ROUNDS}"
            slices[latency].append(bench.measure(label, app, argv(FLOW_SLICE_S, f"m{latency}-{turn}")))
    flows = {latency: report.combined(measured) for latency, measured in slices.items()}
    for latency, measured in flows.items():
        result = measured.result
        say(
            f"  {latency} ms upstream: {result.signups_per_s:.0f} sign-ups/s, "
            f"p50 {load.percentile(result.flow_ms, 50):.0f} ms, p99 {load.percentile(result.flow_ms, 99):.0f} ms"
        )
    return flows


def memory_phase(bench: Bench, app: server.Gunicorn) -> report.Memory:
    """Sign-ups at 0 ms latency until the app has served 10k, then 50k requests; RSS at each mark."""
    bench.upstream.set_latency(0)
    argv = load.command(
        bench.wrk, app.url, "signup.lua", seconds=MEMORY_LIMIT_S, threads=USERS, connections=USERS, args=("mem",)
    )
    process = load.start(argv)
    memory = report.Memory()
    try:
        for mark in MEMORY_MARKS:
            while (served := app.requests_served()) < mark and process.poll() is None:
                time.sleep(0.05)
            memory.marks.append((mark, served, app.worker_rss_kib()))
            say(f"  after {served} requests: worker RSS {sorted(memory.marks[-1][2].values())} KiB")
    except BaseException:
        process.kill()
        process.wait()
        raise
    result = load.finish(process, argv, early=True)
    bench.record(f"memory: sign-ups until {MEMORY_MARKS[-1]} requests", result)
    return memory


def profile_phase(env: dict[str, str]) -> dict[str, Any]:
    """The CPU split of the same steps, in-process, against the same stand-in."""
    answer = subprocess.run(
        [sys.executable, "-m", "bench.profile"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if answer.returncode != 0:
        say(f"  profile failed:\n{answer.stderr[-2000:]}")
        return {}
    return dict(json.loads(answer.stdout))


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return bytes(answer.read())


def run_app(bench: Bench, env: dict[str, str], stack: ExitStack) -> bytes:
    results = bench.results
    say("Starting the app under gunicorn")
    app = server.start("wsgi:app", env, bench.tmp / "app.log")
    stack.callback(app.stop)
    results.gunicorn = server.settings(env)
    results.app_start = report.Start(app.launch_to_ready_s, app.launch_to_workers_s, app.worker_fork_offsets_s())
    say(f"  answered /healthz {app.launch_to_ready_s:.2f} s after launch")
    page = fetch(f"{app.url}/signup")

    say(f"Memory: sign-ups until {MEMORY_MARKS[-1]} requests")
    results.memory = memory_phase(bench, app)
    say("GET /signup")
    results.page_app = page_phase(bench, app, "GET /signup, app")
    say(f"Complete sign-ups, {USERS} users, {' and '.join(map(str, LATENCIES_MS))} ms upstream latency in turns")
    results.flows = flow_phases(bench, app)
    results.memory.final = (app.requests_served(), app.worker_rss_kib())
    bench.upstream.set_latency(0)
    say("Profile of the same steps (in-process, cProfile)")
    results.profile = profile_phase(env)
    results.upstream_stats = bench.upstream.stats()
    app.stop()
    return page


def run_bare(bench: Bench, env: dict[str, str], page: bytes, stack: ExitStack) -> None:
    say("Starting the bare Flask app under the same gunicorn settings")
    page_file = bench.tmp / "signup.html"
    page_file.write_bytes(page)
    bare_env = {**env, "BENCH_BARE_PAGE": str(page_file), "SIGNUP_BIND": f"127.0.0.1:{emulator.free_port()}"}
    bare = server.start("bench.bare_app:app", bare_env, bench.tmp / "bare.log")
    stack.callback(bare.stop)
    bench.results.bare_start_s = bare.launch_to_ready_s
    if fetch(f"{bare.url}/signup") != page:
        raise RuntimeError("the bare app does not return the app's page byte for byte")
    bench.results.page_bare = page_phase(bench, bare, "GET /signup, bare Flask")
    bare.stop()


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupted)
    started = time.monotonic()
    wrk = load.ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="signup-bench-") as directory, ExitStack() as stack:
        tmp = Path(directory)
        cert = tls.self_signed(tmp)
        client_secret = secrets.token_urlsafe(32)
        say("Starting the Cognito stand-in")
        stand_in = upstream.Handle(
            port=emulator.free_port(),
            cert=str(cert.cert),
            key=str(cert.key),
            client_id=CLIENT_ID,
            client_secret=client_secret,
            log=str(tmp / "upstream.log"),
        )
        stack.callback(processes.stop, stand_in.process)
        stand_in.wait_until_up()
        bench = Bench(wrk=wrk, upstream=stand_in, tmp=tmp)
        env = app_environment(bench, cert, client_secret)
        try:
            page = run_app(bench, env, stack)
            run_bare(bench, env, page, stack)
        except Exception:
            for log in ("app.log", "bare.log", "upstream.log"):
                if (tmp / log).exists():
                    print(f"--- last lines of {log}:\n" + "\n".join((tmp / log).read_text().splitlines()[-30:]))
            raise
        results = bench.results
        results.machine = machine.describe(wrk)
        results.commands = machine.commands(env)
        results.wall_s = time.monotonic() - started
    text = report.render(results)
    OUTPUT.write_text(text)
    print("\n" + text)
    print(f"Written to {OUTPUT.relative_to(ROOT)}")
    return 0


def say(message: str) -> None:
    print(message, flush=True)


def _interrupted(signum: int, frame: object) -> NoReturn:
    raise KeyboardInterrupt


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\nInterrupted: every process the bench started has been stopped.", file=sys.stderr)
        sys.exit(130)
