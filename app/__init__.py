"""The sign-up app: create_app is the one place where its parts are built and joined."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from flask import Flask, Request, current_app, render_template
from flask.sessions import SessionInterface
from flask_babel import Babel
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from app import i18n, theme
from app.bots import BotGuard, Captcha
from app.cognito import CognitoSignup, create_client
from app.components import Components
from app.csrf import FormTokens
from app.declaration import Declaration, load_declaration, untranslated
from app.errors import ConfigError
from app.flow import FlowSeal
from app.forms import build_forms
from app.headers import add_security_headers
from app.health import bp as health_bp
from app.invite import Invitations
from app.logs import keep_secrets_out_of_logs, log_requests
from app.pages import bp as pages_bp
from app.ratelimit import RateLimiter
from app.secrets import with_stored_secrets
from app.settings import Settings, cognito_cap, load_settings
from app.steps import Steps
from app.views import bp

ROOT = Path(__file__).resolve().parent.parent


def create_app(environ: Mapping[str, str] | None = None, *, cognito_client: Any = None) -> Flask:
    """Build the app from environment variables (os.environ unless given).

    Raises ConfigError, listing every problem, when the settings or the declaration are wrong.
    Tests pass `cognito_client` (a stubbed client) instead of the real one.
    """
    settings, declaration = load_configuration(os.environ if environ is None else environ)
    keep_secrets_out_of_logs()

    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
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
    Babel(app, locale_selector=i18n.select_locale)
    for text in untranslated(declaration, app.config["LANGUAGES"]):
        app.logger.warning("Declared text without a translation: %s", text)

    client = cognito_client if cognito_client is not None else create_client(settings)
    captcha = (
        Captcha(settings.captcha, settings.captcha_site_key, settings.captcha_secret_key, settings.captcha_verify_url)
        if settings.captcha
        else None
    )
    guard = BotGuard(settings.min_fill_seconds, captcha)
    service = CognitoSignup(
        client,
        client_id=settings.cognito_client_id,
        client_secret=settings.cognito_client_secret,
        client_metadata=declaration.client_metadata,
        validation_data=declaration.validation_data,
        analytics_endpoint_id=declaration.analytics_endpoint_id,
        max_in_flight=cognito_cap(settings.threads, settings.cognito_max_in_flight),
    )
    limiter = RateLimiter(
        settings.ratelimit_storage_uri, settings.rate_limits or {}, enabled=settings.ratelimit_enabled
    )
    tokens = FormTokens(settings.secret_key, settings.secret_key_fallbacks)
    app.extensions["signup"] = Components(
        settings=settings,
        declaration=declaration,
        tokens=tokens,
        forms=build_forms(
            declaration,
            tokens=tokens,
            advanced_security=settings.advanced_security,
            check_deliverability=settings.check_email_deliverability,
        ),
        service=service,
        steps=Steps(
            service,
            limiter,
            guard,
            declaration,
            hide_existing_users=settings.hide_existing_users,
            sign_in_at_once=settings.sign_in == "immediate",
            auth_session_seconds=settings.auth_session_seconds,
        ),
        flows=FlowSeal(settings.secret_key, settings.secret_key_fallbacks),
        invitations=Invitations(settings.secret_key, settings.secret_key_fallbacks),
        guard=guard,
        theme_css=(css := theme.stylesheet(settings.theme)),
        theme_version=theme.version(css),
    )

    app.register_blueprint(bp)
    app.register_blueprint(pages_bp)
    app.register_blueprint(health_bp)
    add_security_headers(app, settings)
    log_requests(app)
    if settings.trusted_proxies:
        # Trust exactly as many X-Forwarded-* hops as there are proxies; anything a client adds
        # further left is ignored, so it cannot choose the IP address Cognito sees.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)  # type: ignore[method-assign]
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    return app


def fit_to_threads(app: Flask, threads: int) -> None:
    """Fit the Cognito bulkhead and connection pool to the threads that really serve this process.

    create_app can only take SIGNUP_THREADS (the setting for other servers) at its word: under
    gunicorn it runs once, in the master, before any worker exists. gunicorn.conf.py calls this in
    each worker with the count gunicorn really runs, whatever its command line, GUNICORN_CMD_ARGS
    or a config file said. The worker gets a client of its own, with a pool of that size, so it
    shares no connection the master opened at start-up either. An app that is not this one (the
    benchmark's bare Flask) has nothing to fit.
    """
    components: Components | None = app.extensions.get("signup")
    if components is None:
        return
    settings = replace(components.settings, threads=threads)
    components.service.use_client(create_client(settings), cognito_cap(threads, settings.cognito_max_in_flight))


class NoSession(SessionInterface):
    """The app keeps nothing between requests in a cookie (app.views), so there is no session to open.

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


def _http_error(error: HTTPException) -> tuple[str, int, list[tuple[str, str]]]:
    """404, 405, 413 and friends as a page of the app, never Werkzeug's bare text."""
    allow = [(name, value) for name, value in error.get_headers() if name == "Allow"]
    return render_template("error.html", status=error.code), error.code or 500, allow


def _unexpected_error(error: Exception) -> tuple[str, int]:
    """A bug: log it with its traceback for the operator, show the person a plain page."""
    current_app.logger.exception("Unhandled error")
    return render_template("error.html", status=500), 500
