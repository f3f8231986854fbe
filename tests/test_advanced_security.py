"""Optional advanced security: the browser's encoded data reaches Cognito; off or without it, the IP alone."""

from __future__ import annotations

from typing import Any

from botocore.stub import ANY

from app.aws.cognito import secret_hash
from app.signup.flow import Flow, Kind

from .conftest import CLIENT_SECRET, SIGNUP, StrictStubber, app_with, csrf_token

SCRIPT = "https://amazon-cognito-assets.eu-west-1.amazoncognito.com/amazon-cognito-advanced-security-data.min.js"


def expected_sign_up(user_context: dict[str, str]) -> dict[str, Any]:
    return {
        "ClientId": "testclientid123",
        "Username": "ann@example.com",
        "SecretHash": secret_hash(CLIENT_SECRET, "ann@example.com", "testclientid123"),
        "UserContextData": user_context,
        # The declared pair, and what a CustomMessage trigger needs to write the code email: the
        # page's language and the address where the code can be entered (a sealed flow: any).
        "ClientMetadata": {"source": "web-signup", "lang": "en", "code_page_url": ANY},
        "Password": SIGNUP["password"],
        "UserAttributes": [
            {"Name": "email", "Value": "ann@example.com"},
            {"Name": "given_name", "Value": "Ann"},
            {"Name": "custom:company", "Value": "Example Ltd"},
            {"Name": "custom:seats", "Value": "3"},
            {"Name": "custom:plan", "Value": "team"},
        ],
    }


def test_pages_load_cognitos_script_and_describe_the_pool(stubber: StrictStubber) -> None:
    page = app_with(stubber, SIGNUP_ADVANCED_SECURITY="1").test_client().get("/signup").get_data(as_text=True)
    assert f'<script src="{SCRIPT}" defer></script>' in page
    assert 'data-asf-pool="eu-west-1_TestPool1"' in page
    assert 'name="encoded_data"' in page


def test_encoded_data_from_the_browser_is_sent_with_the_ip(stubber: StrictStubber) -> None:
    stubber.add_response(
        "sign_up",
        {"UserConfirmed": False, "UserSub": "s"},
        expected_params=expected_sign_up({"IpAddress": "198.51.100.4", "EncodedData": "eyJkZXZpY2UiOiJ4In0="}),
    )
    client = app_with(stubber, SIGNUP_ADVANCED_SECURITY="1").test_client()
    token = csrf_token(client.get("/signup").get_data(as_text=True))
    response = client.post(
        "/signup",
        data={**SIGNUP, "csrf_token": token, "encoded_data": "eyJkZXZpY2UiOiJ4In0="},
        environ_base={"REMOTE_ADDR": "198.51.100.4"},
    )
    assert response.status_code == 302


def test_without_javascript_only_the_ip_is_sent(stubber: StrictStubber) -> None:
    stubber.add_response(
        "sign_up",
        {"UserConfirmed": False, "UserSub": "s"},
        expected_params=expected_sign_up({"IpAddress": "198.51.100.4"}),
    )
    client = app_with(stubber, SIGNUP_ADVANCED_SECURITY="1").test_client()
    token = csrf_token(client.get("/signup").get_data(as_text=True))
    response = client.post(
        "/signup",
        data={**SIGNUP, "csrf_token": token, "encoded_data": ""},
        environ_base={"REMOTE_ADDR": "198.51.100.4"},
    )
    assert response.status_code == 302  # and the Stubber saw exactly the expected parameters


def test_with_the_setting_off_nothing_is_loaded_and_posted_data_is_ignored(stubber: StrictStubber) -> None:
    stubber.add_response(
        "sign_up",
        {"UserConfirmed": False, "UserSub": "s"},
        expected_params=expected_sign_up({"IpAddress": "198.51.100.4"}),
    )
    client = app_with(stubber).test_client()
    page = client.get("/signup").get_data(as_text=True)
    assert "amazoncognito.com" not in page and "data-asf-pool" not in page
    token = csrf_token(page)
    response = client.post(
        "/signup",
        data={**SIGNUP, "csrf_token": token, "encoded_data": "x"},
        environ_base={"REMOTE_ADDR": "198.51.100.4"},
    )
    assert response.status_code == 302  # and the Stubber saw exactly the expected parameters


def test_a_trigger_confirmed_account_skips_the_code_page(stubber: StrictStubber) -> None:
    stubber.add_response("sign_up", {"UserConfirmed": True, "UserSub": "s"})
    client = app_with(stubber).test_client()
    token = csrf_token(client.get("/signup").get_data(as_text=True))
    response = client.post("/signup", data={**SIGNUP, "csrf_token": token})
    assert response.headers["Location"].startswith("/signup/done?flow=")


def test_third_party_scripts_load_on_the_sign_up_form_alone(stubber: StrictStubber) -> None:
    """The pages after the form carry the sealed flow (with immediate sign-in, Cognito's Session) in
    their address, and the signed-in page, which the code page's own route answers, posts tokens:
    neither Cognito's script nor the CAPTCHA's runs there, and their policy allows none."""
    app = app_with(
        stubber,
        SIGNUP_ADVANCED_SECURITY="1",
        SIGNUP_CAPTCHA="turnstile",
        SIGNUP_CAPTCHA_SITE_KEY="site-key-1",
        SIGNUP_CAPTCHA_SECRET_KEY="captcha-secret",
    )
    client = app.test_client()
    form = client.get("/signup")
    assert SCRIPT in form.get_data(as_text=True) and "challenges.cloudflare.com" in form.get_data(as_text=True)
    assert "amazoncognito.com" in form.headers["Content-Security-Policy"]
    flow = app.extensions["signup"].flows.seal(Flow("ann@example.com", kind=Kind.CREATED))
    later = [f"/signup/confirm?flow={flow}", "/signup/confirm", "/signup/forgot", f"/signup/done?flow={flow}", "/x"]
    for address in later:
        page = client.get(address)
        html = page.get_data(as_text=True)
        assert "amazoncognito.com" not in html and "cloudflare" not in html and "data-asf-pool" not in html, address
        policy = page.headers["Content-Security-Policy"]
        assert "script-src 'self';" in policy and "frame-src 'none'" in policy, address
