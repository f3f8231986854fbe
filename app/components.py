"""The parts the requests share, built once per process: `build_components` makes them from the
settings and the declaration (create_app calls it), `fit_to_threads` sizes them for the threads of
a gunicorn worker, `current` finds the running app's."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from flask import Flask, current_app, url_for
from markupsafe import Markup

from app.aws.cognito import CognitoSignup, create_client
from app.config.model import Declaration
from app.config.settings import Settings, SignInMode, cognito_cap
from app.invite import Invitations
from app.signup.bots import BotGuard, Captcha
from app.signup.csrf import FORM_MAX_AGE, FormTokens
from app.signup.drafts import DraftSeal
from app.signup.flow import ROUTE_OF_KIND, FlowSeal
from app.signup.ratelimit import FormLedger, RateLimiter
from app.signup.steps import Steps
from app.web import theme
from app.web.forms import FormClasses, build_forms
from app.web.pages import Pages


@dataclass(frozen=True)
class Components:
    """What the views need, built once per process."""

    settings: Settings
    declaration: Declaration
    tokens: FormTokens
    forms: FormClasses
    service: CognitoSignup
    steps: Steps
    pages: Pages
    flows: FlowSeal
    drafts: DraftSeal
    invitations: Invitations
    guard: BotGuard
    theme_css: str
    theme_version: str
    # The visible fields of untouched forms, by form class and language (app.web.templating.form_fields).
    rendered_fields: dict[tuple[type, str], Markup] = field(default_factory=dict)


def build_components(settings: Settings, declaration: Declaration, cognito_client: Any = None) -> Components:
    """Every part, joined: the one boto3 client (or the tests' stubbed one), the service, the steps
    with their limits and bot checks, the forms and pages, and the seals and tokens."""
    client = cognito_client if cognito_client is not None else create_client(settings)
    captcha = settings.captcha
    guard = BotGuard(
        settings.min_fill_seconds,
        Captcha(captcha.provider, captcha.site_key, captcha.secret_key, captcha.verify_url) if captcha else None,
    )
    service = CognitoSignup(
        client,
        client_id=settings.cognito.client_id,
        client_secret=settings.cognito.client_secret,
        client_metadata=declaration.client_metadata,
        validation_data=declaration.validation_data,
        analytics_endpoint_id=declaration.analytics_endpoint_id,
        max_in_flight=cognito_cap(settings.threads, settings.cognito_max_in_flight),
        user_pool_id=settings.cognito.user_pool_id,
        admin=settings.replace_unconfirmed,
    )
    limits = settings.rate_limits
    limiter = RateLimiter(limits.storage_uri, limits.rules, enabled=limits.enabled)
    tokens = FormTokens(settings.secret_key, settings.secret_key_fallbacks)
    forms = build_forms(
        declaration,
        tokens=tokens,
        advanced_security=settings.advanced_security,
        check_deliverability=settings.check_email_deliverability,
    )
    css = theme.stylesheet(settings.theme)
    flows = FlowSeal(
        settings.secret_key, settings.secret_key_fallbacks, pad_to=256 if settings.hide_existing_users else 1
    )
    return Components(
        settings=settings,
        declaration=declaration,
        tokens=tokens,
        forms=forms,
        service=service,
        steps=Steps(
            service,
            limiter,
            guard,
            declaration,
            FormLedger(limits.storage_uri, FORM_MAX_AGE),
            hide_existing_users=settings.hide_existing_users,
            replace_unconfirmed=settings.replace_unconfirmed,
            sign_in_at_once=settings.sign_in.mode == SignInMode.IMMEDIATE,
            auth_session_seconds=settings.sign_in.auth_session_seconds,
            page_address=lambda flow: url_for(ROUTE_OF_KIND[flow.kind], flow=flows.seal(flow), _external=True),
            site_name=settings.site_name,
            ipv6_prefix=limits.ipv6_prefix,
        ),
        pages=Pages(declaration, settings, forms, tokens),
        flows=flows,
        drafts=DraftSeal(settings.secret_key, settings.secret_key_fallbacks),
        invitations=Invitations(settings.secret_key, settings.secret_key_fallbacks),
        guard=guard,
        theme_css=css,
        theme_version=theme.version(css),
    )


def fit_to_threads(app: Flask, threads: int) -> None:
    """Fit the Cognito bulkhead and connection pool to the threads that really serve this process.

    build_components can only take SIGNUP_THREADS (the setting for other servers) at its word:
    under gunicorn it runs once, in the master, before any worker exists. gunicorn.conf.py calls
    this in each worker with the count gunicorn really runs, whatever its command line,
    GUNICORN_CMD_ARGS or a config file said. The worker gets a client of its own, with a pool of
    that size, so it shares no connection the master opened at start-up either. An app that is not
    this one (the benchmark's bare Flask) has nothing to fit.
    """
    components: Components | None = app.extensions.get("signup")
    if components is None:
        return
    settings = replace(components.settings, threads=threads)
    components.service.use_client(create_client(settings), cognito_cap(threads, settings.cognito_max_in_flight))


def current() -> Components:
    """The running app's components."""
    return current_app.extensions["signup"]  # type: ignore[no-any-return]
