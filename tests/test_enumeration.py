"""SIGNUP_HIDE_EXISTING_USERS: a taken username looks exactly like a new one, against the local Cognito."""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest

from app import create_app
from app.signup.timing import EvenTiming, Way
from local import emulator

from .conftest import SIGNUP, StrictStubber, app_with, base_env, submit, text, without_tokens


def hiding_app(pool: emulator.LocalPool, **env: str) -> Any:
    return create_app(base_env(**pool.environment(), SIGNUP_HIDE_EXISTING_USERS="1", **env))


def confirmed_account(app: Any) -> None:
    client = app.test_client()
    code_page = submit(client, "/signup", SIGNUP).headers["Location"]
    assert submit(client, code_page, {"code": emulator.LOCAL_CODE}).status_code == 302


def test_a_taken_username_leads_to_the_same_code_page_as_a_new_one(local_pool: emulator.LocalPool) -> None:
    app = hiding_app(local_pool)
    first, second = app.test_client(), app.test_client()
    new = submit(first, "/signup", SIGNUP)
    taken = submit(second, "/signup", {**SIGNUP, "given_name": "Somebody Else"})
    assert new.status_code == taken.status_code == 302
    new_page, taken_page = (text(c.get(r.headers["Location"])) for c, r in ((first, new), (second, taken)))
    assert without_tokens(new_page) == without_tokens(taken_page)
    assert "We sent a code by email to ann@example.com." in taken_page


def test_a_taken_username_starts_the_same_resend_cooldown_as_a_new_one(local_pool: emulator.LocalPool) -> None:
    # Before, only a new account's code page counted down and refused an immediate resend.
    confirmed_account(hiding_app(local_pool))  # on another instance: its own sign-up starts no cooldown here
    app = hiding_app(local_pool, SIGNUP_RATELIMIT_RESEND_PER_USER="1/minute")
    answers = []
    for email in ("new@example.com", SIGNUP["username"]):
        client = app.test_client()
        code_page = submit(client, "/signup", {**SIGNUP, "username": email}).headers["Location"]
        page = text(client.get(code_page))
        assert 'id="resend-wait"' in page
        answers.append(submit(client, code_page, {}, resend=True).status_code)
    assert answers == [429, 429]


def test_without_the_setting_a_taken_username_is_named(local_pool: emulator.LocalPool) -> None:
    app = create_app(base_env(**local_pool.environment()))
    submit(app.test_client(), "/signup", SIGNUP)
    taken = submit(app.test_client(), "/signup", SIGNUP)
    assert taken.status_code == 422
    assert "already exists" in text(taken)


def test_asking_for_codes_for_unknown_or_confirmed_accounts_reveals_nothing(local_pool: emulator.LocalPool) -> None:
    app = hiding_app(local_pool)
    confirmed_account(app)
    pages = []
    for username in ("ann@example.com", "nobody@example.com"):  # confirmed, unknown
        client = app.test_client()
        sent = submit(client, "/signup/confirm", {"username": username}, resend=True)
        assert sent.headers["Location"].startswith("/signup/confirm?flow=")
        page = text(client.get(sent.headers["Location"]))
        assert "We sent you a new code." in page
        pages.append(without_tokens(page.replace(username, "…")))
    assert pages[0] == pages[1]


def test_a_code_for_an_unknown_or_confirmed_account_is_just_a_wrong_code(local_pool: emulator.LocalPool) -> None:
    # Before, a confirmed account's name with any code led to the done page, an unknown name to an error.
    app = hiding_app(local_pool)
    confirmed_account(app)
    answers = {}
    for username in ("ann@example.com", "nobody@example.com"):
        answer = submit(app.test_client(), "/signup/confirm", {"username": username, "code": "000000"})
        answers[username] = (answer.status_code, without_tokens(text(answer).replace(username, "…")))
    assert answers["ann@example.com"] == answers["nobody@example.com"]
    status, page = answers["nobody@example.com"]
    assert status == 422
    assert "That code is not right." in page and "If you have already confirmed your account, you can sign in." in page
    assert "no account" not in page


def test_existing_and_unknown_accounts_take_the_same_time_to_answer(local_pool: emulator.LocalPool) -> None:
    app = hiding_app(local_pool, SIGNUP_RATELIMIT_CONFIRM="1000/minute", SIGNUP_RATELIMIT_CONFIRM_PER_USER="1000/hour")
    confirmed_account(app)
    client = app.test_client()
    timings: dict[str, list[float]] = {"ann@example.com": [], "nobody@example.com": []}
    for _ in range(15):
        for username, times in timings.items():
            started = time.perf_counter()
            submit(client, "/signup/confirm", {"username": username, "code": "000000"})
            times.append(time.perf_counter() - started)
    medians = [statistics.median(times) for times in timings.values()]
    # Both ask Cognito once and render the same page: the medians differ by noise only.
    assert max(medians) < 2 * min(medians) + 0.005


def test_errors_only_an_existing_account_can_cause_read_as_an_unknown_ones_under_hiding(stubber: StrictStubber) -> None:
    """Cognito's per-account answers (a code expired, too many codes sent or tried) would tell that an
    account exists: with hiding on, each is the same page as a code for an account that does not."""
    errors = [
        "UserNotFoundException",
        "ExpiredCodeException",
        "LimitExceededException",
        "TooManyFailedAttemptsException",
        "CodeMismatchException",
    ]
    for error in errors:
        stubber.add_client_error("confirm_sign_up", error, "said by Cognito")
    app = app_with(stubber, SIGNUP_HIDE_EXISTING_USERS="1")
    answers = set()
    for _ in errors:
        answer = submit(app.test_client(), "/signup/confirm", {"username": "ann@example.com", "code": "123456"})
        answers.add((answer.status_code, answer.headers.get("Retry-After"), without_tokens(text(answer))))
    assert len(answers) == 1
    ((status, retry_after, page),) = answers
    assert status == 422 and retry_after is None and "That code is not right." in page


def test_cognitos_limit_on_one_accounts_codes_reads_as_a_code_sent_under_hiding(stubber: StrictStubber) -> None:
    """Only an existing account can reach Cognito's limit on the codes sent for it: with hiding on,
    asking for a new code on the returning form, for a new password, and again on the new-password
    page all answer as they do for an account that does not exist."""
    limits = {"SIGNUP_RATELIMIT_CODES_PER_DESTINATION": "10/hour", "SIGNUP_RATELIMIT_RESEND_PER_USER": "10/hour"}
    app = app_with(stubber, SIGNUP_HIDE_EXISTING_USERS="1", **limits)
    answers: dict[str, list[tuple[Any, ...]]] = {}
    for error in ("UserNotFoundException", "LimitExceededException"):
        stubber.add_client_error("resend_confirmation_code", error, "said by Cognito")
        stubber.add_client_error("forgot_password", error, "said by Cognito")
        stubber.add_client_error("forgot_password", error, "said by Cognito")  # the decoy, for an unknown account
        client = app.test_client()
        resent = submit(client, "/signup/confirm", {"username": "ann@example.com"}, resend=True)
        asked = submit(client, "/signup/forgot", {"username": "ann@example.com"})
        again = submit(client, asked.headers["Location"], {}, resend=True)
        answers[error] = [
            (
                answer.status_code,
                answer.headers.get("Retry-After"),
                len(answer.headers["Location"]),
                without_tokens(text(client.get(answer.headers["Location"]))),
            )
            for answer in (resent, asked, again)
        ]
    assert answers["LimitExceededException"] == answers["UserNotFoundException"]
    assert [status for status, *_ in answers["UserNotFoundException"]] == [302, 302, 302]


def test_a_new_passwords_answers_only_an_existing_account_can_cause_read_as_a_wrong_code_under_hiding(
    stubber: StrictStubber,
) -> None:
    errors = [
        "UserNotFoundException",
        "UserNotConfirmedException",
        "ExpiredCodeException",
        "LimitExceededException",
        "TooManyFailedAttemptsException",
        "CodeMismatchException",
    ]
    limits = {"SIGNUP_RATELIMIT_CODES_PER_DESTINATION": "10/hour", "SIGNUP_RATELIMIT_RESEND_PER_USER": "10/hour"}
    app = app_with(stubber, SIGNUP_HIDE_EXISTING_USERS="1", **limits)
    answers = set()
    for error in errors:
        stubber.add_response("forgot_password", {})
        stubber.add_client_error("confirm_forgot_password", error, "said by Cognito")
        client = app.test_client()
        password_page = submit(client, "/signup/forgot", {"username": "ann@example.com"}).headers["Location"]
        answer = submit(client, password_page, {"code": "123456", "password": "Battery-Staple-7"})
        answers.add((answer.status_code, answer.headers.get("Retry-After"), without_tokens(text(answer))))
    assert len(answers) == 1
    ((status, retry_after, page),) = answers
    assert status == 422 and retry_after is None and "That code is not right." in page


def test_a_hidden_sign_up_waits_for_the_slowest_ways_average_and_never_long() -> None:
    waits: list[float] = []
    timing = EvenTiming(weight=0.5, longest_wait=1.0, sleep=waits.append)
    now = time.monotonic()
    timing.finish(Way.REPLACED, now - 0.4)  # the slowest way so far: nothing to wait for
    timing.finish(Way.NEW, now - 0.1)  # brought up to the replaced way's 0.4 s
    timing.finish(Way.REPLACED, now - 4.4)  # a slow spell: the average moves half way, to 2.4 s
    timing.finish(Way.TAKEN, now - 0.1)  # but no sign-up waits more than a second
    assert waits == [pytest.approx(0.3, abs=0.05), pytest.approx(1.0)]
