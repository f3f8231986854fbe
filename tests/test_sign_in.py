"""Finishing signed in: the hand-off to Managed Login (the local Cognito's hosted UI) and immediate
sign-in with Cognito's Sessions (the emulator behind tests/servers.py's SessionCognito), ending at
a small site of another origin that checks the ID token with docs/examples/verify_id_token.py."""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import urllib3

from app import create_app
from local import emulator

from .browser import chromium, enter_code, expect
from .conftest import ROOT, SIGNUP, base_env, form_action, submit, text
from .servers import PARENT, SessionCognito, gunicorn, page, serve

SPEC = importlib.util.spec_from_file_location("verify_id_token", ROOT / "docs" / "examples" / "verify_id_token.py")
assert SPEC and SPEC.loader
EXAMPLE = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(EXAMPLE)


@dataclass
class Site:
    """Another site: its OAuth callback exchanges Managed Login's code for tokens; its token
    callback takes what immediate sign-in posts. Either way it checks the ID token as the docs say."""

    pool: emulator.LocalPool
    client_id: str
    client_secret: str
    origin: str = ""
    signed_in: list[dict[str, Any]] = field(default_factory=list)
    posted: list[dict[str, str]] = field(default_factory=list)

    def __call__(self, request: BaseHTTPRequestHandler) -> None:
        path = urlsplit(request.path)
        if path.path == "/callback":  # Managed Login's redirect: ?code=...&state=...
            query = {k: v[0] for k, v in parse_qs(path.query).items()}
            tokens = self.exchange(query["code"])
            self.accept(tokens["id_token"], self.client_id, query.get("state", ""))
        elif path.path == "/tokens":  # immediate sign-in's form post
            body = request.rfile.read(int(request.headers["Content-Length"])).decode()
            form = {k: v[0] for k, v in parse_qs(body).items()}
            self.posted.append(form)
            self.accept(form["id_token"], self.pool.client_id, form.get("state", ""))
        who = self.signed_in[-1]["email"] if self.signed_in else "nobody"
        page(f"<!doctype html><title>Site</title><h1>Signed in as {who}</h1>")(request)

    def exchange(self, code: str) -> dict[str, Any]:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": f"{self.origin}/callback"}
        answer = urllib3.request(
            "POST",
            f"{self.pool.endpoint}/oauth2/token",
            body=urlencode(form),
            headers={
                **urllib3.make_headers(basic_auth=f"{self.client_id}:{self.client_secret}"),
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        assert answer.status == 200, answer.data
        return json.loads(answer.data)

    def accept(self, id_token: str, audience: str, state: str) -> None:
        claims = EXAMPLE.verify_id_token(
            id_token,
            region=self.pool.region,
            user_pool_id=self.pool.pool_id,
            client_id=audience,
            jwks_url=f"{self.pool.endpoint}/{self.pool.pool_id}/.well-known/jwks.json",
        )
        self.signed_in.append({**claims, "state": state})


@pytest.fixture
def site(local_pool: emulator.LocalPool) -> Iterator[Site]:
    """The site, on 127.0.0.1 (the app runs on localhost: another site), with an app client of its own."""
    port = emulator.free_port()
    origin = f"http://127.0.0.1:{port}"
    client = emulator.admin_client(local_pool.endpoint).create_user_pool_client(
        UserPoolId=local_pool.pool_id,
        ClientName="site",
        GenerateSecret=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthScopes=["openid", "email"],
        CallbackURLs=[f"{origin}/callback"],
        SupportedIdentityProviders=["COGNITO"],
    )["UserPoolClient"]
    site = Site(local_pool, client["ClientId"], client["ClientSecret"], origin)
    with serve(site, port=port):
        yield site


def hand_off_env(pool: emulator.LocalPool, site: Site, **more: str) -> dict[str, str]:
    return base_env(
        **pool.environment(),
        COGNITO_DOMAIN=pool.endpoint,
        SIGNUP_SIGN_IN_REDIRECT_URI=f"{site.origin}/callback",
        SIGNUP_SIGN_IN_CLIENT_ID=site.client_id,
        **more,
    )


def test_the_hand_off_continues_to_managed_login_with_the_username_and_the_sites_state(
    local_pool: emulator.LocalPool, site: Site
) -> None:
    client = create_app(hand_off_env(local_pool, site)).test_client()
    code_page = submit(client, "/signup?state=site-state-1", SIGNUP).headers["Location"]
    done = submit(client, code_page, {"code": emulator.LOCAL_CODE})
    target = urlsplit(done.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{local_pool.endpoint}/oauth2/authorize"
    assert query == {
        "response_type": "code",
        "client_id": site.client_id,
        "redirect_uri": f"{site.origin}/callback",
        "scope": "openid email",
        "login_hint": "ann@example.com",
        "state": "site-state-1",
    }


def test_a_new_password_hands_off_to_managed_login_as_a_sign_up_does(
    local_pool: emulator.LocalPool, site: Site
) -> None:
    client = create_app(hand_off_env(local_pool, site)).test_client()
    code_page = submit(client, "/signup", SIGNUP).headers["Location"]
    submit(client, code_page, {"code": emulator.LOCAL_CODE})
    password_page = submit(client, "/signup/forgot?state=site-state-2", {"username": "ann@example.com"})
    new_password = {"code": emulator.LOCAL_RESET_CODE, "password": "Battery-Staple-7"}
    done = submit(client, password_page.headers["Location"], new_password)
    target = urlsplit(done.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{local_pool.endpoint}/oauth2/authorize"
    assert (query["login_hint"], query["state"]) == ("ann@example.com", "site-state-2")


def test_a_person_signs_up_and_is_signed_in_to_the_site_through_managed_login(
    playwright: Any, local_pool: emulator.LocalPool, site: Site, tmp_path: Path
) -> None:
    with (
        gunicorn(hand_off_env(local_pool, site), tmp_path / "app.log") as port,
        chromium(playwright, tmp_path / "profile") as browser,
    ):
        tab = browser.new_page()
        tab.goto(f"http://localhost:{port}/signup?state=s-42")
        fill_signup(tab, "handoff@example.com")
        enter_code(tab, emulator.LOCAL_CODE)
        # Managed Login (here the local Cognito's hosted UI) asks for the password, once.
        tab.locator("input[name=password]").fill(SIGNUP["password"])
        if tab.locator("input[name=username]").count():
            tab.locator("input[name=username]").fill("handoff@example.com")
        tab.locator("form [type=submit]").first.click()
        expect(tab.get_by_role("heading", name="Signed in as handoff@example.com")).to_be_visible()
    (claims,) = site.signed_in
    assert (claims["email"], claims["aud"], claims["token_use"], claims["state"]) == (
        "handoff@example.com",
        site.client_id,
        "id",
        "s-42",
    )


def test_inside_a_frame_the_hand_off_opens_in_the_top_window(
    playwright: Any, local_pool: emulator.LocalPool, site: Site, tmp_path: Path
) -> None:
    parent_port = emulator.free_port()
    env = hand_off_env(local_pool, site, SIGNUP_FRAME_ANCESTORS=f"http://127.0.0.1:{parent_port}")
    with gunicorn(env, tmp_path / "app.log") as port:
        app = f"http://localhost:{port}"
        with (
            serve(page(PARENT.format(app=app, resize="true")), port=parent_port),
            chromium(playwright, tmp_path / "p") as browser,
        ):
            tab = browser.new_page()
            frame = confirmed_in_frame(tab, f"http://127.0.0.1:{parent_port}/", "#signup", "framed-handoff@example.com")
            sign_in = frame.get_by_role("link", name="Sign in")
            expect(sign_in).to_have_attribute("target", "_top")
            messages = [m["data"] for m in tab.evaluate("window.received") if isinstance(m["data"], dict)]
            confirmed = next(m for m in messages if m.get("type") == "confirmed")
            assert confirmed["signInUrl"].startswith(f"{local_pool.endpoint}/oauth2/authorize?")
            sign_in.click()
            tab.wait_for_url(f"{local_pool.endpoint}/oauth2/authorize**")


def test_the_embed_snippet_takes_the_whole_page_on_to_managed_login(
    playwright: Any, local_pool: emulator.LocalPool, site: Site, tmp_path: Path
) -> None:
    parent_port = emulator.free_port()
    parent = f"http://127.0.0.1:{parent_port}"
    env = hand_off_env(local_pool, site, SIGNUP_FRAME_ANCESTORS=parent)
    demo = (ROOT / "local" / "demo.html").read_text()  # the snippet of docs/embedding.md, as it is there
    with gunicorn(env, tmp_path / "app.log") as port:
        html = demo.replace("{app}", f"http://localhost:{port}").replace("{parent}", parent)
        with serve(page(html), port=parent_port), chromium(playwright, tmp_path / "p") as browser:
            tab = browser.new_page()
            confirmed_in_frame(tab, f"{parent}/", "#cognito-signup", "snippet@example.com")
            tab.wait_for_url(f"{local_pool.endpoint}/oauth2/authorize**")  # the top window, not the frame
            assert parse_qs(urlsplit(tab.url).query)["login_hint"] == ["snippet@example.com"]


def confirmed_in_frame(tab: Any, parent: str, frame: str, email: str) -> Any:
    """On the parent page, sign up in its frame and enter the code; the frame."""
    tab.goto(parent)
    inside = tab.frame_locator(frame)
    fill_signup(inside, email)
    enter_code(inside, emulator.LOCAL_CODE)
    return inside


def fill_signup(page: Any, email: str) -> None:
    page.locator("[name=username]").fill(email)
    page.locator("[name=password]").fill(SIGNUP["password"])
    page.locator("[name=given_name]").fill("Ann")
    page.locator("[name=custom_plan]").select_option("team")
    page.locator("form button[type=submit]").first.click()


# Immediate sign-in ------------------------------------------------------------------------------


@pytest.fixture
def sessions(local_pool: emulator.LocalPool) -> Iterator[SessionCognito]:
    double = SessionCognito(local_pool.endpoint, local_pool)
    with serve(double) as port:
        double.endpoint = f"http://127.0.0.1:{port}"
        yield double


def immediate_env(pool: emulator.LocalPool, sessions: SessionCognito, site: Site, **more: str) -> dict[str, str]:
    return base_env(
        **{**pool.environment(), "COGNITO_ENDPOINT_URL": sessions.endpoint},
        SIGNUP_SIGN_IN="immediate",
        SIGNUP_TOKEN_CALLBACK_URL=f"{site.origin}/tokens",
        **more,
    )


def test_a_confirmed_account_is_signed_in_at_once_and_only_the_callback_gets_the_tokens(
    local_pool: emulator.LocalPool, sessions: SessionCognito, site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = create_app(immediate_env(local_pool, sessions, site)).test_client()
    signed_up = submit(client, "/signup?state=st-9", SIGNUP)
    code_page = signed_up.headers["Location"]
    seen = [code_page, text(client.get(code_page))]
    answer = submit(client, code_page, {"code": emulator.LOCAL_CODE})
    assert answer.status_code == 200 and "Set-Cookie" not in answer.headers
    assert answer.headers["Cache-Control"] == "no-store"  # not even the back/forward cache keeps the tokens
    form = text(answer)
    assert form_action(form) == f"{site.origin}/tokens"
    assert "data-send-at-once" in form  # outside a frame the page script sends it at once
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))
    assert set(fields) == {"id_token", "access_token", "refresh_token", "expires_in", "token_type", "state"}
    claims = EXAMPLE.verify_id_token(
        fields["id_token"],
        region=local_pool.region,
        user_pool_id=local_pool.pool_id,
        client_id=local_pool.client_id,
        jwks_url=f"{local_pool.endpoint}/{local_pool.pool_id}/.well-known/jwks.json",
    )
    assert (claims["email"], claims["token_use"], fields["state"]) == ("ann@example.com", "id", "st-9")
    # The Sessions chained: SignUp's went to ConfirmSignUp, ConfirmSignUp's to InitiateAuth.
    (confirm,) = sessions.sent("ConfirmSignUp")
    (initiate,) = sessions.sent("InitiateAuth")
    assert confirm["Session"] and initiate["Session"] and confirm["Session"] != initiate["Session"]
    assert initiate["AuthFlow"] == "USER_AUTH" and initiate["AuthParameters"]["SECRET_HASH"]
    # Canaries: no Session, token, code or password in an address, a log line, or any other page.
    canaries = [confirm["Session"], initiate["Session"], *fields.values(), emulator.LOCAL_CODE, SIGNUP["password"]]
    canaries.remove(fields["state"])
    canaries.remove(fields["expires_in"])
    canaries.remove(fields["token_type"])
    for canary in canaries:
        assert canary not in caplog.text
        assert not any(canary in thing for thing in seen)


def test_a_sign_up_without_a_password_ends_signed_in(
    local_pool: emulator.LocalPool, sessions: SessionCognito, site: Site, tmp_path: Path
) -> None:
    declaration = tmp_path / "passwordless.toml"
    declaration.write_text(
        'username = "email"\npassword = false\n[[attributes]]\nname = "given_name"\nrequired = true\n'
    )
    app = create_app(immediate_env(local_pool, sessions, site, SIGNUP_CONFIG=str(declaration)))
    client = app.test_client()
    page_text = text(client.get("/signup"))
    assert 'name="password' not in page_text
    code_page = submit(client, "/signup", {"username": "nopass@example.com", "given_name": "Nia"}).headers["Location"]
    assert "Password" not in sessions.sent("SignUp")[0]  # sent without one, as Cognito asks
    answer = submit(client, code_page, {"code": emulator.LOCAL_CODE})
    assert answer.status_code == 200 and form_action(text(answer)) == f"{site.origin}/tokens"


def test_a_new_password_set_with_a_code_ends_signed_in_with_it(
    local_pool: emulator.LocalPool, sessions: SessionCognito, site: Site
) -> None:
    client = create_app(immediate_env(local_pool, sessions, site)).test_client()
    code_page = submit(client, "/signup", SIGNUP).headers["Location"]
    assert submit(client, code_page, {"code": emulator.LOCAL_CODE}).status_code == 200  # signed in once
    password_page = submit(client, "/signup/forgot?state=st-4", {"username": "ann@example.com"}).headers["Location"]
    answer = submit(client, password_page, {"code": emulator.LOCAL_RESET_CODE, "password": "Battery-Staple-7"})
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    form = text(answer)
    assert form_action(form) == f"{site.origin}/tokens"
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))
    assert fields["id_token"] and fields["state"] == "st-4"
    initiate = sessions.sent("InitiateAuth")[-1]
    assert initiate["AuthFlow"] == "USER_AUTH" and initiate["AuthParameters"]["PREFERRED_CHALLENGE"] == "PASSWORD"
    assert "Session" not in initiate


def test_a_new_code_keeps_the_sign_up_on_its_way_to_signing_in(
    local_pool: emulator.LocalPool, sessions: SessionCognito, site: Site
) -> None:
    client = create_app(immediate_env(local_pool, sessions, site)).test_client()
    code_page = submit(client, "/signup", SIGNUP).headers["Location"]
    resent = submit(client, code_page, {}, resend=True).headers["Location"]
    answer = submit(client, resent, {"code": emulator.LOCAL_CODE})
    assert answer.status_code == 200 and form_action(text(answer)) == f"{site.origin}/tokens"


@pytest.mark.parametrize("trouble", ["expired", "challenge", "not-allowed"])
def test_when_cognito_will_not_sign_in_the_flow_ends_as_it_would_without(
    local_pool: emulator.LocalPool, sessions: SessionCognito, site: Site, trouble: str
) -> None:
    if trouble == "expired":
        sessions.lifetime = 0  # Cognito drops the Session before the code is typed
    sessions.challenge = trouble == "challenge"
    env = immediate_env(local_pool, sessions, site)
    if trouble == "not-allowed":
        env = {**env, "COGNITO_ENDPOINT_URL": local_pool.endpoint}  # the emulator: no USER_AUTH, no Session
    client = create_app(env).test_client()
    code_page = submit(client, "/signup", SIGNUP).headers["Location"]
    answer = submit(client, code_page, {"code": emulator.LOCAL_CODE})
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/signup/done?flow=")
    assert "Your account is ready" in text(client.get(answer.headers["Location"]))
    user = emulator.admin_client(local_pool.endpoint).admin_get_user(
        UserPoolId=local_pool.pool_id, Username="ann@example.com"
    )
    assert user["UserStatus"] == "CONFIRMED"


def test_falling_back_hands_off_to_managed_login_when_it_is_set_up(
    local_pool: emulator.LocalPool, sessions: SessionCognito, site: Site
) -> None:
    sessions.challenge = True
    env = immediate_env(
        local_pool,
        sessions,
        site,
        COGNITO_DOMAIN=local_pool.endpoint,
        SIGNUP_SIGN_IN_REDIRECT_URI=f"{site.origin}/callback",
        SIGNUP_SIGN_IN_CLIENT_ID=site.client_id,
    )
    client = create_app(env).test_client()
    code_page = submit(client, "/signup", SIGNUP).headers["Location"]
    answer = submit(client, code_page, {"code": emulator.LOCAL_CODE})
    assert answer.headers["Location"].startswith(f"{local_pool.endpoint}/oauth2/authorize?")


def test_the_stand_in_refuses_sessions_as_cognito_does(
    local_pool: emulator.LocalPool, sessions: SessionCognito
) -> None:
    """The test double itself: a wrong, reused or expired Session, or a wrong hash, is refused."""
    import boto3  # noqa: PLC0415
    from botocore import UNSIGNED  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415
    from botocore.exceptions import ClientError  # noqa: PLC0415

    from app.aws.cognito import secret_hash  # noqa: PLC0415

    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=sessions.endpoint,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED),
    )
    pool = local_pool

    def hashed(user: str) -> dict[str, str]:
        return {"ClientId": pool.client_id, "SecretHash": secret_hash(pool.client_secret, user, pool.client_id)}

    def refused(call: Any, **params: Any) -> str:
        with pytest.raises(ClientError) as caught:
            call(**params)
        return caught.value.response["Error"]["Code"]

    user = f"double-{secrets.token_hex(3)}@example.com"
    attributes = [{"Name": "email", "Value": user}, {"Name": "given_name", "Value": "D"}]
    first = cognito.sign_up(**hashed(user), Username=user, UserAttributes=attributes)["Session"]
    confirm = {**hashed(user), "Username": user, "ConfirmationCode": emulator.LOCAL_CODE}
    assert (
        refused(cognito.confirm_sign_up, **confirm, Session="not-a-session-of-this-sign-up") == "NotAuthorizedException"
    )
    second = cognito.confirm_sign_up(**confirm, Session=first)["Session"]
    sign_in = {"ClientId": pool.client_id, "AuthFlow": "USER_AUTH"}
    wrong_hash = {"USERNAME": user, "SECRET_HASH": "AAAA"}
    assert refused(cognito.initiate_auth, **sign_in, AuthParameters=wrong_hash, Session=second) == (
        "NotAuthorizedException"
    )
    good = {"USERNAME": user, "SECRET_HASH": hashed(user)["SecretHash"]}
    assert cognito.initiate_auth(**sign_in, AuthParameters=good, Session=second)["AuthenticationResult"]["IdToken"]
    assert refused(cognito.initiate_auth, **sign_in, AuthParameters=good, Session=second) == "NotAuthorizedException"
    sessions.lifetime = 0
    other = f"late-{secrets.token_hex(3)}@example.com"
    late = cognito.sign_up(
        **hashed(other),
        Username=other,
        UserAttributes=[{"Name": "email", "Value": other}, {"Name": "given_name", "Value": "L"}],
    )["Session"]
    late_confirm = {**hashed(other), "Username": other, "ConfirmationCode": emulator.LOCAL_CODE}
    assert refused(cognito.confirm_sign_up, **late_confirm, Session=late) == "NotAuthorizedException"


def test_the_tokens_reach_the_site_from_a_browser_at_the_top_and_in_a_frame(
    playwright: Any, local_pool: emulator.LocalPool, sessions: SessionCognito, site: Site, tmp_path: Path
) -> None:
    parent_port = emulator.free_port()
    env = immediate_env(local_pool, sessions, site, SIGNUP_FRAME_ANCESTORS=f"http://127.0.0.1:{parent_port}")
    with gunicorn(env, tmp_path / "app.log") as port, chromium(playwright, tmp_path / "profile") as browser:
        app = f"http://localhost:{port}"
        tab = browser.new_page()
        tab.goto(f"{app}/signup")
        fill_signup(tab, "top@example.com")
        enter_code(tab, emulator.LOCAL_CODE)
        expect(tab.get_by_role("heading", name="Signed in as top@example.com")).to_be_visible()
        with serve(page(PARENT.format(app=app, resize="true")), port=parent_port):
            tab.goto(f"http://127.0.0.1:{parent_port}/")
            frame = tab.frame_locator("#signup")
            fill_signup(frame, "framed@example.com")
            enter_code(frame, emulator.LOCAL_CODE)
            frame.get_by_role("button", name="Continue").click()  # a frame takes the top window on a click
            expect(tab.get_by_role("heading", name="Signed in as framed@example.com")).to_be_visible()
        log = (tmp_path / "app.log").read_text()
    assert [c["email"] for c in site.signed_in] == ["top@example.com", "framed@example.com"]
    for posted in site.posted:
        assert posted["id_token"] not in log and posted["refresh_token"] not in log
