"""Bot checks: honeypot, time to fill, CAPTCHA verified on the server, allowed phone regions."""

from __future__ import annotations

import html
import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

import pytest
from botocore.stub import ANY

from local import emulator

from .conftest import SIGNUP, StrictStubber, app_with, csrf_token, text
from .servers import serve

SIGNED_UP = {"UserConfirmed": False, "UserSub": "s"}
REFUSED = "We could not accept this form. Check your details, then select “Create account” again."


def open_form(client: Any) -> dict[str, str]:
    """The token of a freshly opened sign-up form, which also says when it was opened."""
    return {"csrf_token": csrf_token(client.get("/signup").get_data(as_text=True))}


def test_the_honeypot_is_hidden_from_people_and_screen_readers(stubber: StrictStubber) -> None:
    page = app_with(stubber).test_client().get("/signup").get_data(as_text=True)
    assert '<div class="hp" aria-hidden="true"><label for="homepage">' in page
    assert 'tabindex="-1"' in page.split('<div class="hp"')[1].split("</div>")[0]


def test_a_filled_honeypot_is_refused_without_asking_cognito(stubber: StrictStubber) -> None:
    client = app_with(stubber).test_client()
    response = client.post("/signup", data={**SIGNUP, **open_form(client), "homepage": "http://spam.example"})
    assert response.status_code == 422
    assert REFUSED in text(response)


def test_a_form_sent_quicker_than_a_person_types_goes_through_and_counts_twice(stubber: StrictStubber) -> None:
    # A password manager fills a form and sends it at once: never refused for that; but a bot that
    # posts at once meets its address's limit at half the rate.
    stubber.add_response("sign_up", SIGNED_UP)
    client = app_with(stubber, SIGNUP_MIN_FILL_SECONDS="5", SIGNUP_RATELIMIT_SIGNUP="3/minute").test_client()
    assert client.post("/signup", data={**SIGNUP, **open_form(client)}).status_code == 302
    again = client.post("/signup", data={**SIGNUP, "username": "bob@example.com", **open_form(client)})
    assert again.status_code == 429


def test_a_form_sent_after_the_minimum_time_goes_through(stubber: StrictStubber) -> None:
    stubber.add_response("sign_up", SIGNED_UP)
    client = app_with(stubber, SIGNUP_MIN_FILL_SECONDS="0.3").test_client()
    fields = open_form(client)
    time.sleep(0.4)
    assert client.post("/signup", data={**SIGNUP, **fields}).status_code == 302


@pytest.mark.parametrize("token", ["", "forged", "InNpZ251cCI.aaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbb"])
def test_a_missing_or_forged_form_token_says_when_the_form_was_opened_to_nobody(
    stubber: StrictStubber, token: str
) -> None:
    client = app_with(stubber, SIGNUP_MIN_FILL_SECONDS="0.1").test_client()
    time.sleep(0.2)
    assert client.post("/signup", data={**SIGNUP, "csrf_token": token}).status_code == 400


class FakeSiteVerify:
    """Stands in for Turnstile's siteverify endpoint: 'good' passes, anything else fails."""

    def __init__(self) -> None:
        self.calls: list[dict[str, list[str]]] = []

    def __call__(self, request: BaseHTTPRequestHandler) -> None:
        form = parse_qs(request.rfile.read(int(request.headers["Content-Length"])).decode())
        self.calls.append(form)
        body = json.dumps({"success": form.get("response") == ["good"]}).encode()
        request.send_response(200)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)


@pytest.fixture
def siteverify() -> Iterator[tuple[FakeSiteVerify, str]]:
    fake = FakeSiteVerify()
    with serve(fake) as port:
        yield fake, f"http://127.0.0.1:{port}/siteverify"


def captcha_app(stubber: StrictStubber, verify_url: str) -> Any:
    return app_with(
        stubber,
        SIGNUP_CAPTCHA="turnstile",
        SIGNUP_CAPTCHA_SITE_KEY="site-key-1",
        SIGNUP_CAPTCHA_SECRET_KEY="captcha-secret-canary",
        SIGNUP_CAPTCHA_VERIFY_URL=verify_url,
    )


def test_the_captcha_widget_is_shown_and_allowed_by_the_csp(stubber: StrictStubber, siteverify: Any) -> None:
    response = captcha_app(stubber, siteverify[1]).test_client().get("/signup")
    page = response.get_data(as_text=True)
    assert '<div class="field cf-turnstile" data-sitekey="site-key-1"></div>' in page
    assert '<script src="https://challenges.cloudflare.com/turnstile/v0/api.js" async defer></script>' in page
    assert "captcha-secret-canary" not in page
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self' https://challenges.cloudflare.com;" in policy
    assert "frame-src https://challenges.cloudflare.com;" in policy


def test_a_genuine_captcha_answer_is_verified_on_the_server(stubber: StrictStubber, siteverify: Any) -> None:
    fake, url = siteverify
    stubber.add_response("sign_up", SIGNED_UP)
    client = captcha_app(stubber, url).test_client()
    response = client.post(
        "/signup",
        data={**SIGNUP, **open_form(client), "cf-turnstile-response": "good"},
        environ_base={"REMOTE_ADDR": "198.51.100.8"},
    )
    assert response.status_code == 302
    assert fake.calls == [{"secret": ["captcha-secret-canary"], "response": ["good"], "remoteip": ["198.51.100.8"]}]


@pytest.mark.parametrize("answer", ["bad", None])
def test_a_wrong_or_missing_captcha_answer_is_refused(
    stubber: StrictStubber, siteverify: Any, answer: str | None
) -> None:
    client = captcha_app(stubber, siteverify[1]).test_client()
    data = {**SIGNUP, **open_form(client)}
    if answer:
        data["cf-turnstile-response"] = answer
    response = client.post("/signup", data=data)
    assert response.status_code == 422
    assert "Please complete the check that you are a person." in text(response)


def test_an_unreachable_captcha_service_is_a_503_that_keeps_the_form(stubber: StrictStubber) -> None:
    client = captcha_app(stubber, f"http://127.0.0.1:{emulator.free_port()}/siteverify").test_client()
    response = client.post("/signup", data={**SIGNUP, **open_form(client), "cf-turnstile-response": "good"})
    assert response.status_code == 503
    assert 'value="Example Ltd"' in response.get_data(as_text=True)


def test_phone_numbers_outside_the_allowed_regions_are_refused(stubber: StrictStubber, tmp_path: Any) -> None:
    declaration = tmp_path / "signup.toml"
    declaration.write_text('username = "phone_number"\nallowed_phone_regions = ["GB", "IE"]\n')
    stubber.add_response("sign_up", SIGNED_UP)
    app = app_with(stubber, SIGNUP_CONFIG=str(declaration))
    password = {"password": "Correct-Horse-9", "password_confirm": "Correct-Horse-9"}
    client = app.test_client()
    abroad = client.post("/signup", data={"username": "+1 201 555 0123", **password, **open_form(client)})
    assert abroad.status_code == 422
    assert "We can only send codes to phone numbers in United Kingdom and Ireland." in html.unescape(
        abroad.get_data(as_text=True)
    )
    home = client.post("/signup", data={"username": "+44 7400 123456", **password, **open_form(client)})
    assert home.status_code == 302


def test_the_country_list_reads_a_local_number_in_the_chosen_country(stubber: StrictStubber, tmp_path: Any) -> None:
    declaration = tmp_path / "signup.toml"
    declaration.write_text('username = "phone_number"\n')
    stubber.add_response(
        "sign_up",
        SIGNED_UP,
        expected_params={
            "ClientId": "testclientid123",
            "Username": "+33612345678",
            "SecretHash": ANY,
            "UserContextData": ANY,
            "ClientMetadata": ANY,
            "Password": "Correct-Horse-9",
            "UserAttributes": [{"Name": "phone_number", "Value": "+33612345678"}],
        },
    )
    client = app_with(stubber, SIGNUP_CONFIG=str(declaration)).test_client()
    page = client.get("/signup").get_data(as_text=True)
    assert "data-countries=" in page and "France" in html.unescape(page)
    form = {"username": "06 12 34 56 78", "username_region": "FR"}  # the page script adds username_region
    password = {"password": "Correct-Horse-9", "password_confirm": "Correct-Horse-9"}
    assert client.post("/signup", data={**form, **password, **open_form(client)}).status_code == 302
