"""Rendered pages are kept and reused: the untouched sign-up page once per language, an untouched
form's fields once per form and language. Every visitor still gets exactly the page a fresh render
gives, whoever came first and whatever they sent, and a form token of their own."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from app import create_app
from app.signup.flow import Flow

from .conftest import ROOT, base_env, csrf_token, text, without_tokens

PHONE = ROOT / "tests" / "declarations" / "phone.toml"
USERNAME = ROOT / "tests" / "declarations" / "username.toml"
OWNERS = ROOT / "tests" / "declarations" / "owners.toml"  # declares attribution and prefill
# First visitors who would leave their mark on a kept page: another script root (as a proxy's
# SCRIPT_NAME header sets it), a return address and attribution in the links, a form filled in.
FIRST_VISITS = {
    "script-root": ("", {"SCRIPT_NAME": "//evil.example"}),
    "carried-values": ("?return_to=https://shop.example.com/welcome&utm_source=evil-source", {}),
    "filled-in": ("?email=evil@example.com", {}),
}


def fresh_app(declaration: Path | None, advanced_security: bool, **env: str) -> Any:
    env = {"SIGNUP_ADVANCED_SECURITY": "1" if advanced_security else "0", **env}
    if declaration is not None:
        env["SIGNUP_CONFIG"] = str(declaration)
    return create_app(base_env(**env), cognito_client=object())


def address(app: Any, page: str) -> str:
    if page == "code":
        token = app.extensions["signup"].flows.seal(Flow("ann@example.com", "ann@example.com", "EMAIL"))
        return f"/signup/confirm?flow={token}"
    return {"signup": "/signup", "returning": "/signup/confirm"}[page]


@pytest.mark.parametrize("language", ["en", "de", "es"])
@pytest.mark.parametrize("declaration", [None, PHONE, USERNAME, OWNERS], ids=["email", "phone", "username", "owners"])
@pytest.mark.parametrize("advanced_security", [False, True], ids=["plain", "advanced-security"])
@pytest.mark.parametrize(
    ("page", "first_visit"),
    [*(("signup", visit) for visit in FIRST_VISITS), ("code", "script-root"), ("returning", "script-root")],
)
def test_a_reused_page_equals_a_fresh_render_whoever_came_first(
    language: str, declaration: Path | None, advanced_security: bool, page: str, first_visit: str
) -> None:
    settings = {"SIGNUP_ALLOWED_RETURN_URLS": "https://shop.example.com/welcome"}
    warmed = fresh_app(declaration, advanced_security, **settings)
    path = address(warmed, page)
    query, environ = FIRST_VISITS[first_visit]
    headers = {"Accept-Language": language}
    first = warmed.test_client().get(path + query, headers=headers, environ_overrides=environ)
    assert first.status_code == 200
    # The second visitor may fill what is kept; the third is served from it.
    second, third = (text(warmed.test_client().get(path, headers=headers)) for _ in range(2))
    fresh = text(fresh_app(declaration, advanced_security, **settings).test_client().get(path, headers=headers))
    assert without_tokens(second) == without_tokens(third) == without_tokens(fresh)
    assert not re.search("evil", third)
    assert f'<html lang="{language}">' in third


def test_each_visitor_of_a_kept_page_gets_a_form_token_made_for_their_visit() -> None:
    # The token's time stamp is when the form was opened (the bot check's time to fill).
    client = fresh_app(None, False).test_client()
    tokens = []
    for _ in range(3):
        tokens.append(csrf_token(text(client.get("/signup"))))
        time.sleep(0.05)
    assert len(set(tokens)) == 3
    ages = [client.application.extensions["signup"].tokens.read(token, "signup").age for token in tokens]
    assert ages[0] > ages[1] > ages[2]
