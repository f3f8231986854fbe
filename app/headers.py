"""Security headers, computed once at start-up and added to every response."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask
from werkzeug.wrappers import Response

from app.settings import Settings


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(settings: Settings) -> str:
    """A strict policy: only the app's own files, no inline code; framing only by the allowed origins.

    form-action lists the success address too, because browsers apply it to the redirect that
    follows a form post.
    """
    scripts = ["'self'"]
    if settings.advanced_security:
        scripts.append(origin(settings.advanced_security_script_url))
    form_action = ["'self'"]
    if settings.success_url:
        form_action.append(origin(settings.success_url))
    directives = {
        "default-src": ["'none'"],
        "script-src": scripts,
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
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
    }

    @app.after_request
    def set_headers(response: Response) -> Response:
        response.headers.update(headers)
        return response
