"""Theming from settings: CSS variables with contrast kept, a logo, no template edits."""

from __future__ import annotations

import re

import pytest

from app import create_app
from app.web.theme import DARK_SURFACE, LIGHT_SURFACE, Theme, _rgb, contrast, stylesheet

from .conftest import StrictStubber, base_env


@pytest.mark.parametrize("brand", ["#0b5cad", "#ffff00", "#777", "#000000", "#ffffff", "#e91e63"])
def test_any_brand_colour_keeps_aa_contrast_in_both_schemes(brand: str) -> None:
    css = stylesheet(Theme(brand_colour=brand))
    light, dark = re.findall(r"--brand: (#[0-9a-f]{6});", css)
    assert contrast(_rgb(light), _rgb(LIGHT_SURFACE)) >= 4.5
    assert contrast(_rgb(dark), _rgb(DARK_SURFACE)) >= 4.5
    for background, text in re.findall(r"--brand: (#[0-9a-f]{6}); --brand-contrast: (#[0-9a-f]{6});", css):
        assert contrast(_rgb(background), _rgb(text)) >= 4.5


def test_the_theme_is_a_cached_stylesheet_and_the_logo_is_allowed(stubber: StrictStubber) -> None:
    env = base_env(
        SIGNUP_THEME_BRAND_COLOR="#e91e63",
        SIGNUP_THEME_FONT="Inter, sans-serif",
        SIGNUP_THEME_LOGO_URL="https://cdn.example.com/logo.svg",
        SIGNUP_SITE_NAME="Example Shop",
    )
    client = create_app(env, cognito_client=stubber.client).test_client()
    response = client.get("/signup")
    page = response.get_data(as_text=True)
    href = re.search(r'<link rel="stylesheet" href="(/theme-[0-9a-f]{12}\.css)">', page).group(1)
    assert '<img src="https://cdn.example.com/logo.svg" alt="Example Shop">' in page
    assert "<title>Sign up – Example Shop</title>" in page
    assert "img-src 'self' data: https://cdn.example.com;" in response.headers["Content-Security-Policy"]
    theme = client.get(href)
    assert theme.mimetype == "text/css" and "immutable" in theme.headers["Cache-Control"]
    assert "--font: Inter, sans-serif;" in theme.get_data(as_text=True)


def test_a_theme_address_of_another_version_is_not_found(stubber: StrictStubber, stub_app: object) -> None:
    client = create_app(base_env(SIGNUP_THEME_BRAND_COLOR="#e91e63"), cognito_client=stubber.client).test_client()
    for other in ("/theme-anything.css", "/theme-0123456789ab.css"):  # not this instance's colours, cached a year
        response = client.get(other)
        assert response.status_code == 404
        assert "immutable" not in response.headers.get("Cache-Control", "")
    untouched = stub_app.test_client()  # type: ignore[attr-defined]
    assert untouched.get("/theme-0123456789ab.css").status_code == 404  # no theme: no stylesheet at all


def test_without_a_theme_no_extra_stylesheet_is_loaded(stub_app: object) -> None:
    assert "/theme-" not in stub_app.test_client().get("/signup").get_data(as_text=True)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "value"),
    [("SIGNUP_THEME_BRAND_COLOR", "red; background: url(x)"), ("SIGNUP_THEME_FONT", "x; } body { display: none")],
)
def test_theme_settings_cannot_inject_css(name: str, value: str) -> None:
    with pytest.raises(Exception, match=name):
        create_app(base_env(**{name: value}))
