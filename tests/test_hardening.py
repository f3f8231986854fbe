"""Headers, body limits, methods and return addresses."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import g

from app.signup.redirects import safe_return_url

from .conftest import ROOT, SIGNUP, StrictStubber, app_with, submit, text

SHOP = "https://shop.example.com/welcome/"


def test_pages_carry_a_strict_csp_and_the_other_security_headers(stubber: StrictStubber) -> None:
    response = app_with(stubber).test_client().get("/signup")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy and "style-src 'self' 'sha256-" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert response.headers["Cache-Control"] == "private, no-cache"  # the browser's alone (test_fast_pages.py)
    assert "Strict-Transport-Security" not in response.headers  # plain http


def test_over_https_hsts_is_sent(stubber: StrictStubber) -> None:
    response = app_with(stubber).test_client().get("/signup", base_url="https://signup.example.com")
    assert response.headers["Strict-Transport-Security"] == "max-age=63072000"


def test_behind_a_tls_proxy_https_is_recognised(stubber: StrictStubber) -> None:
    client = app_with(stubber, SIGNUP_TRUSTED_PROXIES="1").test_client()
    response = client.get("/signup", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.1"})
    assert "Strict-Transport-Security" in response.headers


@pytest.mark.parametrize("template", sorted(p.name for p in (ROOT / "templates").glob("*.html")))
def test_templates_hold_no_inline_script_or_style(template: str) -> None:
    # But one: static/app.css, written into the pages, which their policy allows by its hash alone.
    source = (ROOT / "templates" / template).read_text().replace("<style>{{ styles() }}</style>", "")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", source)
    assert "<style" not in source and "style=" not in source
    assert not re.search(r"\son[a-z]+=", source)  # no inline event handlers


def test_a_huge_body_gets_the_413_page(stubber: StrictStubber) -> None:
    response = app_with(stubber).test_client().post("/signup", data={**SIGNUP, "custom_company": "x" * 100_000})
    assert response.status_code == 413
    assert "What you sent was too large." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/signup", "GET, HEAD, OPTIONS, POST"),
        ("DELETE", "/signup/confirm", "GET, HEAD, OPTIONS, POST"),
        ("GET", "/signup/confirm/resend", "OPTIONS, POST"),
        ("POST", "/signup/done", "GET, HEAD, OPTIONS"),
        ("POST", "/healthz", "GET, HEAD, OPTIONS"),
    ],
)
def test_each_route_answers_only_its_methods(stubber: StrictStubber, method: str, path: str, allowed: str) -> None:
    response = app_with(stubber).test_client().open(path, method=method)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == set(allowed.split(", "))
    assert "This page cannot be used that way." in response.get_data(as_text=True)


def test_an_unknown_address_gets_the_404_page(stubber: StrictStubber) -> None:
    response = app_with(stubber).test_client().get("/admin")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_a_bug_is_logged_with_its_traceback_and_the_person_gets_a_plain_page(
    stubber: StrictStubber, caplog: pytest.LogCaptureFixture
) -> None:
    app = app_with(stubber)
    app.add_url_rule("/bug", "bug", lambda: 1 // 0)
    response = app.test_client().get("/bug?lang=de")
    assert response.status_code == 500
    page = text(response)
    assert "<h1>Etwas ist schiefgelaufen</h1>" in page and "ZeroDivisionError" not in page
    logged = [record for record in caplog.records if record.exc_info]
    assert logged and logged[0].exc_info and logged[0].exc_info[0] is ZeroDivisionError


def test_in_the_tests_a_bug_reaches_the_test_itself(stubber: StrictStubber) -> None:
    app = app_with(stubber)
    app.config["TESTING"] = True
    app.add_url_rule("/bug", "bug", lambda: 1 // 0)
    with pytest.raises(ZeroDivisionError):
        app.test_client().get("/bug")


def test_health_checks_read_nothing_of_the_flow_and_its_pages_read_it_once(stubber: StrictStubber) -> None:
    with app_with(stubber).test_client() as client:
        client.get("/healthz?lang=de&utm_source=mail")
        assert "signup_request" not in g
        client.get("/signup?lang=de&utm_source=mail")
        assert (g.signup_request.carried.lang, dict(g.signup_request.carried.attribution)) == (
            "de",
            {"utm_source": "mail"},
        )


@pytest.mark.parametrize("path", ["/%5Cevil.example/", "//evil.example/", "/%2F%2Fevil.example/", "/\\evil.example/"])
def test_no_link_on_any_page_is_built_from_the_requested_path(stubber: StrictStubber, path: str) -> None:
    # Before, the 404 page's language links were the request's path plus ?lang=: /\evil.example/?lang=de,
    # which browsers follow to http://evil.example/.
    page = text(app_with(stubber).test_client().get(path))
    links = [link for link in re.findall(r'href="([^"]*)"', page) if not link.startswith("data:image/")]  # the icon
    assert "evil" not in page
    assert all(link.startswith("/") and not link.startswith(("//", "/\\")) for link in links), links


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://shop.example.com/welcome/", True),
        ("https://shop.example.com/welcome/back?x=1", True),
        ("https://shop.example.com/other", False),
        ("http://shop.example.com/welcome/", False),
        ("https://shop.example.com:8443/welcome/", False),
        ("https://shop.example.com.evil.test/welcome/", False),
        ("https://evil.test/welcome/", False),
        ("https://shop.example.com@evil.test/welcome/", False),
        ("https://user:pw@shop.example.com/welcome/", False),
        ("//evil.test/welcome/", False),
        ("/welcome/", False),
        ("javascript:alert(1)", False),
        ("https:\\\\evil.test\\welcome/", False),
        ("https://shop.example.com/welcome/\r\nLocation: x", False),
        ("https://shop.example.com:99999/welcome/", False),
        ("https://shop.example.com/welcome/" + "a" * 3000, False),
    ],
)
def test_only_return_addresses_under_the_allowlist_are_followed(url: str, allowed: bool) -> None:
    assert (safe_return_url(url, (SHOP,)) is not None) is allowed


WELCOME = "https://shop.example.com/welcome"


@pytest.mark.parametrize(
    "url",
    [
        "https://shop.example.com/welcomeXYZ",
        "https://shop.example.com/welcome.evil",
        "https://shop.example.com/welcome/../../admin",
        "https://shop.example.com/welcome/../admin",
        "https://shop.example.com/welcome/..",
        "https://shop.example.com/welcome/x/../../admin",
        "https://shop.example.com/welcome/%2e%2e/admin",
        "https://shop.example.com/welcome/%2E%2E/admin",
        "https://shop.example.com/welcome/.%2e/admin",
        "https://shop.example.com/welcome/%2e./admin",
        "https://shop.example.com/welcome%2f..%2fadmin",
        "https://shop.example.com/welcome/..%2Fadmin",
        "https://shop.example.com/welcome/%5c..%5cadmin",
        "https://shop.example.com/welcome/%5C",
        "https://shop.example.com/welcome/%252e%252e/admin",
        "https://shop.example.com/welcome/%252f..%252fadmin",
        "https://shop.example.com/welcome/..;/admin",
        "https://shop.example.com/welcome/.;x/..;/..;/admin",
        "https://shop.example.com:80/welcome",
        "http://shop.example.com:443/welcome",
        "https://shop.example.com./welcome",
        "https://shop.example.com:0/welcome",
    ],
)
def test_a_return_address_that_leaves_the_allowed_path_is_refused(url: str) -> None:
    assert safe_return_url(url, (WELCOME,)) is None


@pytest.mark.parametrize(
    ("url", "followed"),
    [
        ("https://shop.example.com/welcome", "https://shop.example.com/welcome"),
        ("https://shop.example.com/welcome/", "https://shop.example.com/welcome/"),
        ("https://shop.example.com/welcome/x?a=1#top", "https://shop.example.com/welcome/x?a=1#top"),
        ("https://shop.example.com/welcome?next=../admin", "https://shop.example.com/welcome?next=../admin"),
        ("https://shop.example.com/welcome/./x", "https://shop.example.com/welcome/x"),
        ("https://shop.example.com/welcome/a/../b", "https://shop.example.com/welcome/b"),
        ("https://shop.example.com/welcome/a/%2e%2e/b", "https://shop.example.com/welcome/b"),
        ("https://shop.example.com/welcome/a/..", "https://shop.example.com/welcome/"),
        ("https://shop.example.com/welcome/a%2Fb", "https://shop.example.com/welcome/a/b"),
        ("https://shop.example.com/welcome%2fx", "https://shop.example.com/welcome/x"),
        ("https://shop.example.com/other/../welcome/x", "https://shop.example.com/welcome/x"),
        ("https://shop.example.com:443/welcome/x", "https://shop.example.com/welcome/x"),
        ("https://SHOP.Example.com/welcome", "https://shop.example.com/welcome"),
    ],
)
def test_an_allowed_return_address_is_followed_as_it_was_checked(url: str, followed: str) -> None:
    assert safe_return_url(url, (WELCOME,)) == followed


@pytest.mark.parametrize(
    ("allowed", "url", "followed"),
    [
        (
            "https://shop.example.com:443/welcome",
            "https://shop.example.com/welcome",
            "https://shop.example.com/welcome",
        ),
        ("http://shop.example.com/", "http://shop.example.com:80/any/page", "http://shop.example.com/any/page"),
        ("https://shop.example.com", "https://shop.example.com", "https://shop.example.com"),
        ("https://shop.example.com/welcome", "https://shop.example.com", None),
        ("https://shop.example.com:99999/", "https://shop.example.com/", None),
        (
            "https://shop.example.com:8443/welcome/",
            "https://shop.example.com:8443/welcome",
            "https://shop.example.com:8443/welcome",
        ),
        ("https://shop.example.com:8443/welcome/", "https://shop.example.com/welcome", None),
        ("https://[2001:db8::1]/welcome", "https://[2001:DB8::1]:443/welcome", "https://[2001:db8::1]/welcome"),
    ],
)
def test_default_ports_and_allowed_paths_are_compared_as_a_browser_would(
    allowed: str, url: str, followed: str | None
) -> None:
    assert safe_return_url(url, (allowed,)) == followed


def finish_with(stubber: StrictStubber, return_to: str) -> Any:
    stubber.add_response("sign_up", {"UserConfirmed": True, "UserSub": "s"})
    client = app_with(stubber, SIGNUP_ALLOWED_RETURN_URLS=SHOP).test_client()
    return submit(client, f"/signup?{urlencode({'return_to': return_to})}", SIGNUP)


def test_an_allowed_return_address_ends_the_flow(stubber: StrictStubber) -> None:
    assert finish_with(stubber, SHOP + "thanks").headers["Location"] == SHOP + "thanks"


def test_the_return_address_followed_is_the_one_that_was_checked(stubber: StrictStubber) -> None:
    assert finish_with(stubber, SHOP + "x/%2e%2e/thanks").headers["Location"] == SHOP + "thanks"


def test_any_other_return_address_falls_back_to_the_done_page(stubber: StrictStubber) -> None:
    assert finish_with(stubber, "https://evil.test/").headers["Location"].startswith("/signup/done?flow=")


def test_return_addresses_are_allowed_as_form_targets_in_the_csp(stubber: StrictStubber) -> None:
    policy = (
        app_with(stubber, SIGNUP_ALLOWED_RETURN_URLS=SHOP)
        .test_client()
        .get("/signup")
        .headers["Content-Security-Policy"]
    )
    assert "form-action 'self' https://shop.example.com;" in policy


def test_ruff_security_rules_pass_on_the_app(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--select", "S", "--no-cache", "app"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
