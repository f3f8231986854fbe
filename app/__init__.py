"""The sign-up app: create_app is its composition root, where Flask is configured and the parts
(app.components) are joined to it: blueprints, hooks and error handlers."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Request
from flask.sessions import SessionInterface
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.middleware.proxy_fix import ProxyFix

from app.aws.secrets import with_stored_secrets
from app.components import build_components
from app.config.declaration import load_declaration
from app.config.model import Declaration, untranslated
from app.config.settings import Settings, load_settings
from app.errors import ConfigError
from app.ops.logs import keep_secrets_out_of_logs, log_requests
from app.web import i18n
from app.web.assets import serve_static
from app.web.headers import add_headers
from app.web.health import bp as health_bp
from app.web.templating import bp as templating_bp
from app.web.views import bp, http_error, internal_error

ROOT = Path(__file__).resolve().parent.parent


def create_app(environ: Mapping[str, str] | None = None, *, cognito_client: Any = None) -> Flask:
    """Build the app from environment variables (os.environ unless given).

    Raises ConfigError, listing every problem, when the settings or the declaration are wrong.
    Tests pass `cognito_client` (a stubbed client) instead of the real one.
    """
    settings, declaration = load_configuration(os.environ if environ is None else environ)
    keep_secrets_out_of_logs()

    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=None)  # app.web.assets serves them
    app.session_interface = NoSession()
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SECRET_KEY_FALLBACKS=list(settings.secret_key_fallbacks),
        # Every message is the app's own (translated in its catalogues), so WTForms' catalogue,
        # which Flask-WTF would otherwise load on every request, is not needed.
        WTF_I18N_ENABLED=False,
        # A real form is a few kilobytes; advanced-security data can add up to 128 KiB.
        MAX_CONTENT_LENGTH=(256 if settings.advanced_security else 64) * 1024,
        MAX_FORM_MEMORY_SIZE=(256 if settings.advanced_security else 64) * 1024,
        MAX_FORM_PARTS=200,
        BABEL_DEFAULT_LOCALE=i18n.DEFAULT,
        LANGUAGES=i18n.available_languages(ROOT / "app" / "translations"),
    )
    i18n.use_babel(app)
    for text in untranslated(declaration, app.config["LANGUAGES"]):
        app.logger.warning("Declared text without a translation: %s", text)
    if not (settings.sign_in_url or settings.sign_in.domain):
        app.logger.warning(
            "Neither SIGNUP_SIGN_IN_URL nor the hand-off to Managed Login (COGNITO_DOMAIN) is set: the pages "
            "cannot offer a person who has an account, or has just made one, a way to sign in"
        )

    if declaration.identity_providers and not (settings.sign_in.domain and settings.sign_in.redirect_uri):
        # A warning, not a refusal: the same declaration may serve a test instance without Managed Login.
        app.logger.warning(
            "The declaration lists identity providers, but the hand-off to Managed Login is not set up "
            "(COGNITO_DOMAIN and SIGNUP_SIGN_IN_REDIRECT_URI): the sign-up form shows no provider buttons"
        )

    app.extensions["signup"] = build_components(settings, declaration, cognito_client)

    app.register_blueprint(bp)
    app.register_blueprint(templating_bp)
    app.register_blueprint(health_bp)
    styles = serve_static(app, ROOT / "static", settings.favicon_url)
    add_headers(app, settings, styles)
    log_requests(app)
    if settings.trusted_proxies:
        # Trust exactly as many X-Forwarded-* hops as there are proxies; anything a client adds
        # further left is ignored, so it cannot choose the IP address Cognito sees.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)  # type: ignore[method-assign]
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(InternalServerError, internal_error)
    return app


class NoSession(SessionInterface):
    """The app keeps nothing between requests in a cookie (app.web.views), so there is no session to open.

    Flask's default opened one on every request: a signing serializer built, the cookies parsed.
    Flask gives each request a NullSession instead, which refuses to be written to.
    """

    def open_session(self, app: Flask, request: Request) -> None:
        return None


def load_configuration(env: Mapping[str, str]) -> tuple[Settings, Declaration]:
    """Settings and declaration together, so one error lists the problems of both."""
    problems: list[str] = []
    settings = declaration = None
    try:
        settings = load_settings(with_stored_secrets(env))
    except ConfigError as err:
        problems += err.problems
    path = env.get("SIGNUP_CONFIG", "").strip()
    if not path:
        problems.append("SIGNUP_CONFIG is not set")
    else:
        try:
            declaration = load_declaration(path)
        except ConfigError as err:
            problems += err.problems
    if problems or settings is None or declaration is None:
        raise ConfigError(problems)
    return settings, declaration
