"""An untouched form's fields are rendered once per language and reused: every visitor still gets
exactly the page a fresh render gives, whoever came first and whatever they sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app import create_app
from app.flow import Flow

from .conftest import ROOT, base_env, text, without_tokens

PHONE = ROOT / "tests" / "declarations" / "phone.toml"
USERNAME = ROOT / "tests" / "declarations" / "username.toml"


def fresh_app(declaration: Path | None, advanced_security: bool) -> Any:
    env = {"SIGNUP_ADVANCED_SECURITY": "1" if advanced_security else "0"}
    if declaration is not None:
        env["SIGNUP_CONFIG"] = str(declaration)
    return create_app(base_env(**env), cognito_client=object())


def address(app: Any, page: str) -> str:
    if page == "code":
        token = app.extensions["signup"].flows.seal(Flow("ann@example.com", "ann@example.com", "EMAIL"))
        return f"/signup/confirm?flow={token}"
    return {"signup": "/signup", "returning": "/signup/confirm"}[page]


@pytest.mark.parametrize("language", ["en", "de", "es"])
@pytest.mark.parametrize("declaration", [None, PHONE, USERNAME], ids=["email", "phone", "username"])
@pytest.mark.parametrize("advanced_security", [False, True], ids=["plain", "advanced-security"])
@pytest.mark.parametrize("page", ["signup", "code", "returning"])
def test_a_reused_page_equals_a_fresh_render_whoever_came_first(
    language: str, declaration: Path | None, advanced_security: bool, page: str
) -> None:
    warmed = fresh_app(declaration, advanced_security)
    path = address(warmed, page)
    # The first visitor is hostile: another script root (as a proxy's SCRIPT_NAME header sets it).
    first = warmed.test_client().get(
        path, headers={"Accept-Language": language}, environ_overrides={"SCRIPT_NAME": "//evil.example"}
    )
    assert first.status_code == 200
    reused = text(warmed.test_client().get(path, headers={"Accept-Language": language}))
    fresh = text(
        fresh_app(declaration, advanced_security).test_client().get(path, headers={"Accept-Language": language})
    )
    assert without_tokens(reused) == without_tokens(fresh)
    assert "evil.example" not in reused
    assert f'<html lang="{language}">' in reused
