"""Where the app's CPU goes per request: the "why" behind the throughput figures.

It runs in its own process with the same environment as the app under gunicorn (the same
settings, the same Cognito stand-in) and drives the same steps as signup.lua through Flask's test
client. It measures the CPU time the app itself spends per request (inside its WSGI callable,
without gunicorn), then profiles the same steps with cProfile on CPU time and splits that time
into the parts of a request that cost the most. The split uses library functions (Flask, WTForms,
botocore), which stay put when the app's own code changes.

Run as `python -m bench.profile` (the harness does); prints one JSON object.
"""

from __future__ import annotations

import cProfile
import html
import json
import pstats
import re
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from app import create_app

ROUNDS = 100
WARMUP = 20
TYPED = {
    "password": "Correct-Horse-9",
    "password_confirm": "Correct-Horse-9",
    "given_name": "Ann",
    "custom_company": "Example Ltd",
    "custom_seats": "3",
    "custom_plan": "team",
}
# (what it is, file the function lives in, function): disjoint parts of one request.
PARTS = (
    ("render the page (Jinja templates, WTForms widgets)", "flask/templating.py", "render_template"),
    ("build the form (fields, CSRF token)", "wtforms/form.py", "__call__"),
    ("check the posted form (validators)", "flask_wtf/form.py", "validate_on_submit"),
    ("call Cognito (botocore, TLS)", "botocore/client.py", "_make_api_call"),
    ("open the session cookie", "flask/sessions.py", "open_session"),
    ("save the session cookie", "flask/sessions.py", "save_session"),
)
WHOLE = ("flask/app.py", "wsgi_app")
_INPUT = re.compile(r"<input[^>]*>")
_ATTR = re.compile(r' (name|value)="([^"]*)"')


def form_data(page: str, username: str) -> dict[str, str]:
    """What a browser posts for this page: every input's value, what the person typed, the choices."""
    data: dict[str, str] = {}
    for tag in _INPUT.findall(page):
        attrs = dict(_ATTR.findall(tag))
        field = attrs.get("name")
        if field and field != "username":
            data[field] = TYPED.get(field, html.unescape(attrs.get("value", "")))
    for name, value in TYPED.items():
        if f' name="{name}"' in page:
            data.setdefault(name, value)
    return {"username": username, **data}


class CpuTimed:
    """WSGI middleware that adds up the CPU time the app spends inside its callable."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.seconds = 0.0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.process_time()
        try:
            return self.app(environ, start_response)
        finally:
            self.seconds += time.process_time() - started


def cumulative(stats: dict[Any, Any], path: str, function: str) -> float:
    """A function's cumulative time (all its calls, without double counting recursion)."""
    return sum(
        cumtime for (file, _, name), (_, _, _, cumtime, _) in stats.items() if name == function and file.endswith(path)
    )


def measure(step: Callable[[str], None], timed: CpuTimed) -> dict[str, Any]:
    for n in range(WARMUP):
        step(f"w{n}")
    timed.seconds = 0.0
    for n in range(ROUNDS):
        step(f"m{n}")
    cpu_ms = timed.seconds / ROUNDS * 1000

    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for n in range(ROUNDS):
        step(f"p{n}")
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    whole = cumulative(stats, *WHOLE) or 1.0
    parts = {label: cumulative(stats, path, function) / whole for label, path, function in PARTS}
    parts["everything else (Flask, Werkzeug, the app's views, headers)"] = max(0.0, 1 - sum(parts.values()))
    return {"cpu_ms_per_round": cpu_ms, "parts": parts}


def main() -> None:
    app = create_app()
    timed = CpuTimed(app.wsgi_app)
    app.wsgi_app = timed  # type: ignore[method-assign]
    client = app.test_client()
    run = str(time.time_ns())

    def page(_: str) -> None:
        client.delete_cookie("session")
        if client.get("/signup").status_code != 200:
            raise SystemExit("GET /signup did not answer 200")

    def flow(n: str) -> None:
        client.delete_cookie("session")
        form = client.get("/signup").get_data(as_text=True)
        answer = client.post("/signup", data=form_data(form, f"profile-{run}-{n}@example.com"))
        if answer.status_code not in (302, 303):
            raise SystemExit(f"POST /signup answered {answer.status_code}, not a redirect")
        if client.get(answer.headers["Location"]).status_code != 200:
            raise SystemExit(f"GET {answer.headers['Location']} did not answer 200")

    json.dump({"page": measure(page, timed), "flow": measure(flow, timed)}, sys.stdout)


if __name__ == "__main__":
    main()
