"""The Procfile's web command: how production starts the app, so the local run and the tests do too."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def web_command(*extra: str, app: str = "wsgi:app") -> list[str]:
    """The `web:` line of the Procfile as argv, run by this Python, serving `app`, with extra arguments."""
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    argv = [app if word == "wsgi:app" else word for word in shlex.split(line.removeprefix("web:"))]
    if argv[0] == "gunicorn":  # this environment's gunicorn, whatever PATH says
        argv[:1] = [sys.executable, "-m", "gunicorn"]
    return [*argv, *extra]
