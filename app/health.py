"""Endpoints for operators: health checks for load balancers, and metrics for Prometheus."""

from __future__ import annotations

import hmac

from flask import Blueprint, abort, request

from app.components import current
from app.metrics import exposition

bp = Blueprint("health", __name__)

_PLAIN = {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@bp.get("/healthz")
def healthz() -> tuple[str, int, dict[str, str]]:
    """Alive: the process answers. Never calls Cognito, so a Cognito outage does not restart us."""
    return "ok\n", 200, _PLAIN


@bp.get("/readyz")
def readyz() -> tuple[str, int, dict[str, str]]:
    """Ready: the configuration loaded (or the app would not exist) and Cognito can be reached."""
    if current().service.is_reachable(timeout=2.0):
        return "ready\n", 200, _PLAIN
    return "cognito unreachable\n", 503, _PLAIN


@bp.get("/metrics")
def metrics() -> tuple[bytes | str, int, dict[str, str]]:
    """The instance's metrics, for whoever holds SIGNUP_METRICS_TOKEN; unset, there is no such page.

    (SIGNUP_METRICS_BIND serves them on a port of their own instead, from gunicorn.conf.py.)
    """
    token = current().settings.metrics_token
    if not token:
        abort(404)
    if not hmac.compare_digest(request.headers.get("Authorization", "").encode(), f"Bearer {token}".encode()):
        return "unauthorized\n", 401, {**_PLAIN, "WWW-Authenticate": 'Bearer realm="metrics"'}
    body, content_type = exposition()
    return body, 200, {"Content-Type": content_type, "Cache-Control": "no-store"}
