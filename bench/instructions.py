"""`python -m bench.instructions`: the server's cost in instructions, before and now, into docs/BENCHMARKS.md.

CPU seconds on a shared machine drift by a quarter from one minute to the next, so two runs of the
same code differ by more than the changes worth measuring. The number of instructions a worker
executes for the same requests does not drift: callgrind counts them. Each revision's app runs as
production runs it (the Procfile's command, gunicorn.conf.py) inside `valgrind --tool=callgrind`,
with one worker and one thread, against the Cognito stand-in. wrk warms it up with sign-ups; then
its counters are zeroed, wrk drives one browser through sign-ups (bench/signup.lua) for a while,
and the counters are read; then the same for GET /signup alone (bench/page.lua). The first and
last request of a run may be cut by wrk's clock, so figures hold to about 1%.

*Before* is the revision bench/before.json names, checked out beside this one (git worktree) and
run with this checkout's harness and virtual environment.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from unittest import mock

from bench import run
from bench.pages import splice
from bench.report import INSTRUCTIONS_HEADING, revision

# The target for a sign-up, set as at most 4.5 ms of gunicorn CPU when one took 4.3 ms on the
# machine of the time: here, at most 4.5 / 4.3 of the before revision's instructions.
SIGNUP_TARGET = 4.5 / 4.3
WARM_UP_S, SIGNUPS_S, PAGES_S = 20, 40, 20
VALGRIND = ("valgrind", "--tool=callgrind", "--trace-children=yes", "--dump-instr=no")


def count(root: Path, say: Any = run.say) -> dict[str, float]:
    """Millions of instructions per sign-up and per GET /signup of one checkout's app."""
    # One worker, one thread: all the work of a request is in one process. valgrind runs it some 50
    # times slower, so gunicorn's heartbeat gets the time it needs.
    one_worker = {"SIGNUP_WORKERS": "1", "SIGNUP_THREADS": "1", "GUNICORN_CMD_ARGS": "--timeout 900"}
    with (
        mock.patch.dict(os.environ, one_worker),
        tempfile.TemporaryDirectory(prefix="signup-instructions-") as directory,
        ExitStack() as stack,
    ):
        tmp = Path(directory)
        prefix = (*VALGRIND, f"--callgrind-out-file={tmp}/callgrind.%p")
        bench = run.Bench(tmp, stack, quick=True, root=root, bare=False, prefix=prefix)
        (worker,) = bench.app.workers()
        run.wrk("warm-up", bench.app, "signup.lua", WARM_UP_S, "warm", users=1)
        figures = {}
        for name, script, seconds in (("signup", "signup.lua", SIGNUPS_S), ("page", "page.lua", PAGES_S)):
            _control("-z", worker)
            done = run.wrk(name, bench.app, script, seconds, f"i{name}", users=1)
            executed = _control("-d", worker, tmp)
            per = done.signups if script == "signup.lua" else done.requests
            figures[name] = executed / max(per, 1) / 1e6
            say(f"  {root.name}: {name}: {figures[name]:.2f} M instructions each ({per} measured)")
        return figures


def _control(action: str, pid: int, out: Path | None = None) -> int:
    """callgrind_control -z (zero the counters) or -d (dump them); for a dump, the instructions counted."""
    before = set(out.glob(f"callgrind.{pid}.*")) if out else set()
    subprocess.run([_tool("callgrind_control"), action, str(pid)], check=True, capture_output=True)
    if out is None:
        return 0
    for _ in range(100):
        new = set(out.glob(f"callgrind.{pid}.*")) - before
        if new:
            text = max(new, key=lambda p: p.stat().st_mtime).read_text()
            for line in text.splitlines():
                if line.startswith("summary:"):
                    return int(line.split()[1])
        time.sleep(0.1)
    raise SystemExit(f"callgrind wrote no dump for worker {pid}")


def checkout(rev: str, where: Path, stack: ExitStack) -> Path:
    """`rev` checked out in a worktree of this repository, removed again at the end."""
    path, git = where / rev, _tool("git")
    subprocess.run([git, "worktree", "add", "--detach", str(path), rev], cwd=run.ROOT, check=True, capture_output=True)
    stack.callback(subprocess.run, [git, "worktree", "remove", "--force", str(path)], cwd=run.ROOT, check=False)
    return path


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"The bench needs {name}: `make bench` installs valgrind (apt-get install valgrind).")
    return found


def measure(before_rev: str, say: Any = run.say) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="signup-before-") as directory, ExitStack() as stack:
        before_root = checkout(before_rev, Path(directory), stack)
        say(f"Instructions, callgrind: {before_rev} (before), then this checkout")
        return {
            "before": {"revision": before_rev, **count(before_root, say)},
            "now": {"revision": revision(run.ROOT), **count(run.ROOT, say)},
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        }


def section(results: dict[str, Any]) -> list[str]:
    """The part of BENCHMARKS.md these figures fill."""
    before, now = results["before"], results["now"]
    rows = [("a whole sign-up (GET /signup, POST, the code page)", "signup"), ("GET /signup alone", "page")]
    limit = before["signup"] * SIGNUP_TARGET
    verdict = "met" if now["signup"] <= limit else "missed"
    return [
        INSTRUCTIONS_HEADING,
        "",
        f"Measured {results['when']} by `python -m bench.instructions` (`make bench` runs it): each revision's",
        "app under gunicorn with one worker and one thread inside `valgrind --tool=callgrind`, driven by",
        "one wrk browser against the Cognito stand-in. Unlike CPU seconds, these counts do not depend on",
        "how busy the machine is: two runs of one revision agree within about 1%.",
        "",
        f"| millions of instructions | before ({before['revision']}) | now ({now['revision']}) | change |",
        "|---|---|---|---|",
        *(
            f"| {title} | {before[key]:.2f} | {now[key]:.2f} | {(now[key] / before[key] - 1) * 100:+.1f}% |"
            for title, key in rows
        ),
        "",
        f"**Target for a sign-up**: at most {limit:.2f} M, {(SIGNUP_TARGET - 1) * 100:.1f}% more than before (the",
        f"4.5 ms of gunicorn CPU allowed when a sign-up took 4.3): **{verdict}**. GET /signup's target is",
        "its ratio to the bare Flask app, in the table at the top.",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", help="the revision to compare with (default: bench/before.json's)")
    args = parser.parse_args()
    before_rev = args.before or json.loads((run.HERE / "before.json").read_text())["revision"]
    lines = section(measure(before_rev))
    benchmarks = run.DOCS / "BENCHMARKS.md"
    benchmarks.write_text(splice(benchmarks.read_text(), lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
