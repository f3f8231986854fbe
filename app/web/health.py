"""Endpoints for operators: health checks for load balancers, and metrics for Prometheus."""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import Callable

from flask import Blueprint, Flask, abort, current_app, request
from flask.sansio.blueprints import BlueprintSetupState

from app.aws.cognito import ClientProblem
from app.components import current
from app.ops.metrics import exposition

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

_PLAIN = {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


class Readiness:
    """Whether Cognito takes this app client's calls, for /readyz, without a request ever waiting on it.

    /readyz answers the last check's result (CognitoSignup.check_client) at once. When that result is
    more than REFRESH_AFTER seconds old, the request also starts a new check in a thread of its own,
    unless one is running already: a worker runs at most one at a time, so a flood of /readyz costs
    Cognito one call every few seconds, and takes no thread from pages for longer than it takes to
    read a variable. A check that has not returned after ANSWER_WITHIN seconds makes every answer
    "not answering" until it returns.
    """

    REFRESH_AFTER = 5.0
    ANSWER_WITHIN = 2.0

    def __init__(self, check: Callable[[], ClientProblem | None], clock: Callable[[], float] = time.monotonic) -> None:
        self._check = check
        self._clock = clock
        self._lock = threading.Lock()
        self._problem: ClientProblem | None = ClientProblem("not checked yet", "the first check has not returned")
        self._checked_at = -self.REFRESH_AFTER
        self._running_since: float | None = None

    def check_now(self) -> ClientProblem | None:
        """Check and wait for the result: at start-up, before anyone is waiting for a page."""
        problem = self._check()
        with self._lock:
            self._problem, self._checked_at = problem, self._clock()
        return problem

    def answer(self) -> ClientProblem | None:
        """The latest result, and a new check in the background when it is due. Never waits on Cognito."""
        now = self._clock()
        with self._lock:
            due = self._running_since is None and now - self._checked_at >= self.REFRESH_AFTER
            if due:
                self._running_since = now
            running_for = 0.0 if self._running_since is None else now - self._running_since
            problem = self._problem
        if due:
            threading.Thread(target=self._refresh, name="readiness-check", daemon=True).start()
        if running_for > self.ANSWER_WITHIN:
            return ClientProblem(
                "Cognito not answering", f"the readiness check has waited {running_for:.0f} s", unreachable=True
            )
        return problem

    def _refresh(self) -> None:
        try:
            problem = self._check()
        except Exception:
            log.exception("The readiness check failed")
            problem = ClientProblem("readiness check failed", "see the log")
        with self._lock:
            self._problem, self._checked_at, self._running_since = problem, self._clock(), None


@bp.record_once
def _keep_readiness(state: BlueprintSetupState) -> None:
    """One Readiness per app, checking with the app's own Cognito service."""
    state.app.extensions["readiness"] = Readiness(state.app.extensions["signup"].service.check_client)


def check_at_start(app: Flask) -> None:
    """Check the app client before the first person arrives, and say what is wrong in the log.

    A wrong setting is an ERROR naming it; Cognito out of reach is a WARNING, since the network may
    come up after the app. The app starts either way: its pages and /healthz answer, and /readyz
    answers 503 with the reason, so a load balancer sends it nobody and a rolling deploy stops there.
    """
    problem = app.extensions["readiness"].check_now()
    if problem is None:
        log.info("Cognito takes the app client's calls")
    else:
        log.log(logging.WARNING if problem.unreachable else logging.ERROR, "Not ready: %s", problem)


@bp.get("/healthz")
def healthz() -> tuple[str, int, dict[str, str]]:
    """Alive: the process answers. Never calls Cognito, so a Cognito outage does not restart us."""
    return "ok\n", 200, _PLAIN


@bp.get("/readyz")
def readyz() -> tuple[str, int, dict[str, str]]:
    """Ready: Cognito answers and takes this app client's calls, as the latest check found (Readiness)."""
    problem = current_app.extensions["readiness"].answer()
    if problem is None:
        return "ready\n", 200, _PLAIN
    return f"not ready: {problem.reason}\n", 503, _PLAIN


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
