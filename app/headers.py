"""Security headers, computed once at start-up and added to every response."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request
from werkzeug.wrappers import Response

from app.bots import CAPTCHA_PROVIDERS
from app.settings import Settings

HSTS = "max-age=63072000"  # two years; subdomains are the operator's call, so not included
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "display-capture",
        "browsing-topics",
    )
)


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(settings: Settings) -> str:
    """A strict policy: only the app's own files, no inline code; framing only by the allowed origins.

    Third parties appear only when the operator turns them on: Cognito's advanced-security script
    and the CAPTCHA service. form-action lists the success and return addresses and Managed Login
    too, because browsers apply it to the redirect that follows a form post, and the callback that
    immediate sign-in posts the tokens to.
    """
    scripts: list[str] = ["'self'"]
    frames: list[str] = []
    if settings.advanced_security:
        scripts.append(origin(settings.advanced_security_script_url))
    if settings.captcha:
        provider = CAPTCHA_PROVIDERS[settings.captcha.provider]
        scripts += provider.script_origins
        frames += provider.frame_origins
    images = ["'self'", "data:"]
    if settings.theme.logo_url:
        images.append(origin(settings.theme.logo_url))
    form_action = ["'self'"]
    onward = (
        settings.success_url,
        settings.sign_in.domain,
        settings.sign_in.token_callback_url,
        *settings.allowed_return_urls,
    )
    for url in onward:
        if url and origin(url) not in form_action:
            form_action.append(origin(url))
    directives = {
        "default-src": ["'none'"],
        "script-src": scripts,
        "style-src": ["'self'"],
        "img-src": images,
        "connect-src": ["'self'"],
        "frame-src": frames or ["'none'"],
        "form-action": form_action,
        "frame-ancestors": list(settings.frame_ancestors) or ["'self'"],
        "base-uri": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def add_security_headers(app: Flask, settings: Settings) -> None:
    """Register the after-request hook that sets the headers."""
    headers = {
        "Content-Security-Policy": content_security_policy(settings),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
    }

    @app.after_request
    def set_headers(response: Response) -> Response:
        response.headers.update(headers)
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = HSTS
        if response.mimetype == "text/html":
            # Pages hold a CSRF token and what the person typed: never keep them in a shared cache.
            response.headers["Cache-Control"] = "no-store"
        return response
