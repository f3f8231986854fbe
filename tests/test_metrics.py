"""Metrics under several gunicorn workers: every scrape sees the whole instance's counts."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from local import emulator

from .conftest import SIGNUP, base_env
from .servers import LoopbackClient, gunicorn

TOKEN = "metrics-token-0123456789"


def scrape(url: str, token: str | None = TOKEN) -> str:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=5) as answer:
        return answer.read().decode()


def value(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


@pytest.fixture
def instance(local_pool: emulator.LocalPool, tmp_path: Path) -> Any:
    """Two workers, metrics on the app with a token and on a port of their own."""
    metrics_port = emulator.free_port()
    env = base_env(
        **local_pool.environment(),
        SIGNUP_WORKERS="2",
        SIGNUP_METRICS_TOKEN=TOKEN,
        SIGNUP_METRICS_BIND=f"127.0.0.1:{metrics_port}",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
    )
    (tmp_path / "metrics").mkdir()
    with gunicorn(env, tmp_path / "app.log") as port:
        yield f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}/metrics"


def test_counts_and_latencies_add_up_across_two_workers(instance: Any) -> None:
    app, _ = instance
    for n in range(3):  # new connections: the two workers share the work
        client = LoopbackClient(app, source="127.0.0.1")
        assert client.submit("/signup", {**SIGNUP, "username": f"m{n}@example.com"})[0] == 302
    client = LoopbackClient(app, source="127.0.0.1")
    client.submit("/signup", {**SIGNUP, "username": "m0@example.com"})  # taken
    code_page = client.submit("/signup", {**SIGNUP, "username": "m9@example.com"})[1]["Location"]
    client.submit(code_page, {"code": "000000"})
    client.submit(code_page, {}, resend=True)
    client.submit(code_page, {"code": emulator.LOCAL_CODE})
    for _ in range(4):  # whichever worker answers, it reports the instance
        text = scrape(f"{app}/metrics")
        assert value(text, "signup_signups_started_total") == 5
        assert value(text, "signup_signups_succeeded_total") == 4
        assert value(text, 'signup_signups_failed_total{error="UsernameExistsException"}') == 1
        assert value(text, 'signup_confirmations_total{outcome="CodeMismatchException"}') == 1
        assert value(text, 'signup_confirmations_total{outcome="confirmed"}') == 1
        assert value(text, 'signup_resends_total{outcome="sent"}') == 1
        assert value(text, 'signup_cognito_request_duration_seconds_count{operation="SignUp"}') == 5
        assert value(text, 'signup_cognito_request_duration_seconds_count{operation="ConfirmSignUp"}') == 2


def test_rate_limited_requests_are_counted(local_pool: emulator.LocalPool, tmp_path: Path) -> None:
    env = base_env(
        **local_pool.environment(),
        SIGNUP_METRICS_TOKEN=TOKEN,
        SIGNUP_RATELIMIT_SIGNUP="1/hour",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path),
    )
    with gunicorn(env, tmp_path / "app.log") as port:
        client = LoopbackClient(f"http://127.0.0.1:{port}", source="127.0.0.1")
        client.submit("/signup", {**SIGNUP, "username": "r1@example.com"})
        assert client.submit("/signup", {**SIGNUP, "username": "r2@example.com"})[0] == 429
        text = scrape(f"http://127.0.0.1:{port}/metrics")
    assert value(text, 'signup_rate_limited_total{rule="signup"}') == 1
    assert value(text, 'signup_signups_failed_total{error="RateLimited"}') == 1


def test_the_metrics_port_needs_no_token_and_the_app_page_needs_one(instance: Any) -> None:
    app, separate = instance
    assert "signup_signups_started_total" in scrape(separate, token=None)
    with pytest.raises(urllib.error.HTTPError) as refused:
        scrape(f"{app}/metrics", token="wrong-token-wrong-token")
    assert refused.value.code == 401
    refused.value.close()


def test_without_a_token_there_is_no_metrics_page(stub_app: Any) -> None:
    assert stub_app.test_client().get("/metrics").status_code == 404
