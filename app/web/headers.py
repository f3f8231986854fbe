"""Headers of every response, computed once at start-up: security, caching and compression."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request
from werkzeug.wrappers import Response

from app.config.settings import Settings
from app.signup.bots import CAPTCHA_PROVIDERS
from app.web.compression import compress
from app.web.templating import third_parties_allowed

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


# What a page may be kept as: by the browser only (it holds a visitor's form token and what they
# typed), checked with the server before it is shown again, and restored as it was by Back and
# Forward (the back/forward cache needs no `no-store`). Tokens live 24 hours, so a restored form
# still posts. A page that holds a secret sets `no-store` itself (app.web.pages.signed_in).
PAGE_CACHING = "private, no-cache"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(settings: Settings, *, styles: str, third_parties: bool = True) -> str:
    """A strict policy: only the app's own files, no inline code (the pages' own styles are allowed
    by their hash, `styles`); framing only by the allowed origins.

    Third parties appear only when the operator turns them on (Cognito's advanced-security script
    and the CAPTCHA service), and only where `third_parties` says: the sign-up form. form-action
    lists the success and return addresses and Managed Login too, because browsers apply it to the
    redirect that follows a form post, and the callback that immediate sign-in posts the tokens to.
    """
    scripts: list[str] = ["'self'"]
    frames: list[str] = []
    if settings.advanced_security and third_parties:
        scripts.append(origin(settings.advanced_security_script_url))
    if settings.captcha and third_parties:
        provider = CAPTCHA_PROVIDERS[settings.captcha.provider]
        scripts += provider.script_origins
        frames += provider.frame_origins
    images = ["'self'", "data:"]
    for image in (settings.theme.logo_url, settings.favicon_url):
        if image and origin(image) not in images:
            images.append(origin(image))
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
        "style-src": ["'self'", styles],
        "img-src": images,
        "connect-src": ["'self'"],
        "frame-src": frames or ["'none'"],
        "form-action": form_action,
        "frame-ancestors": list(settings.frame_ancestors) or ["'self'"],
        "base-uri": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def add_headers(app: Flask, settings: Settings, styles: str) -> None:
    """Register the after-request hook that sets the headers and compresses what is worth it
    (app.web.compression); `styles` is the policy's source for the pages' own inline styles."""
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
    }

    # The sign-up form's policy, and every other page's: only the app's own code
    # (app.web.templating.third_parties_allowed).
    policies = {
        True: content_security_policy(settings, styles=styles),
        False: content_security_policy(settings, third_parties=False, styles=styles),
    }

    @app.after_request
    def set_headers(response: Response) -> Response:
        response.headers.update(headers)
        response.headers["Content-Security-Policy"] = policies[third_parties_allowed()]
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = HSTS
        if response.mimetype == "text/html" and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = PAGE_CACHING
        compress(response)
        return response
