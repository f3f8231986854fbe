"""A small, real OpenID Connect provider on loopback, standing in for Google, Apple or a company's
IdP in the tests of signing up through Cognito's federation, and the helper that connects it to a
local user pool from both sides, as an operator does.

The provider does what Cognito's OIDC federation asks of one, as OpenID Connect Core and RFC 6749
say: a discovery document, an authorization endpoint with a login page a browser submits, a token
endpoint (authorization code grant, the client's secret in the body or in HTTP Basic), ID tokens
signed with RS256, its JWKS and userinfo. It refuses what a real provider refuses (an unknown
client or redirect URI, a wrong secret, a code used twice, late or for another redirect URI), so a
test notices when Cognito, or a setting, gets something wrong; and it records which endpoints were
called and how the client authenticated, so a test can say what Cognito did.
"""

from __future__ import annotations

import base64
import html
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from local import emulator
from local.emulator import LocalPool

from .servers import serve

CODE_LIFETIME = 60  # seconds; RFC 6749 recommends at most 10 minutes
TOKEN_LIFETIME = 300


@dataclass(frozen=True)
class Person:
    """Someone with an account at the provider."""

    sub: str
    email: str
    password: str
    given_name: str
    email_verified: bool = True

    def claims(self, scope: set[str]) -> dict[str, Any]:
        """The claims the granted scopes release (OpenID Connect Core, 5.4)."""
        claims: dict[str, Any] = {"sub": self.sub}
        if "email" in scope:
            claims |= {"email": self.email, "email_verified": self.email_verified}
        if "profile" in scope:
            claims["given_name"] = self.given_name
        return claims


@dataclass(frozen=True)
class Grant:
    """What an authorization code, or an access token, stands for."""

    person: Person
    redirect_uri: str
    scope: frozenset[str]
    nonce: str
    expires: float


Answer = tuple[int, dict[str, str], bytes]


@dataclass
class OidcProvider:
    """One client (Cognito's), the people who may sign in, and an RSA key of its own.

    `redirect_uris` starts empty: registering Cognito's idpresponse address is part of connecting
    the two (see `connect`). `issuer` is set once the provider is served (see `oidc_provider`).
    """

    client_id: str
    client_secret: str
    people: tuple[Person, ...]
    redirect_uris: set[str] = field(default_factory=set)
    issuer: str = ""
    calls: list[str] = field(default_factory=list)  # "GET /authorize", "POST /token", ...
    token_auth: list[str] = field(default_factory=list)  # how each token request authenticated
    _codes: dict[str, Grant] = field(default_factory=dict, init=False, repr=False)
    _access_tokens: dict[str, Grant] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._kid = secrets.token_hex(8)

    def __call__(self, request: BaseHTTPRequestHandler) -> None:
        path = urlsplit(request.path).path
        self.calls.append(f"{request.command} {path}")
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0)).decode()
        routes = {
            ("GET", "/.well-known/openid-configuration"): lambda: _json(200, self.discovery()),
            ("GET", "/.well-known/jwks.json"): lambda: _json(200, self.jwks()),
            ("GET", "/jwks"): lambda: _json(200, self.jwks()),
            ("GET", "/authorize"): lambda: self.authorize(_form(urlsplit(request.path).query)),
            ("POST", "/authorize"): lambda: self.sign_in(_form(body)),
            ("POST", "/token"): lambda: self.token(_form(body), request.headers.get("Authorization", "")),
            ("GET", "/userinfo"): lambda: self.userinfo(request.headers.get("Authorization", "")),
            ("POST", "/userinfo"): lambda: self.userinfo(request.headers.get("Authorization", "")),
        }
        route = routes.get((request.command, path))
        status, headers, data = route() if route else _json(404, {"error": "not_found"})
        request.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(data))}.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)

    # Metadata ---------------------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        """OpenID Connect Discovery 1.0: Cognito finds the endpoints here when given only the issuer."""
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/.well-known/jwks.json",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "claims_supported": ["iss", "aud", "sub", "exp", "iat", "nonce", "email", "email_verified", "given_name"],
        }

    def jwks(self) -> dict[str, Any]:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": self._kid, "use": "sig", "alg": "RS256"}]}

    # The authorization endpoint -----------------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> Answer:
        """The login page, for a request from the registered client to a registered redirect URI."""
        refused = self._refuse_authorization(query)
        return refused or self._login_page(query, status=200)

    def sign_in(self, form: dict[str, str]) -> Answer:
        """The login page's post: the right password sends the browser back with a code (303, so it
        follows with a GET, as RFC 9110 says for an answer to a POST)."""
        refused = self._refuse_authorization(form)
        if refused:
            return refused
        person = next(
            (p for p in self.people if (p.email, p.password) == (form.get("email"), form.get("password"))), None
        )
        if person is None:
            return self._login_page(form, status=401, error="Wrong email or password.")
        code = secrets.token_urlsafe(32)
        scope = frozenset(form["scope"].split())
        self._codes[code] = Grant(
            person, form["redirect_uri"], scope, form.get("nonce", ""), time.time() + CODE_LIFETIME
        )
        return _redirect(form["redirect_uri"], {"code": code, "state": form.get("state", "")}, status=303)

    def _refuse_authorization(self, params: dict[str, str]) -> Answer | None:
        """An unknown client or redirect URI gets a page, never a redirect (RFC 6749, 4.1.2.1);
        other errors go back to the client."""
        if params.get("client_id") != self.client_id:
            return _page(400, "<h1>Unknown client</h1>")
        if params.get("redirect_uri") not in self.redirect_uris:
            return _page(400, "<h1>This redirect URI is not registered</h1>")
        if params.get("response_type") != "code":
            return _redirect(
                params["redirect_uri"], {"error": "unsupported_response_type", "state": params.get("state", "")}
            )
        if "openid" not in params.get("scope", "").split():
            return _redirect(params["redirect_uri"], {"error": "invalid_scope", "state": params.get("state", "")})
        return None

    def _login_page(self, params: dict[str, str], *, status: int, error: str = "") -> Answer:
        carried = ("client_id", "redirect_uri", "response_type", "scope", "state", "nonce")
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(params[name])}">'
            for name in carried
            if name in params
        )
        alert = f'<p role="alert">{html.escape(error)}</p>' if error else ""
        return _page(
            status,
            f"""<h1>Test identity provider</h1>{alert}
<form method="post" action="/authorize">{hidden}
<label>Email <input name="email" type="email" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form>""",
        )

    # The token endpoint -------------------------------------------------------------------------

    def token(self, form: dict[str, str], authorization: str) -> Answer:
        """RFC 6749, 4.1.3: the code once, by the client it was issued to, for the same redirect URI."""
        client_id, secret, method = _client_credentials(form, authorization)
        if method == "both":  # RFC 6749, 2.3: "MUST NOT use more than one authentication method"
            return _json(400, {"error": "invalid_request"})
        self.token_auth.append(method)
        if (client_id, secret) != (self.client_id, self.client_secret):
            challenge = {"WWW-Authenticate": 'Basic realm="token"'} if method == "client_secret_basic" else {}
            return _json(401, {"error": "invalid_client"}, challenge)
        if form.get("grant_type") != "authorization_code":
            return _json(400, {"error": "unsupported_grant_type"})
        grant = self._codes.pop(form.get("code", ""), None)  # pop: used once, even when refused
        if grant is None or grant.expires < time.time() or grant.redirect_uri != form.get("redirect_uri"):
            return _json(400, {"error": "invalid_grant"})
        access_token = secrets.token_urlsafe(32)
        self._access_tokens[access_token] = Grant(
            grant.person, grant.redirect_uri, grant.scope, "", time.time() + TOKEN_LIFETIME
        )
        answer = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME,
            "scope": " ".join(sorted(grant.scope)),
            "id_token": self.id_token(grant),
        }
        return _json(200, answer, {"Cache-Control": "no-store", "Pragma": "no-cache"})

    def id_token(self, grant: Grant) -> str:
        now = int(time.time())
        claims = {
            **grant.person.claims(set(grant.scope)),
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "auth_time": now,
            "exp": now + TOKEN_LIFETIME,
        }
        if grant.nonce:
            claims["nonce"] = grant.nonce
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self._kid})

    def userinfo(self, authorization: str) -> Answer:
        """OpenID Connect Core, 5.3: the claims for a valid access token, sent as a Bearer token."""
        scheme, _, token = authorization.partition(" ")
        grant = self._access_tokens.get(token) if scheme.lower() == "bearer" else None
        if grant is None or grant.expires < time.time():
            return _json(401, {"error": "invalid_token"}, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return _json(200, grant.person.claims(set(grant.scope)))


def _client_credentials(form: dict[str, str], authorization: str) -> tuple[str, str, str]:
    """(client_id, secret, method): HTTP Basic holds both form-urlencoded (RFC 6749, 2.3.1)."""
    scheme, _, encoded = authorization.partition(" ")
    basic = scheme.lower() == "basic"
    posted = "client_secret" in form
    if basic and posted:
        return "", "", "both"
    if basic:
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except ValueError:
            return "", "", "client_secret_basic"
        return unquote_plus(user), unquote_plus(password), "client_secret_basic"
    if posted:
        return form.get("client_id", ""), form["client_secret"], "client_secret_post"
    return form.get("client_id", ""), "", "none"


def _form(encoded: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(encoded).items()}


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Answer:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()


def _page(status: int, body: str) -> Answer:
    document = f'<!doctype html><html lang="en"><meta charset="utf-8"><title>Test IdP</title>{body}</html>'
    return status, {"Content-Type": "text/html; charset=utf-8"}, document.encode()


def _redirect(target: str, params: dict[str, str], status: int = 302) -> Answer:
    query = urlencode({k: v for k, v in params.items() if v})
    return status, {"Location": f"{target}{'&' if '?' in target else '?'}{query}"}, b""


@contextmanager
def oidc_provider(*people: Person) -> Iterator[OidcProvider]:
    """The provider on 127.0.0.1, with a client for Cognito and these people."""
    provider = OidcProvider(
        client_id="cognito-" + secrets.token_hex(4), client_secret=secrets.token_urlsafe(24), people=people
    )
    with serve(provider) as port:
        provider.issuer = f"http://127.0.0.1:{port}"
        yield provider


# Connecting it to a user pool -------------------------------------------------------------------


@dataclass(frozen=True)
class FederatedClient:
    """An app client of the pool that signs people in through the provider, at Managed Login."""

    provider_name: str
    client_id: str
    client_secret: str
    redirect_uri: str


# Cognito's attribute (key) from the provider's claim (value). Cognito refuses a federated sign-up
# that leaves one of the pool's required attributes empty (the sample pool requires email and
# given_name), so both are mapped. The federated user's name is `<ProviderName>_<sub>` whatever the
# mapping says; a `username` entry would only give the user, in ministack, a stray `username`
# attribute, so there is none.
ATTRIBUTE_MAPPING = {"email": "email", "email_verified": "email_verified", "given_name": "given_name"}


def idp_response_url(endpoint: str) -> str:
    """The redirect URI to register at the provider: Cognito's `/oauth2/idpresponse`.

    Cognito serves it on the pool's domain (`https://<domain>/oauth2/idpresponse`). ministack builds
    it as `http://localhost:<its port>/oauth2/idpresponse` for a pool without a domain (and from the
    domain's unreachable amazoncognito.com address for a pool with one, which is why the tests'
    pools have none).
    """
    return f"http://localhost:{urlsplit(endpoint).port}/oauth2/idpresponse"


def connect(
    pool: LocalPool, provider: OidcProvider, *, name: str, callback_url: str, discovered: bool = True
) -> FederatedClient:
    """Both sides of the registration: Cognito's idpresponse address at the provider; the provider
    (ProviderType OIDC) and an app client that may use it in the pool.

    With `discovered`, Cognito is given the issuer alone and reads the endpoints from its discovery
    document, as for Google; otherwise every endpoint is given, as for an IdP that publishes none.
    """
    provider.redirect_uris.add(idp_response_url(pool.endpoint))
    details = {
        "client_id": provider.client_id,
        "client_secret": provider.client_secret,
        "authorize_scopes": "openid email profile",
        "attributes_request_method": "GET",
        "oidc_issuer": provider.issuer,
    }
    if not discovered:
        details |= {
            "authorize_url": f"{provider.issuer}/authorize",
            "token_url": f"{provider.issuer}/token",
            "attributes_url": f"{provider.issuer}/userinfo",
            "jwks_uri": f"{provider.issuer}/jwks",
        }
    admin = emulator.admin_client(pool.endpoint)
    admin.create_identity_provider(
        UserPoolId=pool.pool_id,
        ProviderName=name,
        ProviderType="OIDC",
        ProviderDetails=details,
        AttributeMapping=ATTRIBUTE_MAPPING,
    )
    client = admin.create_user_pool_client(
        UserPoolId=pool.pool_id,
        ClientName=f"{name}-site",
        GenerateSecret=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthScopes=["openid", "email"],
        CallbackURLs=[callback_url],
        SupportedIdentityProviders=["COGNITO", name],
    )["UserPoolClient"]
    return FederatedClient(name, client["ClientId"], client["ClientSecret"], callback_url)


def authorize_url(endpoint: str, client: FederatedClient, state: str) -> str:
    """Managed Login's address that goes straight to the provider, as a provider's button links it."""
    query = {
        "identity_provider": client.provider_name,
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri,
        "scope": "openid email",
        "state": state,
    }
    return f"{endpoint}/oauth2/authorize?{urlencode(query)}"
