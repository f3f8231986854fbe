"""Signing up with an external identity provider (Google, Apple, a company's IdP): the buttons the
declaration's `[[identity_providers]]` put above the sign-up form, and where they lead. Managed
Login's `/oauth2/authorize?identity_provider=NAME` (the local Cognito's) sends the person to the
provider (tests/oidc_provider.py), Cognito's `/oauth2/idpresponse` takes them back, and the site's
callback gets a code that exchanges for tokens naming the federated user."""

from __future__ import annotations

import base64
import html
import json
import logging
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import jwt
import pytest
import urllib3

from app import create_app
from app.config.model import ICONS
from local import emulator

from .browser import chromium, expect
from .conftest import ROOT, base_env, form_action, without_tokens
from .oidc_provider import (
    FederatedClient,
    OidcProvider,
    Person,
    authorize_url,
    connect,
    idp_response_url,
    oidc_provider,
)
from .servers import PARENT, gunicorn, page, serve
from .test_sign_in import Site

PROVIDER = "CompanyIdP"
# Google, Apple and CompanyIdP, each with its icon; CompanyIdP's label in every language.
PROVIDERS = ROOT / "tests" / "declarations" / "providers.toml"
# OpenID Connect Core's example person, with an account at the provider.
JANE = Person(sub="248289761001", email="janedoe@example.com", password="Idp-Password-7", given_name="Jane")


@pytest.fixture
def provider() -> Iterator[OidcProvider]:
    with oidc_provider(JANE) as idp:
        yield idp


@contextmanager
def federated_site(
    pool: emulator.LocalPool, provider: OidcProvider, *, discovered: bool = True
) -> Iterator[tuple[Site, FederatedClient]]:
    """The site of tests/test_sign_in.py, with an app client that may sign in through the provider."""
    port = emulator.free_port()
    origin = f"http://127.0.0.1:{port}"
    client = connect(pool, provider, name=PROVIDER, callback_url=f"{origin}/callback", discovered=discovered)
    site = Site(pool, client.client_id, client.client_secret, origin)
    with serve(site, port=port):
        yield site, client


def assert_signed_in_through_the_provider(
    pool: emulator.LocalPool, provider: OidcProvider, site: Site, state: str, navigations: list[str]
) -> None:
    """The browser went to Managed Login, the provider's login page, Cognito's idpresponse and the
    site's callback; the site checked an ID token of the pool that names the provider's person, with
    the site's state; and Cognito created that person as a federated user."""
    assert [urlsplit(url)._replace(query="").geturl() for url in navigations] == [
        f"{pool.endpoint}/oauth2/authorize",
        f"{provider.issuer}/authorize",
        f"{provider.issuer}/authorize",  # the login page's post
        idp_response_url(pool.endpoint),
        f"{site.origin}/callback",
    ]
    (claims,) = site.signed_in
    username = f"{PROVIDER}_{JANE.sub}"
    assert (claims["email"], claims["given_name"], claims["cognito:username"], claims["state"]) == (
        JANE.email,
        JANE.given_name,
        username,
        state,
    )
    (identity,) = claims["identities"]
    assert (identity["providerName"], identity["providerType"], identity["userId"]) == (PROVIDER, "OIDC", JANE.sub)
    user = emulator.admin_client(pool.endpoint).admin_get_user(UserPoolId=pool.pool_id, Username=username)
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert (user["UserStatus"], attributes["email"], attributes["sub"]) == (
        "EXTERNAL_PROVIDER",
        JANE.email,
        claims["sub"],
    )


@pytest.mark.browser
def test_a_person_signs_in_with_their_identity_provider_and_arrives_signed_in_at_the_site(
    playwright: Any, local_pool: emulator.LocalPool, provider: OidcProvider, tmp_path: Path
) -> None:
    state = secrets.token_urlsafe(16)
    with federated_site(local_pool, provider) as (site, client), chromium(playwright, tmp_path / "profile") as browser:
        tab = browser.new_page()
        navigations: list[str] = []
        tab.on("request", lambda r: navigations.append(r.url) if r.is_navigation_request() else None)
        tab.goto(authorize_url(local_pool.endpoint, client, state))
        tab.get_by_label("Email").fill(JANE.email)
        tab.get_by_label("Password").fill(JANE.password)
        tab.get_by_role("button", name="Sign in").click()
        expect(tab.get_by_role("heading", name=f"Signed in as {JANE.email}")).to_be_visible()
    assert_signed_in_through_the_provider(local_pool, provider, site, state, navigations)


@pytest.mark.parametrize("discovered", [True, False], ids=["issuer-only", "every-endpoint"])
def test_without_a_browser_the_same_redirects_sign_the_person_in(
    local_pool: emulator.LocalPool, provider: OidcProvider, discovered: bool
) -> None:
    """Plain HTTP, following redirects as a browser does; Cognito given the provider's issuer alone
    (it reads the endpoints from the discovery document) or every endpoint (it reads none)."""
    state = secrets.token_urlsafe(16)
    with federated_site(local_pool, provider, discovered=discovered) as (site, client):
        to_login, login = visit("GET", authorize_url(local_pool.endpoint, client, state))
        form = {**hidden_fields(login.data.decode()), "email": JANE.email, "password": JANE.password}
        back, done = visit("POST", urljoin(to_login[-1], form_action(login.data.decode())), form)
    assert f"Signed in as {JANE.email}" in done.data.decode()
    assert_signed_in_through_the_provider(local_pool, provider, site, state, to_login + back)
    assert provider.token_auth == ["client_secret_post"]  # how Cognito (here ministack) authenticates
    assert ("GET /.well-known/openid-configuration" in provider.calls) is discovered


def provider_env(pool: emulator.LocalPool, client: FederatedClient, **more: str) -> dict[str, str]:
    """The app with the declared providers, handing off to the site's client that may use the provider."""
    return base_env(
        **pool.environment(),
        SIGNUP_CONFIG=str(PROVIDERS),
        COGNITO_DOMAIN=pool.endpoint,
        SIGNUP_SIGN_IN_REDIRECT_URI=client.redirect_uri,
        SIGNUP_SIGN_IN_CLIENT_ID=client.client_id,
        **more,
    )


def test_the_sign_up_forms_button_signs_the_person_up_through_their_provider_and_in_at_the_site(
    local_pool: emulator.LocalPool, provider: OidcProvider
) -> None:
    state = secrets.token_urlsafe(16)
    with federated_site(local_pool, provider) as (site, client):
        form = create_app(provider_env(local_pool, client)).test_client().get(f"/signup?state={state}")
        (href,) = [html.unescape(h) for h in re.findall(r'href="([^"]+identity_provider=CompanyIdP[^"]*)"', form.text)]
        to_login, login = visit("GET", href)
        typed = {**hidden_fields(login.data.decode()), "email": JANE.email, "password": JANE.password}
        back, done = visit("POST", urljoin(to_login[-1], form_action(login.data.decode())), typed)
    assert f"Signed in as {JANE.email}" in done.data.decode()
    assert_signed_in_through_the_provider(local_pool, provider, site, state, to_login + back)


@pytest.mark.browser
def test_inside_a_frame_the_button_takes_the_whole_page_to_the_provider_and_on_to_the_site(
    playwright: Any, local_pool: emulator.LocalPool, provider: OidcProvider, tmp_path: Path
) -> None:
    state = secrets.token_urlsafe(16)
    parent_port = emulator.free_port()
    with federated_site(local_pool, provider) as (site, client):
        env = provider_env(local_pool, client, SIGNUP_FRAME_ANCESTORS=f"http://127.0.0.1:{parent_port}")
        with gunicorn(env, tmp_path / "app.log") as port:
            parent = PARENT.format(app=f"http://localhost:{port}", resize="true")
            with (
                serve(page(parent.replace('/signup"', f'/signup?state={state}"')), port=parent_port),
                chromium(playwright, tmp_path / "profile") as browser,
            ):
                tab = browser.new_page()
                tab.goto(f"http://127.0.0.1:{parent_port}/")
                button = tab.frame_locator("#signup").get_by_role("link", name="Continue with your company account")
                expect(button).to_have_attribute("target", "_top")
                navigations: list[str] = []
                tab.on("request", lambda r: navigations.append(r.url) if r.is_navigation_request() else None)
                button.click()
                tab.get_by_label("Email").fill(JANE.email)  # the provider's login page, in the top window
                tab.get_by_label("Password").fill(JANE.password)
                tab.get_by_role("button", name="Sign in").click()
                expect(tab.get_by_role("heading", name=f"Signed in as {JANE.email}")).to_be_visible()
    assert_signed_in_through_the_provider(local_pool, provider, site, state, navigations)


def visit(method: str, url: str, form: dict[str, str] | None = None) -> tuple[list[str], Any]:
    """What a browser does with redirects: follow each with a GET; returns every address asked and
    the last answer."""
    asked: list[str] = []
    while True:
        asked.append(url)
        body = urlencode(form) if form is not None else None
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {}
        answer = urllib3.request(method, url, body=body, headers=headers, redirect=False)
        if answer.status not in (301, 302, 303, 307, 308):
            return asked, answer
        url, method, form = urljoin(url, answer.headers["Location"]), "GET", None


def hidden_fields(page: str) -> dict[str, str]:
    return {k: html.unescape(v) for k, v in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page)}


# The buttons ------------------------------------------------------------------------------------

HAND_OFF = {
    "COGNITO_DOMAIN": "https://auth.example.com",
    "SIGNUP_SIGN_IN_REDIRECT_URI": "https://www.example.com/callback",
    "SIGNUP_SIGN_IN_CLIENT_ID": "siteclient123",
    "SIGNUP_SIGN_IN_SCOPE": "openid email profile",
}
BUTTON = re.compile(r'<a class="button button--secondary button--provider" href="([^"]+)" target="_top">(.*?)</a>')


def signup_page(declaration: Path, address: str = "/signup", **env: str) -> str:
    """The page's markup (its styles, which name every class, left out)."""
    app = create_app(base_env(SIGNUP_CONFIG=str(declaration), **env), cognito_client=object())
    return re.sub(r"<style>.*?</style>", "", app.test_client().get(address).get_data(as_text=True), flags=re.S)


def buttons(page: str) -> list[tuple[dict[str, str], str]]:
    """Each provider button's address (as its query) and its content."""
    found = []
    for href, content in BUTTON.findall(page):
        target = urlsplit(html.unescape(href))
        assert f"{target.scheme}://{target.netloc}{target.path}" == "https://auth.example.com/oauth2/authorize"
        found.append(({k: v[0] for k, v in parse_qs(target.query).items()}, content))
    return found


def without_providers(tmp_path: Path) -> Path:
    """The same declaration, its identity providers left out."""
    declaration = tmp_path / "signup.toml"
    declaration.write_text(PROVIDERS.read_text().split("[[identity_providers]]")[0])
    return declaration


def test_each_declared_provider_is_a_button_to_managed_login_in_the_top_window_with_the_sites_state() -> None:
    page = signup_page(PROVIDERS, "/signup?state=site-state-7", **HAND_OFF)
    assert [query for query, _ in buttons(page)] == [
        {
            "response_type": "code",
            "client_id": "siteclient123",
            "redirect_uri": "https://www.example.com/callback",
            "scope": "openid email profile",
            "identity_provider": name,
            "state": "site-state-7",
        }
        for name in ("Google", "SignInWithApple", PROVIDER)
    ]
    # Above the form, with "or" between them; without a state, the buttons carry none.
    assert page.index('class="providers"') < page.index('<p class="separator">or</p>') < page.index("<form")
    assert all("state" not in query for query, _ in buttons(signup_page(PROVIDERS, **HAND_OFF)))


@pytest.mark.parametrize(
    ("lang", "names"),
    [
        ("en", ["Continue with Google", "Continue with Apple", "Continue with your company account"]),
        ("de", ["Weiter mit Google", "Weiter mit Apple", "Weiter mit Ihrem Firmenkonto"]),
        ("es", ["Continuar con Google", "Continuar con Apple", "Continuar con la cuenta de su empresa"]),
    ],
)
def test_a_buttons_name_is_continue_with_its_label_in_the_pages_language_and_its_icon_is_not_read(
    lang: str, names: list[str]
) -> None:
    found = buttons(signup_page(PROVIDERS, f"/signup?lang={lang}", **HAND_OFF))
    assert [re.sub(r"<svg .*</svg>", "", content) for _, content in found] == names
    for (_, content), icon in zip(found, ("google", "apple", "building"), strict=True):
        assert content.startswith((ROOT / "templates" / "icons" / f"{icon}.svg").read_text().strip())


def test_every_icon_is_a_small_inline_drawing_of_fixed_size_hidden_from_screen_readers() -> None:
    """Drawn in the page (no request, no other party; currentColor follows the theme), with its size
    given, so nothing moves when it is drawn."""
    files = sorted((ROOT / "templates" / "icons").glob("*.svg"))
    assert [f.stem for f in files] == sorted(ICONS)
    for file in files:
        drawing = file.read_text()
        assert drawing.startswith('<svg width="20" height="20" viewBox="0 0 20 20" aria-hidden="true"')
        assert len(drawing) < 600 and not re.search(r"href|url\(|style|<script|<text", drawing)


def test_without_declared_providers_the_page_has_no_buttons(tmp_path: Path) -> None:
    page = signup_page(without_providers(tmp_path), **HAND_OFF)
    assert "providers" not in page and "separator" not in page


def test_providers_without_the_hand_off_leave_the_page_as_it_was_and_say_why_at_start_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        declared = signup_page(PROVIDERS)
    assert without_tokens(declared) == without_tokens(signup_page(without_providers(tmp_path)))
    assert (
        "The declaration lists identity providers, but the hand-off to Managed Login is not set up "
        "(COGNITO_DOMAIN and SIGNUP_SIGN_IN_REDIRECT_URI): the sign-up form shows no provider buttons"
    ) in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        signup_page(PROVIDERS, **HAND_OFF)
    assert "identity providers" not in caplog.text


def test_the_buttons_are_on_the_sign_up_form_alone() -> None:
    for address in ("/signup/confirm", "/signup/forgot", "/signup/done"):
        assert "button--provider" not in signup_page(PROVIDERS, address, **HAND_OFF)


def test_the_buttons_are_plain_navigation_that_the_pages_policy_leaves_alone() -> None:
    """A link is navigation: no CSP directive governs where it goes (form-action is for forms), so the
    policy is the one the page has without providers."""
    app = create_app(base_env(SIGNUP_CONFIG=str(PROVIDERS), **HAND_OFF), cognito_client=object())
    policy = app.test_client().get("/signup").headers["Content-Security-Policy"]
    plain = create_app(base_env(**HAND_OFF), cognito_client=object()).test_client().get("/signup")
    assert policy == plain.headers["Content-Security-Policy"]


# The test provider itself -------------------------------------------------------------------------

CALLBACK = "http://127.0.0.1:9/oauth2/idpresponse"


@pytest.fixture
def registered(provider: OidcProvider) -> OidcProvider:
    """The provider with a client whose redirect URI is registered, and nothing else running."""
    provider.redirect_uris.add(CALLBACK)
    return provider


def authorization(provider: OidcProvider, **more: str) -> dict[str, str]:
    return {
        "client_id": provider.client_id,
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "scope": "openid email profile",
        "state": "st-1",
        **more,
    }


def sign_in(provider: OidcProvider, password: str = JANE.password, **more: str) -> Any:
    """The login page's post, with the authorization request it carries."""
    form = {**authorization(provider, **more), "email": JANE.email, "password": password}
    return post(f"{provider.issuer}/authorize", form)


def code_from(answer: Any) -> str:
    assert answer.status == 303
    query = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}
    assert query["state"] == "st-1" and answer.headers["Location"].startswith(f"{CALLBACK}?")
    return query["code"]


def redeem(provider: OidcProvider, code: str, method: str = "client_secret_post", **more: str) -> Any:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, **more}
    if method == "client_secret_post":
        return post(
            f"{provider.issuer}/token",
            {"client_id": provider.client_id, "client_secret": provider.client_secret, **form},
        )
    credentials = base64.b64encode(f"{provider.client_id}:{provider.client_secret}".encode()).decode()
    return post(f"{provider.issuer}/token", form, {"Authorization": f"Basic {credentials}"})


def post(url: str, form: dict[str, str], headers: dict[str, str] | None = None) -> Any:
    sent = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    return urllib3.request("POST", url, body=urlencode(form), headers=sent, redirect=False)


@pytest.mark.parametrize("method", ["client_secret_post", "client_secret_basic"])
def test_the_test_provider_issues_id_tokens_its_published_keys_verify(registered: OidcProvider, method: str) -> None:
    """What a relying party that checks everything (Cognito does) finds: discovery, an RS256 ID token
    for its client with the nonce it sent, and userinfo for the access token."""
    provider = registered
    metadata = json.loads(urllib3.request("GET", f"{provider.issuer}/.well-known/openid-configuration").data)
    assert metadata["issuer"] == provider.issuer
    login = urllib3.request("GET", f"{metadata['authorization_endpoint']}?{urlencode(authorization(provider))}")
    assert login.status == 200 and hidden_fields(login.data.decode())["redirect_uri"] == CALLBACK
    tokens = redeem(provider, code_from(sign_in(provider, nonce="n-0S6")), method)
    assert tokens.status == 200 and tokens.headers["Cache-Control"] == "no-store"
    answer = json.loads(tokens.data)
    key = jwt.PyJWKClient(metadata["jwks_uri"]).get_signing_key_from_jwt(answer["id_token"])
    claims = jwt.decode(
        answer["id_token"],
        key.key,
        algorithms=["RS256"],
        audience=provider.client_id,
        issuer=provider.issuer,
        options={"require": ["exp", "iat", "iss", "aud", "sub"]},
    )
    assert (claims["sub"], claims["email"], claims["email_verified"], claims["nonce"]) == (
        JANE.sub,
        JANE.email,
        True,
        "n-0S6",
    )
    userinfo = urllib3.request(
        "GET", metadata["userinfo_endpoint"], headers={"Authorization": f"Bearer {answer['access_token']}"}
    )
    assert json.loads(userinfo.data) == {
        "sub": JANE.sub,
        "email": JANE.email,
        "email_verified": True,
        "given_name": JANE.given_name,
    }
    assert provider.token_auth == [method]


def test_the_test_provider_refuses_what_a_real_provider_refuses(registered: OidcProvider) -> None:
    provider = registered
    # An unregistered redirect URI or client: a page, never a redirect.
    for wrong in ({"redirect_uri": "http://127.0.0.1:9/elsewhere"}, {"client_id": "someone-else"}):
        answer = urllib3.request("GET", f"{provider.issuer}/authorize?{urlencode(authorization(provider, **wrong))}")
        assert answer.status == 400 and "Location" not in answer.headers
    assert sign_in(provider, password="wrong").status == 401
    # A wrong secret, or two ways of authenticating, leave the code usable...
    code = code_from(sign_in(provider))
    assert redeem(provider, code, client_secret="wrong").status == 401
    both = redeem(provider, code, "client_secret_basic", client_secret=provider.client_secret)
    assert json.loads(both.data) == {"error": "invalid_request"}
    # ...a code is good once, and only for the redirect URI it was issued for.
    assert redeem(provider, code).status == 200
    assert json.loads(redeem(provider, code).data) == {"error": "invalid_grant"}
    elsewhere = redeem(provider, code_from(sign_in(provider)), redirect_uri="http://127.0.0.1:9/elsewhere")
    assert json.loads(elsewhere.data) == {"error": "invalid_grant"}
    unknown = urllib3.request("GET", f"{provider.issuer}/userinfo", headers={"Authorization": "Bearer nonsense"})
    assert unknown.status == 401 and unknown.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
