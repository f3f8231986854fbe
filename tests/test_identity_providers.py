"""Signing up with an external identity provider (Google, Apple, a company's IdP): Managed Login's
`/oauth2/authorize?identity_provider=NAME` (the local Cognito's) sends the person to the provider
(tests/oidc_provider.py), Cognito's `/oauth2/idpresponse` takes them back, and the site's callback
gets a code that exchanges for tokens naming the federated user. This is what a provider button of
the app links to, tried end to end before the app has the buttons."""

from __future__ import annotations

import base64
import html
import json
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

from local import emulator

from .browser import chromium, expect
from .conftest import form_action
from .oidc_provider import (
    FederatedClient,
    OidcProvider,
    Person,
    authorize_url,
    connect,
    idp_response_url,
    oidc_provider,
)
from .servers import serve
from .test_sign_in import Site

PROVIDER = "CompanyIdP"
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
