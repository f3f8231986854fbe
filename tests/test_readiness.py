"""The app client checked without a person: at start-up (a line in the log naming the setting), in
/readyz (503 with the reason, from a cached check that never makes a request wait), and the one
Cognito call that does it (app.aws.cognito.CognitoSignup.check_client)."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY
from flask import Flask

from app import create_app
from app.aws.cognito import CHECK_USERNAME_PREFIX, ClientProblem, CognitoSignup, create_client, secret_hash
from app.components import fit_to_threads
from app.config.settings import load_settings
from app.ops.metrics import exposition
from app.web.health import Readiness, check_at_start
from local import emulator

from .conftest import StrictStubber, base_env
from .servers import LoopbackClient, gunicorn

CLIENT_ID = "testclientid123"
SECRET = "s" * 52


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class SlowCheck:
    """A check that returns only when the test lets it, counting how often it was made."""

    def __init__(self, result: ClientProblem | None = None) -> None:
        self.result = result
        self.calls = 0
        self.release = threading.Event()
        self.done = threading.Event()

    def __call__(self) -> ClientProblem | None:
        self.calls += 1
        self.release.wait(5)
        self.release.clear()
        self.done.set()
        return self.result


def test_readyz_answers_the_last_check_and_refreshes_it_in_the_background_one_at_a_time() -> None:
    clock, check = Clock(), SlowCheck()
    readiness = Readiness(check, clock=clock)
    check.release.set()
    assert readiness.check_now() is None and check.calls == 1  # at start-up: waited for
    clock.now += Readiness.REFRESH_AFTER - 0.1
    assert readiness.answer() is None and check.calls == 1  # fresh enough: nothing asked
    clock.now += 0.2
    check.result = ClientProblem("COGNITO_CLIENT_SECRET wrong", "…")
    assert [readiness.answer() for _ in range(20)] == [None] * 20  # at once, from the last result
    assert check.calls in {1, 2}
    clock.now += Readiness.ANSWER_WITHIN + 0.1  # the check is still waiting on Cognito
    waiting = readiness.answer()
    assert waiting is not None and waiting.reason == "Cognito not answering" and waiting.unreachable
    check.release.set()
    assert check.done.wait(5)
    for _ in range(50):
        if readiness.answer() == check.result:
            break
        threading.Event().wait(0.01)
    assert readiness.answer() == check.result
    assert check.calls == 2  # one check for all those answers


def test_before_any_check_readyz_says_so_and_starts_one() -> None:
    check = SlowCheck()
    readiness = Readiness(check, clock=Clock())
    answer = readiness.answer()
    assert answer is not None and answer.reason == "not checked yet"
    check.release.set()
    assert check.done.wait(5) and check.calls == 1


def stubbed_service(secret: str | None = SECRET) -> tuple[CognitoSignup, StrictStubber]:
    client = create_client(load_settings(base_env()))
    return CognitoSignup(client, client_id=CLIENT_ID, client_secret=secret), StrictStubber(client)


def test_the_check_is_one_confirm_sign_up_for_a_username_nobody_has_with_a_code_that_is_none() -> None:
    service, stub = stubbed_service()
    sent: dict[str, Any] = {}
    stub.client.meta.events.register("before-parameter-build.*.ConfirmSignUp", lambda params, **_: sent.update(params))
    expected = {"ClientId": CLIENT_ID, "Username": ANY, "ConfirmationCode": "not-a-code", "SecretHash": ANY}
    with stub:
        stub.add_client_error("confirm_sign_up", "UserNotFoundException", "Username/client id combination not found.")
        stub.add_client_error("confirm_sign_up", "UserNotFoundException", "Username/client id combination not found.")
        assert service.check_client() is None
        first = sent["Username"]
        assert service.check_client() is None
    assert first.startswith(CHECK_USERNAME_PREFIX) and len(first) == len(CHECK_USERNAME_PREFIX) + 32
    assert sent["Username"] != first  # a new one each time
    assert sent["SecretHash"] == secret_hash(SECRET, sent["Username"], CLIENT_ID)
    assert set(sent) == set(expected)  # no UserContextData, no metadata: nothing about any person


@pytest.mark.parametrize(
    ("code", "message", "reason"),
    [
        ("UserNotFoundException", "Username/client id combination not found.", None),
        ("CodeMismatchException", "Invalid verification code provided, please try again.", None),  # users hidden
        ("TooManyRequestsException", "Too many requests", None),  # Cognito is there: nothing against the settings
        ("ResourceNotFoundException", f"User pool client {CLIENT_ID} does not exist.", "COGNITO_CLIENT_ID unknown"),
        (
            "NotAuthorizedException",
            f"Client {CLIENT_ID} is configured with secret but SECRET_HASH was not received",
            "COGNITO_CLIENT_SECRET missing",
        ),
        (
            "NotAuthorizedException",
            f"Unable to verify secret hash for client {CLIENT_ID}",
            "COGNITO_CLIENT_SECRET wrong",
        ),
        (
            "InvalidParameterException",
            f"App client {CLIENT_ID} is not configured for secret but secret hash was received",
            "COGNITO_CLIENT_SECRET set, but the app client has none",
        ),
    ],
)
def test_each_answer_names_the_setting_to_fix(code: str, message: str, reason: str | None) -> None:
    service, stub = stubbed_service()
    with stub:
        stub.add_client_error("confirm_sign_up", code, message)
        problem = service.check_client()
    assert (problem.reason if problem else None) == reason
    if problem:
        assert f"(Cognito: {code}: {message})" in problem.detail and SECRET not in str(problem)


def test_cognito_out_of_reach_is_unreachable_rather_than_wrong() -> None:
    settings = load_settings(base_env(COGNITO_ENDPOINT_URL=f"http://127.0.0.1:{emulator.free_port()}"))
    problem = CognitoSignup(create_client(settings), client_id=CLIENT_ID, client_secret=SECRET).check_client()
    assert problem is not None and problem.unreachable and problem.reason == "Cognito unreachable"
    assert "check COGNITO_REGION and COGNITO_ENDPOINT_URL" in problem.detail


def test_the_start_up_check_is_logged_naming_the_setting_and_readyz_answers_it_without_asking_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, stub = stubbed_service()
    app = create_app(base_env(), cognito_client=stub.client)
    with stub, caplog.at_level(logging.INFO, logger="app.web.health"):
        stub.add_client_error("confirm_sign_up", "ResourceNotFoundException", "User pool client x does not exist.")
        check_at_start(app)  # one call; /readyz then answers from it (the Stubber refuses a second)
        answer = app.test_client().get("/readyz")
    assert (answer.status_code, answer.get_data(as_text=True)) == (503, "not ready: COGNITO_CLIENT_ID unknown\n")
    assert [(r.levelname, r.getMessage()[:40]) for r in caplog.records if r.name == "app.web.health"] == [
        ("ERROR", "Not ready: COGNITO_CLIENT_ID unknown: no")
    ]


def test_a_worker_fits_the_cognito_cap_to_the_threads_gunicorn_gives_it() -> None:
    app = create_app(base_env(SIGNUP_THREADS="32"))
    assert "signup_cognito_max_in_flight 24.0" in exposition()[0].decode()
    fit_to_threads(app, 8)
    assert "signup_cognito_max_in_flight 6.0" in exposition()[0].decode()
    fit_to_threads(create_app(base_env(SIGNUP_COGNITO_MAX_IN_FLIGHT="5")), 8)
    assert "signup_cognito_max_in_flight 5.0" in exposition()[0].decode()  # as set, whatever the threads
    fit_to_threads(Flask("bare"), 8)  # another app (the benchmark's bare Flask): nothing to fit


def start_up(env: dict[str, str], log: Path) -> tuple[int, str, list[dict[str, Any]]]:
    """gunicorn started as production starts it: /readyz's answer, and the start-up check's log lines."""
    with gunicorn(env, log) as port:
        status, _, body = LoopbackClient(f"http://127.0.0.1:{port}", "127.0.0.1").request("GET", "/readyz")
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return status, body, [line for line in lines if line["logger"] == "app.web.health"]


@pytest.mark.servers
@pytest.mark.parametrize(
    ("case", "readyz", "logged"),
    [
        ("right", "ready", ("INFO", "Cognito takes the app client's calls")),
        (
            "secret missing",
            "not ready: COGNITO_CLIENT_SECRET missing",
            ("ERROR", "Not ready: COGNITO_CLIENT_SECRET missing"),
        ),
        ("secret wrong", "not ready: COGNITO_CLIENT_SECRET wrong", ("ERROR", "Not ready: COGNITO_CLIENT_SECRET wrong")),
        ("client unknown", "not ready: COGNITO_CLIENT_ID unknown", ("ERROR", "Not ready: COGNITO_CLIENT_ID unknown")),
    ],
)
def test_start_up_and_readyz_tell_a_missing_or_wrong_secret_and_an_unknown_client_apart(
    local_pool: emulator.LocalPool, tmp_path: Path, case: str, readyz: str, logged: tuple[str, str]
) -> None:
    changed = {
        "right": {},
        "secret missing": {"COGNITO_CLIENT_SECRET": None},
        "secret wrong": {"COGNITO_CLIENT_SECRET": SECRET},
        "client unknown": {"COGNITO_CLIENT_ID": "unknownclient1"},
    }[case]
    status, body, lines = start_up(base_env(**{**local_pool.environment(), **changed}), tmp_path / "app.log")
    assert (status, body) == (200 if readyz == "ready" else 503, readyz + "\n")
    assert [(line["level"], line["message"][: len(logged[1])]) for line in lines] == [logged]
    assert local_pool.client_secret not in (tmp_path / "app.log").read_text()


def test_a_problem_reads_as_its_reason_then_what_to_do(caplog: pytest.LogCaptureFixture) -> None:
    problem = ClientProblem("COGNITO_CLIENT_SECRET wrong", "copy it again")
    with caplog.at_level(logging.ERROR):
        logging.getLogger("t").error("Not ready: %s", problem)
    assert caplog.messages == ["Not ready: COGNITO_CLIENT_SECRET wrong: copy it again"]
