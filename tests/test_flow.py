"""The whole flow over HTTP against the local Cognito (ministack with AUTH=true)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from app import create_app
from app.aws.pool import create_user_pool_request
from app.config.declaration import load_declaration
from local import emulator

from .conftest import CLIENT_SECRET, SAMPLE, SIGNUP, base_env, submit, text


def user_in_pool(pool: emulator.LocalPool, email: str) -> dict[str, Any]:
    users = emulator.admin_client(pool.endpoint).list_users(UserPoolId=pool.pool_id, Filter=f'email = "{email}"')[
        "Users"
    ]
    assert len(users) == 1
    user = users[0]
    return {"status": user["UserStatus"], **{a["Name"]: a["Value"] for a in user["Attributes"]}}


def test_sign_up_wrong_code_right_code_done(flow_app: Any, local_pool: emulator.LocalPool) -> None:
    client = flow_app.test_client()
    response = submit(client, "/signup", SIGNUP)
    code_page = response.headers["Location"]
    assert response.status_code == 302 and code_page.startswith("/signup/confirm?flow=")
    assert not response.headers.get("Set-Cookie")

    page = client.get(code_page)
    assert "We sent a code by email to ann@example.com." in text(page)
    assert 'name="username"' not in text(page)  # the page's address says who this is

    wrong = submit(client, code_page, {"code": "000000"})
    assert wrong.status_code == 422
    assert "That code is not right." in text(wrong)

    right = submit(client, code_page, {"code": emulator.LOCAL_CODE})
    assert right.status_code == 302 and right.headers["Location"].startswith("/signup/done?flow=")
    assert "Your account is ready" in text(client.get(right.headers["Location"]))

    user = user_in_pool(local_pool, "ann@example.com")
    assert user.pop("sub")
    assert user == {
        "status": "CONFIRMED",
        "email": "ann@example.com",
        "given_name": "Ann",
        "custom:company": "Example Ltd",
        "custom:seats": "3",
        "custom:plan": "team",
    }


def test_a_new_code_can_be_sent_and_used(flow_app: Any) -> None:
    client = flow_app.test_client()
    code_page = submit(client, "/signup", SIGNUP).headers["Location"]
    resent = submit(client, code_page, {"code": ""}, resend=True)
    assert resent.status_code == 302 and resent.headers["Location"].startswith("/signup/confirm?flow=")
    page = text(client.get(resent.headers["Location"]))
    assert "We sent you a new code." in page
    assert "We sent a code by email to ann@example.com." in page
    done = submit(client, resent.headers["Location"], {"code": emulator.LOCAL_CODE})
    assert done.headers["Location"].startswith("/signup/done")


def test_a_taken_username_is_reported_on_the_username_field(flow_app: Any) -> None:
    submit(flow_app.test_client(), "/signup", SIGNUP)
    again = submit(flow_app.test_client(), "/signup", {**SIGNUP, "given_name": "Another Ann"})
    assert again.status_code == 422
    assert "An account with this email address already exists." in text(again)
    assert 'value="Another Ann"' in text(again)


def test_a_weak_password_is_refused_before_cognito_is_asked(flow_app: Any) -> None:
    weak = submit(flow_app.test_client(), "/signup", {**SIGNUP, "password": "password", "password_confirm": "password"})
    assert weak.status_code == 422
    assert "Your password needs an uppercase letter, a number, and a symbol, one of" in text(weak)


def test_a_password_the_pool_refuses_is_reported_on_the_password_field(cognito_endpoint: str) -> None:
    # A pool whose policy is stricter than the declaration says: Cognito refuses, the form explains.
    request = create_user_pool_request(load_declaration(SAMPLE), "strict")
    request["Policies"]["PasswordPolicy"]["MinimumLength"] = 30
    admin = emulator.admin_client(cognito_endpoint)
    pool_id = admin.create_user_pool(**request)["UserPool"]["Id"]
    client = admin.create_user_pool_client(UserPoolId=pool_id, ClientName="c", GenerateSecret=True)["UserPoolClient"]
    env = base_env(
        COGNITO_REGION="us-east-1",
        COGNITO_USER_POOL_ID=pool_id,
        COGNITO_CLIENT_ID=client["ClientId"],
        COGNITO_CLIENT_SECRET=client["ClientSecret"],
        COGNITO_ENDPOINT_URL=cognito_endpoint,
    )
    refused = submit(create_app(env).test_client(), "/signup", SIGNUP)
    assert refused.status_code == 422
    assert "This password was not accepted." in text(refused)


def test_a_wrong_client_secret_shows_a_generic_503_and_leaks_nothing(
    local_pool: emulator.LocalPool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong_secret = "wrong-" + CLIENT_SECRET
    app = create_app(base_env(**{**local_pool.environment(), "COGNITO_CLIENT_SECRET": wrong_secret}))
    response = submit(app.test_client(), "/signup", SIGNUP)
    page = text(response)
    assert response.status_code == 503
    assert "We could not create your account just now." in page
    assert 'value="Example Ltd"' in page  # the form is kept
    assert "NotAuthorizedException" in caplog.text  # the operator learns why
    for secret in (wrong_secret, local_pool.client_secret, SIGNUP["password"]):
        assert secret not in page
        assert secret not in caplog.text


def test_cognito_out_of_reach_keeps_the_form_with_a_503(local_pool: emulator.LocalPool) -> None:
    closed = f"http://127.0.0.1:{emulator.free_port()}"
    app = create_app(base_env(**{**local_pool.environment(), "COGNITO_ENDPOINT_URL": closed}))
    response = submit(app.test_client(), "/signup", SIGNUP)
    assert response.status_code == 503
    assert 'value="ann@example.com"' in text(response)


def test_a_returning_person_without_the_code_page_can_confirm_then_chooses_a_password(flow_app: Any) -> None:
    submit(flow_app.test_client(), "/signup", SIGNUP)

    later = flow_app.test_client()  # another browser, the next day
    page = text(later.get("/signup/confirm"))
    assert 'name="username"' in page and 'name="code"' in page
    unknown = submit(later, "/signup/confirm", {"username": "nobody@example.com", "code": "123456"})
    assert unknown.status_code == 422
    assert "We found no account with this email address." in text(unknown)
    done = submit(later, "/signup/confirm", {"username": "ann@example.com", "code": emulator.LOCAL_CODE})
    # Confirmed, but with a password whoever started the sign-up chose: one of their own comes next.
    assert done.headers["Location"].startswith("/signup/password?flow=")


def test_a_returning_person_can_ask_for_a_new_code(flow_app: Any) -> None:
    submit(flow_app.test_client(), "/signup", SIGNUP)
    later = flow_app.test_client()
    empty = submit(later, "/signup/confirm", {"username": ""}, resend=True)
    assert empty.status_code == 422
    assert "Enter your email address." in text(empty)
    sent = submit(later, "/signup/confirm", {"username": "ann@example.com"}, resend=True)
    assert sent.headers["Location"].startswith("/signup/confirm?flow=")
    assert "We sent a code by email to ann@example.com." in text(later.get(sent.headers["Location"]))


def test_confirming_an_already_confirmed_account_ends_on_the_done_page(flow_app: Any) -> None:
    client = flow_app.test_client()
    code_page = submit(client, "/signup", SIGNUP).headers["Location"]
    submit(client, code_page, {"code": emulator.LOCAL_CODE})
    again = submit(flow_app.test_client(), "/signup/confirm", {"username": "ann@example.com", "code": "123456"})
    assert again.headers["Location"].startswith("/signup/done")


def test_success_url_replaces_the_done_page(local_pool: emulator.LocalPool) -> None:
    app = create_app(base_env(**local_pool.environment(), SIGNUP_SUCCESS_URL="https://example.com/welcome"))
    client = app.test_client()
    code_page = submit(client, "/signup", SIGNUP).headers["Location"]
    done = submit(client, code_page, {"code": emulator.LOCAL_CODE})
    assert done.headers["Location"] == "https://example.com/welcome"
