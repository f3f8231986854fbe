"""`python -m bench.run`: the app under gunicorn on loopback, next to a bare Flask app; writes docs/BENCHMARKS.md.

Both run with the Procfile's command and gunicorn.conf.py against a Cognito stand-in on HTTPS
(bench/upstream.py); wrk drives them with bench/page.lua and bench/signup.lua. Whatever is
compared is measured in alternating slices, so a shared machine's drift in speed falls on both.
Then py-spy (`record --native --gil`) samples the workers under the same loads: docs/profiles/*.svg
and the table of where each request's CPU goes.
Last, Lighthouse loads the sign-up, code and done pages as a phone on slow 4G would (bench/pages.py).
`--quick` measures for a fraction of the time and writes nothing; `--no-profile` leaves py-spy out;
`--pages` measures the pages alone and rewrites only their part of BENCHMARKS.md. `--root DIR` runs
the app of another checkout (the same harness measuring, say, main's code), and `--before` writes
what it measured to bench/before.json, the *before* column, instead of BENCHMARKS.md (without
py-spy: the flame graphs stay the ones BENCHMARKS.md links to).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import flame, pages, tls, upstream
from bench.report import INSTRUCTIONS_HEADING, before_figures, report, revision
from local.emulator import free_port, wait_until_up
from local.procfile import web_command

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "bench"
DOCS = ROOT / "docs"
TICKS = os.sysconf("SC_CLK_TCK")
USERS = 64
CLIENT_ID = "benchclient"
MEMORY_MARKS = (10_000, 50_000)
PROFILE_RATE = 100


@dataclass
class Run:
    """One wrk run and the CPU the servers used meanwhile."""

    label: str
    seconds: float
    requests: int
    failed: int
    signups: int = 0
    cpu_s: float = 0.0  # gunicorn: master and workers, user + system
    system_s: float = 0.0
    machine_cores: float = 0.0  # the whole machine's busy cores meanwhile
    flow_ms: tuple[float, ...] = ()


class Gunicorn:
    """A WSGI app started as production starts it (the Procfile's command, gunicorn.conf.py)."""

    def __init__(
        self, target: str, env: dict[str, str], log: Path, root: Path = ROOT, prefix: tuple[str, ...] = ()
    ) -> None:
        self.port = free_port()
        launched = time.monotonic()
        with open(log, "wb") as output:
            self.process = subprocess.Popen(
                [*prefix, *web_command(app=target)],
                cwd=root,
                env={**env, "SIGNUP_BIND": f"127.0.0.1:{self.port}"},
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C reaches the harness only, which stops this in order
            )
        wait_until_up(f"{self.url}/healthz", self.process, timeout=600 if prefix else 60)
        self.start_s = time.monotonic() - launched

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and int(_stat(int(entry.name))[1]) == self.process.pid:
                    pids.append(int(entry.name))
            except (OSError, IndexError):
                continue
        return sorted(pids)

    def cpu(self) -> tuple[float, float]:
        """(user + system, system) CPU seconds of the master and its workers."""
        total = system = 0
        for pid in (self.process.pid, *self.workers()):
            try:
                fields = _stat(pid)
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
            system += int(fields[12])
        return total / TICKS, system / TICKS

    def worker_rss_mib(self) -> list[float]:
        return [_rss_kib(pid) / 1024 for pid in self.workers()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _stat(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()  # fields from the third on: [1] is the parent


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _machine_busy() -> tuple[int, int]:
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return sum(values) - values[3] - values[4], sum(values)


def wrk(label: str, server: Gunicorn, script: str, seconds: float, *args: str, users: int = USERS) -> Run:
    """Run wrk with one of the Lua scripts; page.lua shares two threads, signup.lua needs one per user."""
    threads = users if script == "signup.lua" else min(2, users)
    path = "/signup" if script == "page.lua" else ""
    argv = ["wrk", f"-t{threads}", f"-c{users}", f"-d{seconds:g}s", "--timeout=10s", "-s", str(HERE / script)]
    cpu, system, machine = *server.cpu(), _machine_busy()
    output = subprocess.run([*argv, server.url + path, "--", *args], capture_output=True, text=True, check=True).stdout
    cpu_after, system_after = server.cpu()
    busy, total = (now - before for now, before in zip(_machine_busy(), machine, strict=True))
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    data = json.loads(line.removeprefix("BENCH "))
    failed = sum(data[key] for key in ("connect", "read", "write", "timeout", "status")) + data.get("unexpected", 0)
    return Run(
        label,
        data["duration_us"] / 1e6,
        data["requests"],
        failed,
        data.get("completed", 0),
        cpu_after - cpu,
        system_after - system,
        busy / max(total, 1) * (os.cpu_count() or 1),
        tuple(data.get("flow_ms", ())),
    )


def sum_runs(label: str, runs: list[Run]) -> Run:
    return Run(
        label,
        sum(r.seconds for r in runs),
        sum(r.requests for r in runs),
        sum(r.failed for r in runs),
        sum(r.signups for r in runs),
        sum(r.cpu_s for r in runs),
        sum(r.system_s for r in runs),
        sum(r.machine_cores * r.seconds for r in runs) / max(sum(r.seconds for r in runs), 1e-9),
        tuple(ms for r in runs for ms in r.flow_ms),
    )


def profile(name: str, server: Gunicorn, script: str, seconds: float, out: Path, *args: str) -> dict[str, Any]:
    """py-spy on every worker while wrk runs: the samples of whichever thread holds each worker's GIL."""
    raw = out / f"{name}.txt"
    spy = subprocess.Popen(
        [
            _py_spy(),
            "record",
            "--native",
            "--gil",
            "--subprocesses",
            f"--rate={PROFILE_RATE}",
            "--format=raw",
            f"--duration={seconds + 1:g}",
            f"--output={raw}",
            f"--pid={server.process.pid}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.5)  # attached before the load starts
    run = wrk(f"profile: {name}", server, script, seconds, *args)
    _, errors = spy.communicate()
    stacks = flame.read(raw)
    raw.unlink()
    (out / f"{name}.svg").write_text(flame.svg(stacks, f"{name}: py-spy record --native --gil"))
    return {"run": run, "split": flame.split(stacks), "behind": "behind in sampling" in errors}


def _py_spy() -> str:
    found = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if found is None:
        raise SystemExit("The bench needs py-spy: `make bench` installs it (pip install py-spy).")
    return found


class Bench:
    """The servers of one run and everything measured so far."""

    def __init__(
        self,
        tmp: Path,
        stack: ExitStack,
        quick: bool,
        root: Path = ROOT,
        bare: bool = True,
        *,
        prefix: tuple[str, ...] = (),
    ) -> None:
        self.tmp, self.quick = tmp, quick
        self.slice_s, self.rounds = (3, 2) if quick else (5, 4)
        self.results: dict[str, Any] = {"load": os.getloadavg()}
        self.runs: list[Run] = []
        cert = tls.self_signed(tmp)
        secret = secrets.token_urlsafe(32)
        self.stand_in = upstream.Handle(
            port=free_port(), cert=str(cert.cert), key=str(cert.key), client_id=CLIENT_ID, client_secret=secret,
            log=str(tmp / "upstream.log"),
        )  # fmt: skip
        stack.callback(_stop, self.stand_in.process)
        self.stand_in.wait_until_up()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("COGNITO_", "SIGNUP_", "AWS_"))}
        env.update({k: os.environ[k] for k in ("SIGNUP_WORKERS", "SIGNUP_THREADS") if k in os.environ})
        env.update(
            COGNITO_REGION="us-east-1",
            COGNITO_USER_POOL_ID="us-east-1_Bench1",
            COGNITO_CLIENT_ID=CLIENT_ID,
            COGNITO_CLIENT_SECRET=secret,
            COGNITO_ENDPOINT_URL=self.stand_in.url,
            AWS_CA_BUNDLE=str(cert.cert),
            SECRET_KEY=secrets.token_urlsafe(32),
            SIGNUP_CONFIG="config/signup.toml",
            SIGNUP_RATELIMIT_ENABLED="0",  # every sign-up comes from one address...
            SIGNUP_MIN_FILL_SECONDS="0",  # ...within milliseconds of the form,
            # and with no pause between them, 64 browsers keep nearly every thread waiting on Cognito,
            # which the bulkhead would refuse in part, by design (tests/test_faults.py): the bench
            # measures what a sign-up costs, so every thread may call Cognito.
            SIGNUP_COGNITO_MAX_IN_FLIGHT=os.environ.get("SIGNUP_THREADS", "32"),
        )
        self.app = Gunicorn("wsgi:app", env, tmp / "app.log", root, prefix)
        stack.callback(self.app.stop)
        self.results.update(start_s=self.app.start_s)
        if not bare:
            return
        # The page as it leaves the app, before any compression: what a bare Flask app would send.
        with urllib.request.urlopen(f"{self.app.url}/signup", timeout=10) as answer:
            (tmp / "signup.html").write_bytes(answer.read())
        self.bare = Gunicorn(
            "bench.bare_app:app", {**env, "BENCH_BARE_PAGE": str(tmp / "signup.html")}, tmp / "bare.log"
        )
        stack.callback(self.bare.stop)
        self.results.update(bare_start_s=self.bare.start_s, settings=_settings(env, tmp))

    def wrk(self, label: str, server: Gunicorn, script: str, seconds: float, *args: str) -> Run:
        self.runs.append(run := wrk(label, server, script, seconds, *args))
        return run

    def signups_and_memory(self) -> None:
        """Sign-ups at 0 and 100 ms upstream in turns, until the app has served the memory marks."""
        marks = (2_000, 5_000) if self.quick else MEMORY_MARKS
        flows: dict[int, list[Run]] = {0: [], 100: []}
        rss: list[tuple[int, list[float]]] = []
        served = n = 0
        while len(rss) < len(marks) or n < 2 * self.rounds + 2:
            latency = (0, 100)[n % 2]
            self.stand_in.set_latency(latency)
            label = f"sign-ups, {latency} ms upstream, slice {n // 2 + 1}" + (", warm-up" if n < 2 else "")
            run = self.wrk(label, self.app, "signup.lua", self.slice_s, f"s{n}")
            if n >= 2:
                flows[latency].append(run)
            served += run.requests
            if len(rss) < len(marks) and served >= marks[len(rss)]:
                rss.append((served, self.app.worker_rss_mib()))
            n += 1
            say(f"  {run.label}: {run.signups / run.seconds:.0f} sign-ups/s, {served} requests so far")
        self.stand_in.set_latency(0)
        self.results["flows"] = {latency: sum_runs(f"{latency} ms", slices) for latency, slices in flows.items()}
        self.results["rss"] = rss

    def pages(self) -> None:
        """GET /signup from the app and from the bare app, in turns."""
        pages: dict[str, list[Run]] = {"app": [], "bare": []}
        servers = (("app", self.app), ("bare", self.bare))
        for name, server in servers:
            self.wrk(f"GET /signup, {name}, warm-up", server, "page.lua", 3)
        for turn in range(self.rounds):
            for name, server in servers:
                run = self.wrk(f"GET /signup, {name}, slice {turn + 1}", server, "page.lua", self.slice_s)
                pages[name].append(run)
                say(f"  {run.label}: {run.requests / run.seconds:.0f} requests/s")
        self.results["pages"] = {name: sum_runs(name, slices) for name, slices in pages.items()}

    def profiles(self) -> None:
        out = self.tmp if self.quick else DOCS / "profiles"
        out.mkdir(exist_ok=True)
        seconds = self.slice_s * 2
        self.results["profiles"] = profiles = {
            "app-get-signup": profile("app-get-signup", self.app, "page.lua", seconds, out),
            "bare-get-signup": profile("bare-get-signup", self.bare, "page.lua", seconds, out),
            "app-signup": profile("app-signup", self.app, "signup.lua", seconds, out, "p"),
        }
        self.runs.extend(p["run"] for p in profiles.values())


def measure(quick: bool, root: Path, profiled: bool = True) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="signup-bench-") as directory, ExitStack() as stack:
        bench = Bench(Path(directory), stack, quick, root)
        say("Sign-ups at 0 and 100 ms upstream, in turns, until the app has served 50k requests")
        bench.signups_and_memory()
        say("GET /signup, the app and the bare app in turns")
        bench.pages()
        if profiled:
            say("Profiles: py-spy record --native --gil")
            bench.profiles()
        bench.results.update(runs=bench.runs, stand_in=bench.stand_in.stats())
        say("Pages: Lighthouse, mobile, slow 4G")
        bench.results["lighthouse"] = pages.measure(bench.app.url, runs=1 if quick else pages.RUNS, say=say)
        return bench.results


def measure_pages(root: Path) -> dict[str, Any]:
    """Lighthouse alone, against the app and its Cognito stand-in."""
    with tempfile.TemporaryDirectory(prefix="signup-bench-") as directory, ExitStack() as stack:
        bench = Bench(Path(directory), stack, quick=False, root=root, bare=False)
        say("Pages: Lighthouse, mobile, slow 4G")
        return pages.measure(bench.app.url, say=say)


def _settings(env: dict[str, str], tmp: Path) -> str:
    """Workers, threads and keep-alive as gunicorn.conf.py sets them under this environment."""
    code = "import runpy; c = runpy.run_path('gunicorn.conf.py'); print(c['workers'], c['threads'], c['keepalive'])"
    env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(tmp / "settings")}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    workers, threads, keepalive = out.stdout.split()
    return f"{workers} workers × {threads} threads (gthread), keep-alive {keepalive} s"


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=10)


def say(message: str) -> None:
    print(message, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run that writes nothing")
    parser.add_argument("--no-profile", action="store_true", help="leave py-spy out")
    parser.add_argument("--pages", action="store_true", help="Lighthouse alone; rewrites only its section")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose app is measured")
    parser.add_argument("--before", action="store_true", help="write bench/before.json, not BENCHMARKS.md")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    started = time.monotonic()
    before = json.loads((HERE / "before.json").read_text())
    if args.pages:
        results = measure_pages(args.root.resolve())
        if args.before:
            measured = {"lighthouse": results, "load": results["load"]}
            before["pages"] = before_figures(measured, revision(args.root))["pages"]
            (HERE / "before.json").write_text(json.dumps(before, indent=2, ensure_ascii=False) + "\n")
        else:
            text = pages.splice((DOCS / "BENCHMARKS.md").read_text(), pages.section(results, before.get("pages")))
            (DOCS / "BENCHMARKS.md").write_text(text)
        print("\n".join(pages.section(results, before.get("pages"))))
        return 0
    if shutil.which("wrk") is None:
        raise SystemExit("The bench needs wrk: apt-get install wrk (make bench does).")
    results = measure(args.quick, args.root.resolve(), profiled=not (args.no_profile or args.before))
    results["minutes"] = (time.monotonic() - started) / 60
    if args.before:
        (HERE / "before.json").write_text(
            json.dumps(before_figures(results, revision(args.root)), indent=2, ensure_ascii=False) + "\n"
        )
        return 0
    results["before"] = before
    text = report(results)
    if not args.quick:
        # The instructions' section, last in the file, is bench.instructions' to rewrite (make bench runs it next).
        previous = (DOCS / "BENCHMARKS.md").read_text()
        if (kept := previous.find(INSTRUCTIONS_HEADING)) >= 0:
            text = text.rstrip("\n") + "\n\n" + previous[kept:]
        (DOCS / "BENCHMARKS.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
