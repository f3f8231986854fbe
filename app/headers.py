"""Headers of every response, computed once at start-up: security, caching and compression."""

from __future__ import annotations

import zlib
from functools import lru_cache
from urllib.parse import urlsplit

import brotli
from flask import Flask, request
from werkzeug.http import parse_accept_header
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


# Pages are compressed as they leave, per request: they hold a form token of their own. The levels
# are those made for compressing on the fly (what CDNs use for dynamic pages): a 4 KB page in
# about 45 us with brotli 4, 30 us with gzip 6, to a third of its size. Static files are
# compressed once, harder, at start-up (app.assets).
BROTLI_QUALITY = 4
GZIP_LEVEL = 6
# Below this a body goes in one packet with its headers (about 700 bytes) either way: compressing
# it costs time and saves nothing a person notices. The done page (900 bytes) is above it.
MIN_COMPRESS_BYTES = 512
COMPRESSED_TYPES = frozenset({"text/html", "text/css", "text/javascript", "application/json", "image/svg+xml"})
# What a page may be kept as: by the browser only (it holds a visitor's form token and what they
# typed), checked with the server before it is shown again, and restored as it was by Back and
# Forward (the back/forward cache needs no `no-store`). Tokens live 24 hours, so a restored form
# still posts. A page that holds a secret sets `no-store` itself (app.pages.signed_in).
PAGE_CACHING = "private, no-cache"


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
        provider = CAPTCHA_PROVIDERS[settings.captcha]
        scripts += provider.script_origins
        frames += provider.frame_origins
    images = ["'self'", "data:"]
    for image in (settings.theme.logo_url, settings.favicon_url):
        if image and origin(image) not in images:
            images.append(origin(image))
    form_action = ["'self'"]
    onward = (settings.success_url, settings.cognito_domain, settings.token_callback_url, *settings.allowed_return_urls)
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


def add_headers(app: Flask, settings: Settings) -> None:
    """Register the after-request hook that sets the headers and compresses what is worth it."""
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
        if response.mimetype == "text/html" and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = PAGE_CACHING
        compress(response)
        return response


def compress(response: Response) -> None:
    """Compress a text body of a kilobyte or more, with brotli or gzip, as the browser accepts."""
    if (
        response.mimetype not in COMPRESSED_TYPES
        or response.direct_passthrough  # a file, streamed: not the pages this is for
        or response.is_streamed
        or "Content-Encoding" in response.headers
        or (response.content_length or 0) < MIN_COMPRESS_BYTES
    ):
        return
    # The body's encoding depends on the request's Accept-Encoding from here on, whatever it is.
    response.vary.add("Accept-Encoding")
    encoding = chosen_encoding(request.headers.get("Accept-Encoding", ""))
    if encoding is None:
        return
    body = response.get_data()
    if encoding == "br":
        response.set_data(brotli.compress(body, quality=BROTLI_QUALITY))
    else:
        response.set_data(zlib.compress(body, GZIP_LEVEL, wbits=31))  # 31: with gzip's header
    response.headers["Content-Encoding"] = encoding


@lru_cache(maxsize=64)
def chosen_encoding(accept_encoding: str) -> str | None:
    """br or gzip, whichever the client prefers (br on a tie), or None: few browsers, few values."""
    accepted = parse_accept_header(accept_encoding)
    best = max(("br", "gzip"), key=lambda coding: accepted[coding])
    return best if accepted[best] > 0 else None
