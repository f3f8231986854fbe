"""Several instances behind nginx: any step on any instance, and Cognito sees the client's real IP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.aws.cognito import CHECK_USERNAME_PREFIX
from local import emulator

from .conftest import SIGNUP, base_env
from .servers import LoopbackClient, RecordingProxy, gunicorn, nginx, serve

CLIENT_IP = "127.0.0.5"  # the person; nginx forwards from 127.0.0.2


def request_lines(log: Path) -> list[dict[str, Any]]:
    """The app's JSON line for each request it served."""
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line["logger"] == "signup.request"]


@pytest.fixture
def recorded(local_pool: emulator.LocalPool) -> Any:
    proxy = RecordingProxy(local_pool.endpoint)
    with serve(proxy) as port:
        proxy.endpoint = f"http://127.0.0.1:{port}"
        yield proxy


def instance_env(local_pool: emulator.LocalPool, recorded: RecordingProxy, proxies: str) -> dict[str, str]:
    return base_env(
        **{**local_pool.environment(), "COGNITO_ENDPOINT_URL": recorded.endpoint, "SIGNUP_TRUSTED_PROXIES": proxies}
    )


def test_flow_through_nginx_reaches_cognito_with_the_client_ip(
    local_pool: emulator.LocalPool, recorded: RecordingProxy, tmp_path: Path
) -> None:
    env = instance_env(local_pool, recorded, "1")
    with (
        gunicorn(env, tmp_path / "a.log") as a,
        gunicorn(env, tmp_path / "b.log") as b,
        nginx([a, b], tmp_path / "nginx") as balancer,
    ):
        client = LoopbackClient(f"http://127.0.0.1:{balancer}", source=CLIENT_IP)
        spoof = {"X-Forwarded-For": "6.6.6.6"}
        status, headers, _ = client.submit("/signup", SIGNUP, headers=spoof)
        code_page = headers["Location"]
        assert status == 302 and code_page.startswith("/signup/confirm?flow=")
        status, _, _ = client.submit(code_page, {"code": "000000"}, headers=spoof)
        assert status == 422
        status, headers, _ = client.submit(code_page, {}, resend=True, headers=spoof)
        assert status == 302
        status, headers, _ = client.submit(headers["Location"], {"code": emulator.LOCAL_CODE}, headers=spoof)
        assert status == 302 and headers["Location"].startswith("/signup/done?flow=")
    assert not client.cookies  # nothing but the pages' own addresses carried the flow

    # Round robin: each instance served steps of this one flow (a form from one, posted to the other).
    for log in ("a.log", "b.log"):
        served = [e for e in request_lines(tmp_path / log) if e["client"] == CLIENT_IP]
        assert any(e["route"].startswith("/signup") for e in served), log
    for operation in ("SignUp", "ConfirmSignUp", "ResendConfirmationCode"):
        # Every call made for the person; the app's own readiness checks are made for nobody.
        sent = [body for body in recorded.sent(operation) if not body["Username"].startswith(CHECK_USERNAME_PREFIX)]
        assert sent, operation
        assert {body["UserContextData"]["IpAddress"] for body in sent} == {CLIENT_IP}


def test_sign_up_on_one_instance_and_confirm_on_another(
    local_pool: emulator.LocalPool, recorded: RecordingProxy, tmp_path: Path
) -> None:
    env = instance_env(local_pool, recorded, "0")
    with gunicorn(env, tmp_path / "a.log") as a, gunicorn(env, tmp_path / "b.log") as b:
        first = LoopbackClient(f"http://127.0.0.1:{a}", source=CLIENT_IP)
        status, headers, _ = first.submit("/signup", SIGNUP)
        assert status == 302
        # The same browser, balanced to the other instance for the code page and its post.
        second = LoopbackClient(f"http://127.0.0.1:{b}", source=CLIENT_IP)
        status, headers, _ = second.submit(headers["Location"], {"code": emulator.LOCAL_CODE})
        assert status == 302 and headers["Location"].startswith("/signup/done?flow=")


def test_without_trusted_proxies_forwarded_headers_are_ignored(
    local_pool: emulator.LocalPool, recorded: RecordingProxy, tmp_path: Path
) -> None:
    with gunicorn(instance_env(local_pool, recorded, "0"), tmp_path / "a.log") as a:
        client = LoopbackClient(f"http://127.0.0.1:{a}", source=CLIENT_IP)
        client.submit("/signup", SIGNUP, headers={"X-Forwarded-For": "6.6.6.6"})
    assert recorded.sent("SignUp")[0]["UserContextData"]["IpAddress"] == CLIENT_IP


def test_health_checks(local_pool: emulator.LocalPool, recorded: RecordingProxy, tmp_path: Path) -> None:
    with gunicorn(instance_env(local_pool, recorded, "0"), tmp_path / "a.log") as a:
        client = LoopbackClient(f"http://127.0.0.1:{a}", source=CLIENT_IP)
        assert client.request("GET", "/healthz")[0] == 200
        assert client.request("GET", "/readyz")[0] == 200
    unreachable = {"COGNITO_ENDPOINT_URL": f"http://127.0.0.1:{emulator.free_port()}"}
    with gunicorn({**instance_env(local_pool, recorded, "0"), **unreachable}, tmp_path / "b.log") as b:
        client = LoopbackClient(f"http://127.0.0.1:{b}", source=CLIENT_IP)
        assert client.request("GET", "/healthz")[0] == 200
        assert client.request("GET", "/readyz")[0] == 503
