"""docs/BENCHMARKS.md from one run's measurements: figures, targets met or missed, and why.

Every sentence that explains a missed target is built from figures of the same run (CPU per
request, who had the cores, the profile), so the document never claims what was not measured.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from bench import cpu, load

PAGE_RATIO_TARGET = 0.5
FLOW_RATIO_TARGET = 0.8
FLOW_RATE_TARGET = 300
MEMORY_GROWTH_TARGET = 10.0  # percent
CPU_COLUMN = "CPU cores: gunicorn / stand-in / wrk / other (machine)"


@dataclass
class Measured:
    result: load.Result
    cpu: dict[str, float]  # cores busy by party (see bench/cpu.py)

    def gunicorn_cpu_ms(self, per: int) -> float:
        """Milliseconds of gunicorn CPU (master and workers) per `per` (requests or sign-ups)."""
        return self.cpu["gunicorn"] * self.result.seconds / max(1, per) * 1000

    def cores(self) -> str:
        c = self.cpu
        return (
            f"{c['gunicorn']:.2f} / {c['stand-in']:.2f} / {c['wrk']:.2f} / {c['other']:.2f} "
            f"({c['machine']:.2f} of {cpu.CORES})"
        )


def combined(slices: list[Measured]) -> Measured:
    """One measurement out of several slices of the same load: totals add up, CPU is time-weighted.

    Per-request percentiles come from wrk per slice: the middle slice's median and the worst slice's
    99th percentile stand for the whole (per sign-up figures use every sign-up's own time).
    """
    results = [s.result for s in slices]
    seconds = sum(r.seconds for r in results)
    result = load.Result(
        command=f"{results[0].command} (× {len(results)} slices)",
        seconds=seconds,
        requests=sum(r.requests for r in results),
        p50_ms=sorted(r.p50_ms for r in results)[len(results) // 2],
        p99_ms=max(r.p99_ms for r in results),
        socket_errors=sum(r.socket_errors for r in results),
        bad_status=sum(r.bad_status for r in results),
        unexpected=sum(r.unexpected for r in results),
        completed=sum(r.completed for r in results),
        flow_ms=[ms for r in results for ms in r.flow_ms],
    )
    cores = {party: sum(s.cpu[party] * s.result.seconds for s in slices) / seconds for party in slices[0].cpu}
    return Measured(result=result, cpu=cores)


@dataclass
class Start:
    launch_to_ready_s: float
    launch_to_workers_s: float
    fork_offsets_s: list[float]


@dataclass
class Memory:
    marks: list[tuple[int, int, dict[int, int]]] = field(default_factory=list)  # (mark, served, RSS KiB by pid)
    final: tuple[int, dict[int, int]] | None = None  # (served, RSS KiB by pid) after every phase

    @property
    def reached(self) -> bool:
        """Whether the load reached every mark before the harness gave up."""
        return len(self.marks) >= 2 and all(served >= mark for mark, served, _ in self.marks)

    @property
    def span(self) -> str:
        """The marks as the targets name them: "10k to 50k requests"."""
        return " to ".join(f"{mark // 1000}k" for mark, _, _ in self.marks) + " requests"

    def growth(self) -> tuple[dict[int, float | None], float | None]:
        """Growth (%) from the first mark to the last, per worker (None if it was replaced) and in total."""
        if len(self.marks) < 2:
            return {}, None
        first, last = self.marks[0][2], self.marks[-1][2]
        per_worker = {pid: (last[pid] / kib - 1) * 100 if pid in last else None for pid, kib in first.items()}
        total = (sum(last.values()) / max(1, sum(first.values())) - 1) * 100
        return per_worker, total


@dataclass
class Results:
    users: int = 0
    warmup_s: float = 0
    machine: dict[str, str] = field(default_factory=dict)
    commands: dict[str, str] = field(default_factory=dict)
    gunicorn: dict[str, Any] = field(default_factory=dict)
    app_start: Start | None = None
    bare_start_s: float = 0.0
    memory: Memory = field(default_factory=Memory)
    page_app: Measured | None = None
    page_bare: Measured | None = None
    flows: dict[int, Measured] = field(default_factory=dict)  # by added upstream latency, ms
    profile: dict[str, Any] = field(default_factory=dict)
    upstream_stats: dict[str, Any] = field(default_factory=dict)
    runs: list[tuple[str, load.Result]] = field(default_factory=list)
    wall_s: float = 0.0


@dataclass(frozen=True)
class Verdicts:
    """The figures the targets name, and whether each target was met."""

    app: Measured  # GET /signup
    bare: Measured
    fast: Measured  # sign-ups at the lowest latency (0 ms)
    slow: Measured  # sign-ups at the highest (100 ms)
    slow_latency_ms: int
    failures: int
    requests: int
    growth: float | None  # all workers, %
    per_worker: dict[int, float | None]
    memory_reached: bool

    @property
    def page_ratio(self) -> float:
        return self.app.result.requests_per_s / max(self.bare.result.requests_per_s, 1e-9)

    @property
    def flow_ratio(self) -> float:
        return self.slow.result.signups_per_s / max(self.fast.result.signups_per_s, 1e-9)

    @property
    def page_met(self) -> bool:
        return self.page_ratio >= PAGE_RATIO_TARGET

    @property
    def flow_ratio_met(self) -> bool:
        return self.flow_ratio >= FLOW_RATIO_TARGET

    @property
    def flow_rate_met(self) -> bool:
        return self.slow.result.signups_per_s >= FLOW_RATE_TARGET

    @property
    def memory_met(self) -> bool:
        return (
            self.memory_reached
            and self.growth is not None
            and self.growth < MEMORY_GROWTH_TARGET
            and all(g is not None and g < MEMORY_GROWTH_TARGET for g in self.per_worker.values())
        )


def verdicts(r: Results) -> Verdicts:
    if r.page_app is None or r.page_bare is None or len(r.flows) < 2:
        raise ValueError("the run is incomplete: no report without every measurement")
    per_worker, growth = r.memory.growth()
    return Verdicts(
        app=r.page_app,
        bare=r.page_bare,
        fast=r.flows[min(r.flows)],
        slow=r.flows[max(r.flows)],
        slow_latency_ms=max(r.flows),
        failures=sum(result.failures for _, result in r.runs),
        requests=sum(result.requests for _, result in r.runs),
        growth=growth,
        per_worker=per_worker,
        memory_reached=r.memory.reached,
    )


def render(r: Results) -> str:
    """The whole document."""
    v = verdicts(r)
    sections = (
        _introduction(r),
        _targets(r, v),
        _why(r, v),
        _page(r, v),
        _flows(r, v),
        _memory(r, v),
        _start(r),
        _profile(r.profile),
        _runs(r, v),
        _machine(r),
        _method(r, v),
    )
    return "\n".join(line for section in sections for line in section).rstrip() + "\n"


def _ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def _verdict(met: bool) -> str:
    return "**met**" if met else "**missed**"


def _short(value: float, target: float) -> str:
    return f"{(1 - value / target) * 100:.0f} % short of {target:g}"


def _introduction(r: Results) -> list[str]:
    return [
        "# Benchmarks\n",
        f"Measured by `{r.commands['bench']}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
        f"(the run took {r.wall_s / 60:.1f} minutes). Every run rewrites this file; all figures below come from "
        f"that one run, on the machine described at the end. Everything runs on loopback on one machine with "
        f"{cpu.CORES} cores, shared by the app, the Cognito stand-in and the load generator; the *CPU* columns "
        "say who had the cores (cores busy during the measurement: gunicorn / stand-in / wrk / other processes, "
        "and the whole machine), so a run disturbed by other work on the machine shows it.\n",
    ]


def _targets(r: Results, v: Verdicts) -> list[str]:
    slow, fast = v.slow.result, v.fast.result
    growth = f"{v.growth:+.1f} % (all workers)" if v.growth is not None else "not measured"
    return [
        "## Targets\n",
        "| Target | Measured | Result |",
        "|---|---|---|",
        f"| GET /signup ≥ {PAGE_RATIO_TARGET} × bare Flask | {v.page_ratio:.2f} × "
        f"({v.app.result.requests_per_s:.0f} vs {v.bare.result.requests_per_s:.0f} requests/s) "
        f"| {_verdict(v.page_met)} |",
        f"| Sign-ups/s at {v.slow_latency_ms} ms ≥ {FLOW_RATIO_TARGET} × at 0 ms | {v.flow_ratio:.2f} × "
        f"({slow.signups_per_s:.0f} vs {fast.signups_per_s:.0f}/s) | {_verdict(v.flow_ratio_met)} |",
        f"| Sign-ups/s at {v.slow_latency_ms} ms ≥ {FLOW_RATE_TARGET} | {slow.signups_per_s:.0f}/s "
        f"| {_verdict(v.flow_rate_met)} |",
        f"| No failed request | {v.failures} failed of {v.requests} (every run, warm-ups included) "
        f"| {_verdict(v.failures == 0)} |",
        f"| Memory growth < {MEMORY_GROWTH_TARGET:g} % from {r.memory.span} | {growth} | {_verdict(v.memory_met)} |",
        "",
    ]


def _why(r: Results, v: Verdicts) -> list[str]:
    """One paragraph per missed target: by how much, and the measured reason."""
    lines = [*_why_page(r, v), *_why_flows(r, v)]
    if v.failures:
        bad = ", ".join(f"{label}: {result.failures}" for label, result in r.runs if result.failures)
        lines.append(f"- **Failed requests**: {v.failures} ({bad}); the table of every run below gives their kind.")
    if v.growth is None or not v.memory_reached:
        lines.append(
            "- **Memory**: the load did not reach every mark in the time the harness allows (see the memory "
            "section), so the growth the target asks about was not measured."
        )
    elif not v.memory_met:
        worst = max((g for g in v.per_worker.values() if g is not None), default=v.growth)
        lines.append(
            f"- **Memory** grew {v.growth:+.1f} % in total (worst worker {worst:+.1f} %) from {r.memory.span}; "
            "a worker marked *replaced* was restarted by gunicorn during the run."
        )
    return ["### Why targets were missed\n", *lines, ""] if lines else []


def _why_page(r: Results, v: Verdicts) -> list[str]:
    if v.page_met:
        return []
    app, bare = v.app, v.bare
    app_ms, bare_ms = app.gunicorn_cpu_ms(app.result.requests), bare.gunicorn_cpu_ms(bare.result.requests)
    bound = min(app.cpu["machine"], bare.cpu["machine"]) >= 0.9 * cpu.CORES
    text = (
        f"- **GET /signup** reached {v.page_ratio:.2f} × bare Flask, {_short(v.page_ratio, PAGE_RATIO_TARGET)} × "
        f"(it needed {PAGE_RATIO_TARGET * bare.result.requests_per_s:.0f} requests/s and served "
        f"{app.result.requests_per_s:.0f}). The machine had {app.cpu['machine']:.2f} and {bare.cpu['machine']:.2f} "
        f"of its {cpu.CORES} cores busy during the two runs{' (both bound by CPU)' if bound else ''}, of which "
        f"gunicorn had {app.cpu['gunicorn']:.2f} and {bare.cpu['gunicorn']:.2f} and other processes "
        f"{app.cpu['other']:.2f} and {bare.cpu['other']:.2f}. The figure that does not depend on that sharing is "
        f"the CPU per request: gunicorn spent {app_ms:.2f} ms per request for the app against {bare_ms:.2f} ms for "
        f"the bare app serving the same bytes, {app_ms / max(bare_ms, 1e-9):.1f} × the work per page; wherever "
        f"both are bound by CPU the app can serve about {bare_ms / max(app_ms, 1e-9):.2f} × what bare Flask does."
    )
    page = r.profile.get("page")
    if page:
        rendering = next((share for name, share in page["parts"].items() if name.startswith("render")), 0.0)
        text += (
            f" In-process the app spends {page['cpu_ms_per_round']:.2f} ms of CPU per GET /signup "
            f"({rendering * 100:.0f} % of it rendering: the untouched form is rendered once per language and reused); "
            f"the other {max(app_ms - page['cpu_ms_per_round'], 0):.2f} ms are gunicorn's HTTP handling and its "
            f"threads' turns at Python's GIL, which the bare app pays too ({bare_ms:.2f} ms in all): see "
            "*Where the CPU goes*."
        )
    return [text]


def _why_flows(r: Results, v: Verdicts) -> list[str]:
    if v.flow_rate_met and v.flow_ratio_met:
        return []
    slow, fast, latency = v.slow, v.fast, v.slow_latency_ms
    per_signup = fast.gunicorn_cpu_ms(fast.result.completed)
    workers, threads = r.gunicorn.get("workers") or 0, r.gunicorn.get("threads") or 0
    text = f"- **Sign-ups at {latency} ms**: {slow.result.signups_per_s:.0f}/s"
    if not v.flow_rate_met:
        text += f", {_short(slow.result.signups_per_s, FLOW_RATE_TARGET)}/s"
    text += f"; {v.flow_ratio:.2f} × the 0 ms figure" + (
        "" if v.flow_ratio_met else f", short of {FLOW_RATIO_TARGET} ×"
    )
    text += (
        f". A complete sign-up (three requests) cost {per_signup:.1f} ms of gunicorn CPU at 0 ms, so even with "
        f"the machine's {cpu.CORES} cores to itself and nothing else running, the app could not pass about "
        f"{cpu.CORES * 1000 / per_signup:.0f} sign-ups/s; here it shares them with the stand-in and wrk (CPU "
        f"columns). The added latency itself is not the limit: {r.users} users each waiting {latency} ms per "
        f"sign-up allow {r.users * 1000 / latency:.0f}/s, and {workers * threads} gunicorn threads ({workers} "
        f"workers × {threads}) each holding a call for {latency} ms allow {workers * threads * 1000 / latency:.0f} "
        "calls/s."
    )
    if not v.flow_ratio_met:
        text += (
            f" Between the 0 ms and the {latency} ms runs gunicorn had {fast.cpu['gunicorn']:.2f} and then "
            f"{slow.cpu['gunicorn']:.2f} cores while other processes on the machine took {fast.cpu['other']:.2f} and "
            f"then {slow.cpu['other']:.2f}, and a sign-up cost {per_signup:.1f} and then "
            f"{slow.gunicorn_cpu_ms(slow.result.completed):.1f} ms of gunicorn CPU. Where gunicorn had fewer cores in "
            "the second run, the drop measures the sharing of the machine more than the latency: rerun on an idle "
            "machine to tell them apart."
        )
    return [text]


def _page(r: Results, v: Verdicts) -> list[str]:
    lines = [
        "## GET /signup: the app next to bare Flask\n",
        f"{r.users} keep-alive connections, each GET without a cookie (a first visit), for "
        f"{v.app.result.seconds:.0f} s after a {r.warmup_s:g} s warm-up. The bare app (`bench/bare_app.py`) returns "
        "the bytes of the app's page, captured once, under the same `gunicorn.conf.py` and the same environment.\n",
        f"| | Requests/s | p50 ms | p99 ms | Requests | Failed | gunicorn CPU per request | {CPU_COLUMN} |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, measured in (("App", v.app), ("Bare Flask", v.bare)):
        res = measured.result
        lines.append(
            f"| {name} | {res.requests_per_s:.0f} | {_ms(res.p50_ms)} | {_ms(res.p99_ms)} | {res.requests} "
            f"| {res.failures} | {measured.gunicorn_cpu_ms(res.requests):.2f} ms | {measured.cores()} |"
        )
    return [*lines, f"\nRatio app / bare: **{v.page_ratio:.2f}**.\n"]


def _flows(r: Results, v: Verdicts) -> list[str]:
    lines = [
        f"## Complete sign-ups, {r.users} concurrent users\n",
        "Each user is one keep-alive connection doing what a browser does: GET /signup, POST the form with every "
        "input the page holds (CSRF token and other hidden inputs) and the session cookie, with a new username each "
        "time (`user-<run>-<user>-<n>@example.com`), then GET the redirect's target (/signup/confirm). A sign-up "
        "counts when that page answers 200; its latency runs from sending the first GET to receiving the confirm "
        "page. The Cognito stand-in waits the latency shown before answering each call. Each row measures "
        f"{v.fast.result.seconds:.0f} s after a {r.warmup_s:g} s warm-up, in slices of a few seconds taken in turns "
        "with the other latency, so that the machine's drift in speed affects both rows alike. Per-request "
        "percentiles are the middle slice's median and the worst slice's 99th percentile.\n",
        "| Upstream latency | Sign-ups/s | p50 ms per sign-up | p99 ms per sign-up | Requests/s | p50 / p99 ms "
        f"per request | Failed | gunicorn CPU per sign-up | {CPU_COLUMN} |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for latency, measured in sorted(r.flows.items()):
        res = measured.result
        lines.append(
            f"| {latency} ms | {res.signups_per_s:.0f} | {_ms(load.percentile(res.flow_ms, 50))} "
            f"| {_ms(load.percentile(res.flow_ms, 99))} | {res.requests_per_s:.0f} | {_ms(res.p50_ms)} / "
            f"{_ms(res.p99_ms)} | {res.failures} | {measured.gunicorn_cpu_ms(res.completed):.1f} ms "
            f"| {measured.cores()} |"
        )
    return [*lines, f"\nRatio {v.slow_latency_ms} ms / 0 ms: **{v.flow_ratio:.2f}**.\n"]


def _memory(r: Results, v: Verdicts) -> list[str]:
    memory = r.memory
    lines = [
        "## Memory\n",
        "Resident memory (VmRSS from /proc/<pid>/status) of each gunicorn worker (the master's children), read "
        "while sign-ups run at 0 ms upstream latency, as soon as the app's request log reaches each count (which "
        "includes the few requests made after start-up). This is the first load the app gets after starting.\n",
    ]
    if not memory.marks:
        return [*lines, "Not measured.\n"]
    columns = [f"After {served} requests" for _, served, _ in memory.marks] + ["Growth"]
    if memory.final:
        columns.append(f"After the whole run ({memory.final[0]} requests)")
    lines += ["| Worker | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    snapshots = [rss for _, _, rss in memory.marks] + ([memory.final[1]] if memory.final else [])
    for pid in memory.marks[0][2]:
        cells = [f"{rss[pid] / 1024:.1f} MiB" if pid in rss else "replaced" for rss in snapshots]
        growth = v.per_worker.get(pid)
        cells.insert(len(memory.marks), f"{growth:+.1f} %" if growth is not None else "replaced")
        lines.append(f"| {pid} | " + " | ".join(cells) + " |")
    totals = [f"{sum(rss.values()) / 1024:.1f} MiB" for rss in snapshots]
    totals.insert(len(memory.marks), f"{v.growth:+.1f} %" if v.growth is not None else "-")
    return [*lines, "| All workers | " + " | ".join(totals) + " |", ""]


def _start(r: Results) -> list[str]:
    start = r.app_start
    if start is None:
        return []
    offsets = ", ".join(f"{o:.2f} s" for o in start.fork_offsets_s)
    return [
        "## Start-up\n",
        f"- From launching the Procfile's command until `/healthz` answered: **{start.launch_to_ready_s:.2f} s** "
        f"(the bare Flask app under the same settings: {r.bare_start_s:.2f} s); until all "
        f"{len(start.fork_offsets_s)} workers had been forked: {start.launch_to_workers_s:.2f} s.",
        f"- The workers were forked {offsets} after the master process started (from /proc, 10 ms resolution). "
        "With `preload_app` the master imports and builds the app once before forking, which is where the start-up "
        "time goes, and a worker that gunicorn replaces later starts without it.",
        "",
    ]


def _profile(profile: dict[str, Any]) -> list[str]:
    if not profile:
        return ["## Where the CPU goes\n", "The profile did not run (see the harness's output).\n"]
    lines = [
        "## Where the CPU goes\n",
        "`bench/profile.py` drives the same steps in one process through Flask's test client, against the same "
        "stand-in, with the same settings. *CPU per round* is the app's own CPU time inside its WSGI callable "
        "(no gunicorn or HTTP parsing), unprofiled; the split comes from a second, profiled pass "
        "(cProfile on CPU time) and uses the cumulative time of library functions, so the parts do not overlap.\n",
        "| | GET /signup | Complete sign-up (3 requests) |",
        "|---|---|---|",
        f"| CPU per round | {profile['page']['cpu_ms_per_round']:.2f} ms "
        f"| {profile['flow']['cpu_ms_per_round']:.2f} ms |",
    ]
    for name, share in profile["page"]["parts"].items():
        lines.append(f"| {name} | {share * 100:.0f} % | {profile['flow']['parts'].get(name, 0.0) * 100:.0f} % |")
    return [*lines, ""]


def _runs(r: Results, v: Verdicts) -> list[str]:
    lines = [
        "## Every load run\n",
        "A failed request is a socket error (connect, read, write, or no answer within 10 s), an answer other than "
        "2xx/3xx, or, in a sign-up, a 2xx/3xx answer that is not the next step.\n",
        "| Run | Seconds | Requests | Sign-ups | Socket errors | Not 2xx/3xx | Wrong step | Command |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, res in r.runs:
        lines.append(
            f"| {label} | {res.seconds:.1f} | {res.requests} | {res.completed or '-'} | {res.socket_errors} "
            f"| {res.bad_status} | {res.unexpected} | `{res.command}` |"
        )
    calls = r.upstream_stats.get("calls", {})
    refused = {name: count for name, count in calls.items() if ":" in name}
    answered = ", ".join(f"{name} {count}" for name, count in sorted(calls.items())) or "none"
    verdict = (
        "none refused: every SecretHash verified and every username was new."
        if not refused
        else "refused: " + ", ".join(f"{name} {count}" for name, count in refused.items()) + "."
    )
    return [
        *lines,
        f"\nTotal failed: **{v.failures}**. The Cognito stand-in answered {sum(calls.values())} calls "
        f"({answered}); {verdict} The memory run was started with a long duration and stopped with SIGINT once "
        "gunicorn had logged enough requests.\n",
    ]


def _machine(r: Results) -> list[str]:
    g = r.gunicorn
    return [
        "## Machine and settings\n",
        "| | |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in r.machine.items()),
        f"| gunicorn | {g.get('workers')} workers × {g.get('threads')} threads ({g.get('worker_class')}), "
        f"keepalive {g.get('keepalive')} s, timeout {g.get('timeout')} s, preload_app {g.get('preload_app')}, "
        "JSON log lines (one per request) on standard output (a file here); all from `gunicorn.conf.py` |",
        "",
        "## Commands\n",
        "From the project root. `<tmp>` is a temporary directory the bench removes afterwards; every port is a "
        "free one the kernel chose. The wrk command of each load run is in the table of every run above.\n",
        "```sh",
        f"# all of the below, in order, then this file:\n{r.commands['bench']}",
        f"# the Cognito stand-in (HTTPS, certificate made with openssl for the run):\n{r.commands['stand-in']}",
        f"# the app:\n{r.commands['app']}",
        f"# the bare Flask app:\n{r.commands['bare']}",
        f"# the CPU profile:\n{r.commands['profile']}",
        "```\n",
    ]


def _method(r: Results, v: Verdicts) -> list[str]:
    wrk = max(measured.cpu["wrk"] for measured in (v.fast, v.slow, v.app, v.bare))
    return [
        "## How the harness works\n",
        "- `bench/upstream.py` stands in for Cognito: asyncio in its own process, HTTPS with a certificate made for "
        "the run (the app trusts it through `AWS_CA_BUNDLE`), HTTP/1.1 keep-alive, the JSON 1.1 protocol dispatched "
        "on `X-Amz-Target` for SignUp, ConfirmSignUp and ResendConfirmationCode. It checks the SecretHash and "
        "refuses a username it has seen, as Cognito does, and waits a fixed latency before each answer.",
        "- The app runs as production runs it, with the Procfile's command and `gunicorn.conf.py`, with rate "
        "limits and the minimum time-to-fill check turned off (`SIGNUP_RATELIMIT_ENABLED=0`, "
        "`SIGNUP_MIN_FILL_SECONDS=0`), "
        "since every sign-up comes from one address within milliseconds of the form.",
        "- The load generator is wrk (C and LuaJIT) with `bench/page.lua` and `bench/signup.lua`. On a machine "
        f"whose {cpu.CORES} cores it shares with the app it must cost little: it used at most {wrk:.2f} cores "
        "in the measured runs. `signup.lua` runs one wrk thread per user, because wrk does not tell a script which "
        "connection an answer belongs to.",
        "- Rerun on an otherwise idle machine: the *other* CPU column shows how idle it was. Workers and threads "
        "come from `gunicorn.conf.py` (one worker per CPU, 32 threads, by default); `SIGNUP_WORKERS` and "
        "`SIGNUP_THREADS` set in the bench's environment are passed on, and the settings table shows what ran.",
        "",
    ]
