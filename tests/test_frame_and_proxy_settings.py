"""Framing and proxy settings, as the responses show them; no response sets a cookie."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app import create_app
from app.errors import ConfigError

from .conftest import SIGNUP, StrictStubber, app_with, base_env, csrf_token
from .servers import LoopbackClient, gunicorn

PARENT = "https://shop.example.com"


def test_unembedded_app_may_only_be_framed_by_itself(stubber: StrictStubber) -> None:
    response = app_with(stubber).test_client().get("/signup")
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers
    assert "Set-Cookie" not in response.headers


def test_embedding_allows_the_listed_origins_and_needs_no_cookie(stubber: StrictStubber) -> None:
    response = (
        app_with(stubber, SIGNUP_FRAME_ANCESTORS=f"{PARENT} https://www.example.org").test_client().get("/signup")
    )
    assert f"frame-ancestors {PARENT} https://www.example.org;" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers
    assert "Set-Cookie" not in response.headers
    assert f'data-embed-origins="{PARENT} https://www.example.org"' in response.get_data(as_text=True)


@pytest.mark.parametrize("value", ["shop.example.com", "https://shop.example.com/page", "https://*.example.com", "*"])
def test_frame_ancestors_must_be_plain_origins(value: str) -> None:
    with pytest.raises(ConfigError, match="SIGNUP_FRAME_ANCESTORS must list origins"):
        create_app(base_env(SIGNUP_FRAME_ANCESTORS=value))


def test_trusted_proxies_must_be_a_small_number() -> None:
    with pytest.raises(ConfigError, match="SIGNUP_TRUSTED_PROXIES"):
        create_app(base_env(SIGNUP_TRUSTED_PROXIES="many"))


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "seen"),
    [
        ("0", "203.0.113.9", "10.0.0.2"),  # no proxy trusted: the header is ignored
        ("1", "203.0.113.9", "203.0.113.9"),  # one proxy: its entry is the client
        ("1", "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # a spoofed entry left of it changes nothing
        ("2", "203.0.113.9, 10.0.0.7", "203.0.113.9"),  # CDN then balancer
    ],
)
def test_the_ip_sent_to_cognito_follows_the_trusted_hops(
    stubber: StrictStubber, proxies: str, forwarded_for: str, seen: str
) -> None:
    stubber.add_response("sign_up", {"UserConfirmed": False, "UserSub": "s"})
    sent: dict[str, Any] = {}
    stubber.client.meta.events.register("before-parameter-build.*.SignUp", lambda params, **_: sent.update(params))
    client = app_with(stubber, SIGNUP_TRUSTED_PROXIES=proxies).test_client()
    environ = {"REMOTE_ADDR": "10.0.0.2"}
    token = csrf_token(client.get("/signup", environ_base=environ).get_data(as_text=True))
    client.post(
        "/signup",
        data={**SIGNUP, "csrf_token": token},
        headers={"X-Forwarded-For": forwarded_for},
        environ_base=environ,
    )
    assert sent["UserContextData"]["IpAddress"] == seen


@pytest.mark.servers
@pytest.mark.parametrize(
    ("proxies", "headers", "secure"),
    [
        ("", {"X-Forwarded-Proto": "https"}, False),  # no proxy: a local client cannot claim https either
        ("", {"X-Forwarded-Ssl": "on", "X-Forwarded-Protocol": "ssl"}, False),
        ("1", {"X-Forwarded-Proto": "https"}, True),  # the balancer ended TLS
        ("1", {"X-Forwarded-Proto": "http", "X-Forwarded-Ssl": "on"}, False),  # a client's own header, passed on
    ],
)
def test_under_gunicorn_forwarded_headers_count_only_from_the_trusted_proxies(
    tmp_path: Path, proxies: str, headers: dict[str, str], secure: bool
) -> None:
    with gunicorn(base_env(SIGNUP_TRUSTED_PROXIES=proxies), tmp_path / "app.log") as port:
        status, answer, _ = LoopbackClient(f"http://127.0.0.1:{port}", "127.0.0.1").request(
            "GET", "/signup", headers=headers
        )
    assert status == 200
    assert ("Strict-Transport-Security" in answer) is secure


def confirmed_in_frame(stubber: StrictStubber, success_url: str, framed: bool) -> Any:
    stubber.add_response("sign_up", {"UserConfirmed": True, "UserSub": "s"})
    client = app_with(stubber, SIGNUP_FRAME_ANCESTORS=PARENT, SIGNUP_SUCCESS_URL=success_url).test_client()
    headers = {"Sec-Fetch-Dest": "iframe"} if framed else {}
    token = csrf_token(client.get("/signup").get_data(as_text=True))
    response = client.post("/signup", data={**SIGNUP, "csrf_token": token}, headers=headers)
    return client, response, headers


def test_outside_a_frame_the_success_url_is_followed(stubber: StrictStubber) -> None:
    _, response, _ = confirmed_in_frame(stubber, f"{PARENT}/welcome", framed=False)
    assert response.headers["Location"] == f"{PARENT}/welcome"


def test_in_a_frame_the_app_stays_and_offers_an_allowed_success_url_to_the_top_window(stubber: StrictStubber) -> None:
    client, response, headers = confirmed_in_frame(stubber, f"{PARENT}/welcome", framed=True)
    assert response.headers["Location"].startswith("/signup/done?flow=")
    page = client.get(response.headers["Location"], headers=headers).get_data(as_text=True)
    assert f'href="{PARENT}/welcome" target="_top"' in page
    assert "successUrl&#34;: &#34;https://shop.example.com/welcome" in page


def test_in_a_frame_a_success_url_on_another_origin_is_not_offered(stubber: StrictStubber) -> None:
    client, response, headers = confirmed_in_frame(stubber, "https://elsewhere.example.net/welcome", framed=True)
    assert response.headers["Location"].startswith("/signup/done?flow=")
    page = client.get(response.headers["Location"], headers=headers).get_data(as_text=True)
    assert "elsewhere.example.net" not in page
