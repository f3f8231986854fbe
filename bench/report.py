"""docs/BENCHMARKS.md from one run's figures: tables only; performance.md says how they are measured."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import pages
from bench.flame import CATEGORIES, OTHER

PROFILES = (
    ("app-get-signup", "GET /signup, app"),
    ("bare-get-signup", "GET /signup, bare"),
    ("app-signup", "sign-up, app"),
)


def figures(r: dict[str, Any]) -> dict[str, str]:
    """The headline figures of a run, as the table shows them (and bench/before.json keeps them)."""
    flows, pages = r["flows"], r["pages"]
    app, bare = pages["app"], pages["bare"]
    rss = [f"{sum(mib):.0f} ({' + '.join(f'{m:.0f}' for m in mib)}) after {n // 1000}k" for n, mib in r["rss"]]
    return {
        "page_app": f"{app.requests / app.seconds:.0f}",
        "page_bare": f"{bare.requests / bare.seconds:.0f}",
        "ratio": f"{(app.requests / app.seconds) / (bare.requests / bare.seconds):.2f}",
        "page_cpu": f"{_ms(app)} / {_ms(bare)}",
        "signups_0": f"{flows[0].signups / flows[0].seconds:.0f}",
        "signups_100": f"{flows[100].signups / flows[100].seconds:.0f}",
        "signup_cpu": f"{flows[0].cpu_s / flows[0].signups * 1000:.1f}",
        "signup_p": _p(flows[100]),
        "signup_p0": _p(flows[0]),
        "failed": f"{sum(x.failed for x in r['runs'])} of {_n(r['runs'])}",
        "rss": "; ".join(rss),
        "start": f"{r['start_s']:.2f} ({r['bare_start_s']:.2f})",
    }


def before_figures(r: dict[str, Any], revision: str) -> dict[str, Any]:
    """What bench/before.json keeps of a run: its headline figures, the pages' too when measured."""
    kept: dict[str, Any] = {"revision": revision, "when": _when(r)}
    if "flows" in r:
        kept.update(figures(r))
    if "lighthouse" in r:
        kept["pages"] = {"revision": revision, "when": _when(r["lighthouse"]), **pages.before_figures(r["lighthouse"])}
    return kept


def _when(r: dict[str, Any]) -> str:
    minutes = f", {r['minutes']:.1f} minutes" if "minutes" in r else ""
    load = r["load"][0] if isinstance(r["load"], (list, tuple)) else r["load"]
    return f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {load:.2f} at the start{minutes}"


INSTRUCTIONS_HEADING = "## Instructions per request (callgrind)"


def report(r: dict[str, Any]) -> str:
    before, now = r["before"], figures(r)
    ratio = float(now["ratio"])
    rows = [
        ("GET /signup, app: requests/s", "page_app", now["page_app"]),
        ("GET /signup, bare Flask: requests/s", "page_bare", now["page_bare"]),
        ("**app / bare** (target ≥ 0.5)", "ratio", f"**{now['ratio']}** ({_met(ratio >= 0.5)})"),
        ("gunicorn CPU per GET /signup, app / bare: ms", "page_cpu", now["page_cpu"]),
        ("sign-ups/s, 0 ms upstream", "signups_0", now["signups_0"]),
        ("sign-ups/s, 100 ms upstream", "signups_100", now["signups_100"]),
        # Its target is judged in instructions (bench.instructions): seconds drift on a shared machine.
        ("gunicorn CPU per sign-up, 0 ms: ms (target: *Instructions per request*)", "signup_cpu", now["signup_cpu"]),
        ("p50 / p99 per sign-up, 100 ms upstream: ms", "signup_p", now["signup_p"]),
        ("p50 / p99 per sign-up, 0 ms upstream: ms", "signup_p0", now["signup_p0"]),
        ("failed requests, every run", "failed", now["failed"]),
        ("worker RSS, MiB (all workers)", "rss", now["rss"]),
        ("start-up, launch to /healthz: s (bare)", "start", now["start"]),
    ]
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {r['minutes']:.1f} minutes "
        f"at revision {revision()}: {_machine()}, {r['settings']}; load average at the start {r['load'][0]:.2f}. "
        "How it measures: [performance.md](performance.md#measuring-it). "
        f"*Before* is revision {before['revision']}, measured by the same harness ({before['when']}).",
        "",
        "| | before | now |",
        "|---|---|---|",
        *(f"| {name} | {before.get(key, '')} | {new} |" for name, key, new in rows),
    ]
    if "profiles" in r:
        lines += ["", *_accounting(r["profiles"])]
    if "lighthouse" in r:
        lines += ["", *pages.section(r["lighthouse"], before.get("pages"))]
    lines += [
        "",
        "## Every run",
        "",
        "| run | s | requests | sign-ups | failed | gunicorn CPU, cores | machine busy, cores |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {x.label} | {x.seconds:.1f} | {x.requests} | {x.signups or ''} | {x.failed} | "
            f"{x.cpu_s / x.seconds:.2f} | {x.machine_cores:.2f} |"
            for x in r["runs"]
        ),
        "",
        f"The Cognito stand-in answered {r['stand_in']['calls']}.",
        "",
    ]
    return "\n".join(lines)


def _accounting(profiles: dict[str, Any]) -> list[str]:
    """Each request's gunicorn CPU: user time split by py-spy's samples, kernel time on its own row."""
    columns = []
    for name, _ in PROFILES:
        p = profiles[name]
        count = max(p["run"].signups if name == "app-signup" else p["run"].requests, 1)
        user_ms = (p["run"].cpu_s - p["run"].system_s) / count * 1000
        samples = sum(p["split"].values()) or 1
        columns.append(({c: user_ms * n / samples for c, n in p["split"].items()}, p["run"], count))
    names = [name for name, _ in CATEGORIES] + [OTHER]
    seen = [c for c in names if any(split.get(c) for split, _, _ in columns)]

    def row(title: str, values: list[float], bold: bool = False) -> str:
        cells = [f"**{v:.2f}**" if bold else f"{v:.2f}" for v in values]
        return f"| {title} | " + " | ".join(cells) + " |"

    behind = [title for (name, title) in PROFILES if profiles[name]["behind"]]
    return [
        "## Where the CPU goes",
        "",
        "ms of gunicorn CPU per request (per complete sign-up in the last column, 0 ms upstream), from a run under "
        "`py-spy record --native --gil` on every worker; each column links its flame graph. User time is split by "
        "the samples of the thread holding the GIL; the kernel's time is its own row.",
        "",
        "| ms | " + " | ".join(f"[{title}](profiles/{name}.svg)" for name, title in PROFILES) + " |",
        "|---|---|---|---|",
        *(row(c, [split.get(c, 0.0) for split, _, _ in columns]) for c in seen),
        row("kernel: system calls, network stack, thread wake-ups", [r.system_s / n * 1000 for _, r, n in columns]),
        row("**gunicorn CPU** (user + system, /proc)", [r.cpu_s / n * 1000 for _, r, n in columns], bold=True),
        *([f"\npy-spy fell behind in sampling for {', '.join(behind)}."] if behind else []),
    ]


def _ms(run: Any) -> str:
    return f"{run.cpu_s / max(run.requests, 1) * 1000:.2f}"


def percentile(values: tuple[float, ...], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else 0.0


def _p(run: Any) -> str:
    return f"{percentile(run.flow_ms, 50):.0f} / {percentile(run.flow_ms, 99):.0f}"


def _n(runs: list[Any]) -> int:
    return sum(x.requests for x in runs)


def _met(ok: bool) -> str:
    return "met" if ok else "missed"


def revision(root: Path | None = None) -> str:
    """The commit whose app was measured, and whether its files had changed since."""

    def git(*args: str) -> str:
        command = [shutil.which("git") or "git", *args]
        return subprocess.run(command, capture_output=True, text=True, check=False, cwd=root).stdout.strip()

    dirty = git("status", "--porcelain", "--", "app", "templates", "static", "config", "gunicorn.conf.py")
    return git("rev-parse", "--short", "HEAD") + (" with uncommitted changes" if dirty else "")


def _machine() -> str:
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "?")
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in ("gunicorn", "Flask", "Werkzeug"))
    return f"{os.cpu_count()} cores ({cpu}), {platform.python_implementation()} {platform.python_version()}, {versions}"
