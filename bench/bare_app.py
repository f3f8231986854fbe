"""The floor to compare the app with: a bare Flask app that answers GET /signup with the same bytes.

The harness captures the app's sign-up page once and points BENCH_BARE_PAGE at the file; run
under the same gunicorn.conf.py, the only difference left is the app's own per-request work
(session, CSRF token, form, template, headers).
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response

PAGE = Path(os.environ["BENCH_BARE_PAGE"]).read_bytes()

app = Flask(__name__)


@app.get("/signup")
def signup() -> Response:
    return Response(PAGE, content_type="text/html; charset=utf-8")


@app.get("/healthz")
def healthz() -> tuple[str, int]:
    return "ok\n", 200
