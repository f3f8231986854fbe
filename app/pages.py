"""What every page shows besides its form: the operator's look, the languages, the policy hints,
the error pages' words, and what the page scripts need. Registered as template globals.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import phonenumbers
from babel import Locale
from babel.lists import format_list
from flask import Blueprint, current_app, request, session, url_for
from flask_babel import get_locale, ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from app.cognito import UNAVAILABLE
from app.components import current
from app.i18n import language_names

bp = Blueprint("pages", __name__)


@bp.app_template_global()
def advanced_security() -> dict[str, str] | None:
    """What pages need to load Cognito's advanced-security script, when it is on."""
    settings = current().settings
    if not settings.advanced_security:
        return None
    return {
        "script": settings.advanced_security_script_url,
        "pool": settings.cognito_user_pool_id,
        "client": settings.cognito_client_id,
    }


@bp.app_template_global()
def captcha() -> dict[str, str] | None:
    """The CAPTCHA widget to show on the sign-up form, when one is configured."""
    configured = current().guard.captcha
    if configured is None:
        return None
    return {
        "script": configured.provider.script_url,
        "widget": configured.provider.widget_class,
        "site_key": configured.site_key,
    }


@bp.app_template_global()
def embedding() -> dict[str, Any] | None:
    """For the page script: the origins it may post to, and the messages waiting for the parent."""
    settings = current().settings
    if not settings.embedded:
        return None
    return {"origins": " ".join(settings.frame_ancestors), "messages": session.pop("events", [])}


@bp.app_template_global()
def current_locale() -> str:
    return str(get_locale())


@bp.app_template_global()
def language_links() -> list[tuple[str, str, str]]:
    """(code, name in its own language, address of this page in it) for the language links."""
    names = language_names(current_app.config["LANGUAGES"])
    path = request.path if request.endpoint != "signup.resend" else url_for("signup.confirm")
    return [(code, name, f"{path}?lang={code}") for code, name in names.items()]


@bp.app_template_global()
def site() -> dict[str, str | None]:
    """The operator's name, logo and theme stylesheet, for every page."""
    parts = current()
    stylesheet = url_for("pages.theme_css", version=parts.theme_version) if parts.settings.theme.customised else None
    return {"name": parts.settings.site_name, "logo": parts.settings.theme.logo_url, "stylesheet": stylesheet}


@bp.get("/theme-<version>.css")
def theme_css(version: str) -> Response:
    """The operator's colours and font; its address changes when they do, so it may be cached for long."""
    return Response(
        current().theme_css, mimetype="text/css", headers={"Cache-Control": "public, max-age=31536000, immutable"}
    )


@bp.app_template_global()
def password_checklist(form: FlaskForm) -> list[tuple[str, str]]:
    """The policy's rules, one by one, for the live checklist the page script shows."""
    policy = form.password_rules.policy
    rules = [("length", ngettext("At least %(num)d character", "At least %(num)d characters", policy.minimum_length))]
    for wanted, rule, text in (
        (policy.require_uppercase, "upper", _l("An uppercase letter")),
        (policy.require_lowercase, "lower", _l("A lowercase letter")),
        (policy.require_numbers, "number", _l("A number")),
        (policy.require_symbols, "symbol", _l("A symbol")),
    ):
        if wanted:
            rules.append((rule, str(text)))
    return rules


@bp.app_template_global()
def phone_countries() -> dict[str, str]:
    """For the page script's country list next to a phone number: the allowed regions, named in this language."""
    declaration = current().declaration
    return {
        "data-countries": country_list(str(get_locale()), declaration.allowed_phone_regions),
        "data-country-label": str(_l("Country or region")),
        "data-region": declaration.default_phone_region or "",
    }


@lru_cache(maxsize=32)
def country_list(locale: str, allowed: tuple[str, ...]) -> str:
    """[[region, name, calling code], ...] as JSON, sorted by name in this language."""
    names = Locale.parse(locale).territories
    regions = allowed or tuple(phonenumbers.SUPPORTED_REGIONS)
    rows = [[r, names.get(r, r), phonenumbers.country_code_for_region(r)] for r in regions]
    return json.dumps(sorted(rows, key=lambda row: str(row[1])), ensure_ascii=False)


@bp.app_template_global()
def password_hint(form: FlaskForm) -> str:
    """The password policy in one sentence, shown before the person types."""
    policy = form.password_rules.policy
    rules = [ngettext("at least %(num)d character", "at least %(num)d characters", policy.minimum_length)]
    for wanted, text in (
        (policy.require_uppercase, _l("an uppercase letter")),
        (policy.require_lowercase, _l("a lowercase letter")),
        (policy.require_numbers, _l("a number")),
        (policy.require_symbols, _l("a symbol")),
    ):
        if wanted:
            rules.append(str(text))
    return str(_l("Use %(rules)s.", rules=format_list(rules, locale=get_locale())))


_ERROR_PAGES = {
    404: (_l("Page not found"), _l("There is no page at this address. Check it, or start from the sign-up form.")),
    405: (_l("That did not work"), _l("This page cannot be used that way. Start again from the sign-up form.")),
    413: (_l("Too much data"), _l("What you sent was too large. Shorten your answers and try again.")),
    429: (_l("Too many attempts"), _l("Please wait a little, then try again.")),
    503: (_l("Service unavailable"), UNAVAILABLE),
}
_GENERIC_ERROR = (_l("Something went wrong"), _l("We could not handle your request. Please try again."))


@bp.app_template_global()
def error_title(status: int) -> str:
    return str(_ERROR_PAGES.get(status, _GENERIC_ERROR)[0])


@bp.app_template_global()
def error_text(status: int) -> str:
    return str(_ERROR_PAGES.get(status, _GENERIC_ERROR)[1])
