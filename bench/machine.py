"""The machine and software a run measured, and the commands it ran: what a reader needs to compare."""

from __future__ import annotations

import os
import platform
import shlex
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

from bench import load

ROOT = Path(__file__).resolve().parent.parent
_SHOWN_ENV = (
    "COGNITO_REGION",
    "COGNITO_USER_POOL_ID",
    "COGNITO_CLIENT_ID",
    "COGNITO_CLIENT_SECRET",
    "COGNITO_ENDPOINT_URL",
    "AWS_CA_BUNDLE",
    "SECRET_KEY",
    "SIGNUP_CONFIG",
    "SIGNUP_BIND",
    "SIGNUP_RATELIMIT_ENABLED",
    "SIGNUP_MIN_FILL_SECONDS",
    "SIGNUP_WORKERS",
    "SIGNUP_THREADS",
)


def _first(path: str, key: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            name, _, value = line.partition(":" if ":" in line else "=")
            if name.strip() == key:
                return value.strip().strip('"')
    except OSError:
        pass
    return "unknown"


def _revision() -> str:
    """The commit measured, and whether the working tree differed from it (read-only git calls)."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}  # never write the index while another process commits

    def git(*args: str) -> str:
        done = subprocess.run(
            [shutil.which("git") or "git", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "unknown"
    changed = git("status", "--porcelain", "--untracked-files=no", "--", "app", "templates", "config", "wsgi.py")
    return f"{commit}, with uncommitted changes to the app" if changed else commit


def describe(wrk: str) -> dict[str, str]:
    memory_kib = int(_first("/proc/meminfo", "MemTotal").split()[0])
    return {
        "CPU": _first("/proc/cpuinfo", "model name"),
        "Cores": str(os.cpu_count()),
        "Memory": f"{memory_kib / 1024 / 1024:.1f} GiB",
        "OS": f"{_first('/etc/os-release', 'PRETTY_NAME')}, Linux {platform.release()}",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "Packages": ", ".join(
            f"{name} {metadata.version(name)}" for name in ("gunicorn", "Flask", "Werkzeug", "Jinja2", "WTForms")
        ),
        "Load generator": load.version(wrk),
        "App revision": _revision(),
    }


def commands(env: dict[str, str]) -> dict[str, str]:
    """The processes the run started, as shell commands (secrets replaced by a description)."""
    shown = []
    for name in _SHOWN_ENV:
        if name in env:
            value = env[name]
            if name in ("SECRET_KEY", "COGNITO_CLIENT_SECRET"):
                value = "<random, 43 characters>"
            elif name == "AWS_CA_BUNDLE":
                value = "<tmp>/upstream-cert.pem"
            shown.append(f"{name}={shlex.quote(value) if not value.startswith('<') else value}")
    port = env["COGNITO_ENDPOINT_URL"].rsplit(":", 1)[1]
    return {
        "bench": ".venv/bin/python -m bench.run",
        "stand-in": (
            f".venv/bin/python -m bench.upstream --port={port} --cert=<tmp>/upstream-cert.pem "
            f"--key=<tmp>/upstream-key.pem --client-id={env['COGNITO_CLIENT_ID']} --client-secret=<same secret>"
        ),
        "app": " ".join(shown) + " .venv/bin/python -m gunicorn wsgi:app",
        "bare": "(the same variables, another SIGNUP_BIND) BENCH_BARE_PAGE=<tmp>/signup.html "
        ".venv/bin/python -m gunicorn bench.bare_app:app",
        "profile": "(the same variables) .venv/bin/python -m bench.profile",
    }
