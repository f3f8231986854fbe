"""SIGNUP_HIDE_EXISTING_USERS: a taken username looks exactly like a new one, against the local Cognito."""

from __future__ import annotations

import html
import re
from typing import Any

from app import create_app
from local import emulator

from .conftest import SIGNUP, base_env, submit


def visible(response: Any) -> str:
    """The page without what differs between any two requests (tokens and stamps)."""
    page = html.unescape(response.get_data(as_text=True))
    return re.sub(r'name="(csrf_token|started)" type="hidden" value="[^"]*"', "", page)


def hiding_app(pool: emulator.LocalPool) -> Any:
    return create_app(base_env(**pool.environment(), SIGNUP_HIDE_EXISTING_USERS="1"))


def test_a_taken_username_leads_to_the_same_code_page_as_a_new_one(local_pool: emulator.LocalPool) -> None:
    app = hiding_app(local_pool)
    first, second = app.test_client(), app.test_client()
    new = submit(first, "/signup", SIGNUP)
    taken = submit(second, "/signup", {**SIGNUP, "given_name": "Somebody Else"})
    assert (new.status_code, new.headers["Location"]) == (taken.status_code, taken.headers["Location"])
    assert visible(first.get("/signup/confirm")) == visible(second.get("/signup/confirm"))
    assert "We sent you a code." in visible(second.get("/signup/confirm"))


def test_without_the_setting_a_taken_username_is_named(local_pool: emulator.LocalPool) -> None:
    app = create_app(base_env(**local_pool.environment()))
    submit(app.test_client(), "/signup", SIGNUP)
    taken = submit(app.test_client(), "/signup", SIGNUP)
    assert taken.status_code == 422
    assert "already exists" in visible(taken)


def test_asking_for_codes_for_unknown_or_confirmed_accounts_reveals_nothing(local_pool: emulator.LocalPool) -> None:
    app = hiding_app(local_pool)
    owner = app.test_client()
    submit(owner, "/signup", SIGNUP)
    submit(owner, "/signup/confirm", {"code": emulator.LOCAL_CODE})
    for username in ("ann@example.com", "nobody@example.com"):  # confirmed, unknown
        client = app.test_client()
        sent = submit(client, "/signup/confirm", {"username": username}, action="/signup/confirm/resend")
        assert sent.headers["Location"] == "/signup/confirm"
        assert "We sent you a new code." in visible(client.get("/signup/confirm"))


def test_a_code_for_an_unknown_account_is_just_a_wrong_code(local_pool: emulator.LocalPool) -> None:
    app = hiding_app(local_pool)
    answer = submit(app.test_client(), "/signup/confirm", {"username": "nobody@example.com", "code": "123456"})
    assert answer.status_code == 422
    assert "That code is not right." in visible(answer)
    assert "no account" not in visible(answer)
