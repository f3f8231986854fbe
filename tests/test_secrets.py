"""Secrets stay secret: canary values never reach a log line (DEBUG included), a page or an error."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import boto3
import pytest

from app import create_app
from app.aws.cognito import secret_hash
from app.errors import ConfigError
from local import emulator

from .conftest import SIGNUP, base_env, submit
from .servers import LoopbackClient, gunicorn

CANARY_PASSWORD = "Canary-Pa55word!"
CANARY_SECRET_KEY = "canary-secret-key-" + "Z" * 40


def canaries(pool: emulator.LocalPool, username: str, cookies: list[str]) -> dict[str, str]:
    return {
        "password": CANARY_PASSWORD,
        "client secret": pool.client_secret,
        "SECRET_KEY": CANARY_SECRET_KEY,
        "SecretHash": secret_hash(pool.client_secret, username, pool.client_id),
        **{f"cookie {n}": value for n, value in enumerate(cookies)},
    }


def everything_at_debug() -> None:
    """What an operator does when chasing a problem: every logger at DEBUG."""
    logging.getLogger().setLevel(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        logging.getLogger(name).setLevel(logging.DEBUG)


def test_no_secret_reaches_a_log_or_a_page_in_the_whole_flow(
    local_pool: emulator.LocalPool, caplog: pytest.LogCaptureFixture
) -> None:
    everything_at_debug()
    caplog.set_level(logging.DEBUG)
    env = base_env(**local_pool.environment(), SECRET_KEY=CANARY_SECRET_KEY)
    signup = {**SIGNUP, "password": CANARY_PASSWORD, "password_confirm": CANARY_PASSWORD}
    pages: list[str] = []
    cookies: list[str] = []

    def keep(response: Any) -> Any:
        pages.append(response.get_data(as_text=True))
        pages.append(str({k: v for k, v in response.headers.items() if k != "Set-Cookie"}))
        cookies.extend(v.split(";")[0].split("=", 1)[1] for k, v in response.headers.items() if k == "Set-Cookie")
        return response

    app = create_app(env)
    client = app.test_client()
    keep(submit(client, "/signup", {**signup, "given_name": ""}))  # the form comes back
    code_page = keep(submit(client, "/signup", signup)).headers["Location"]
    keep(client.get(code_page))
    keep(submit(client, code_page, {"code": "000000"}))
    keep(submit(client, code_page, {}, resend=True))
    done = keep(submit(client, code_page, {"code": emulator.LOCAL_CODE})).headers["Location"]
    keep(client.get(done))
    # What the pages' addresses carry is sealed: it holds no secret, and no code, even opened.
    for address in (code_page, done):
        flow = app.extensions["signup"].flows.open(unquote(address.split("flow=")[1].split("&")[0]))
        held = {str(value) for value in vars(flow).values()} | {v for vs in flow.form.values() for v in vs}
        assert not {CANARY_PASSWORD, emulator.LOCAL_CODE, "000000"} & held
    # Failures: a wrong client secret (operator error) and Cognito out of reach.
    wrong = create_app({**env, "COGNITO_CLIENT_SECRET": local_pool.client_secret[::-1]})
    keep(submit(wrong.test_client(), "/signup", {**signup, "username": "b@example.com"}))
    gone = create_app({**env, "COGNITO_ENDPOINT_URL": f"http://127.0.0.1:{emulator.free_port()}"})
    keep(submit(gone.test_client(), "/signup", {**signup, "username": "c@example.com"}))

    assert "DEBUG" in caplog.text  # the test really logged at DEBUG
    assert not cookies
    for name, value in canaries(local_pool, "ann@example.com", cookies).items():
        assert value not in caplog.text, f"{name} reached the log"
        assert not any(value in page for page in pages), f"{name} reached a page"
    assert "flow=" not in caplog.text  # nor does an address's sealed flow reach a log line


def test_no_secret_reaches_gunicorns_debug_output(local_pool: emulator.LocalPool, tmp_path: Path) -> None:
    env = base_env(**local_pool.environment(), SECRET_KEY=CANARY_SECRET_KEY, SIGNUP_LOG_LEVEL="DEBUG")
    with gunicorn(env, tmp_path / "app.log") as port:
        client = LoopbackClient(f"http://127.0.0.1:{port}", source="127.0.0.1")
        _, _, page = client.request("GET", "/signup")
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        signup = {**SIGNUP, "password": CANARY_PASSWORD, "password_confirm": CANARY_PASSWORD, "csrf_token": token}
        assert client.request("POST", "/signup", signup)[0] == 302
        cookies = list(client.cookies.values())
    output = (tmp_path / "app.log").read_text()
    assert '"level": "DEBUG"' in output
    for name, value in canaries(local_pool, "ann@example.com", cookies).items():
        assert value not in output, f"{name} reached gunicorn's output"


@pytest.fixture
def secrets_manager(cognito_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Point boto3's Secrets Manager client at the emulator, with its fixed test credentials."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", cognito_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    return boto3.client("secretsmanager", region_name=emulator.REGION)


def test_secrets_can_come_from_secrets_manager(local_pool: emulator.LocalPool, secrets_manager: Any) -> None:
    name = f"signup/{local_pool.pool_id}"
    secret = {"COGNITO_CLIENT_SECRET": local_pool.client_secret, "SECRET_KEY": CANARY_SECRET_KEY}
    secrets_manager.create_secret(Name=name, SecretString=json.dumps(secret))
    env = base_env(**local_pool.environment(), SIGNUP_SECRETS_MANAGER_ID=name)
    del env["COGNITO_CLIENT_SECRET"], env["SECRET_KEY"]
    app = create_app(env)
    assert app.secret_key == CANARY_SECRET_KEY
    assert submit(app.test_client(), "/signup", SIGNUP).status_code == 302  # the emulator checked the hash


def test_a_secret_set_twice_or_missing_stops_start_up(local_pool: emulator.LocalPool, secrets_manager: Any) -> None:
    secrets_manager.create_secret(Name="signup/twice", SecretString=json.dumps({"SECRET_KEY": CANARY_SECRET_KEY}))
    with pytest.raises(ConfigError, match="SECRET_KEY is set both in the environment and in signup/twice"):
        create_app(base_env(**local_pool.environment(), SIGNUP_SECRETS_MANAGER_ID="signup/twice"))
    with pytest.raises(ConfigError, match="cannot read signup/missing"):
        create_app(base_env(**local_pool.environment(), SIGNUP_SECRETS_MANAGER_ID="signup/missing"))
    assert os.environ.get("AWS_ACCESS_KEY_ID") == "test"
