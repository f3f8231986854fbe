"""Health checks for load balancers and orchestrators."""

from __future__ import annotations

from flask import Blueprint, current_app

bp = Blueprint("health", __name__)

_PLAIN = {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@bp.get("/healthz")
def healthz() -> tuple[str, int, dict[str, str]]:
    """Alive: the process answers. Never calls Cognito, so a Cognito outage does not restart us."""
    return "ok\n", 200, _PLAIN


@bp.get("/readyz")
def readyz() -> tuple[str, int, dict[str, str]]:
    """Ready: the configuration loaded (or the app would not exist) and Cognito can be reached."""
    if current_app.extensions["signup"].service.is_reachable(timeout=2.0):
        return "ready\n", 200, _PLAIN
    return "cognito unreachable\n", 503, _PLAIN
