"""Pages: the three steps' pages with their errors and status codes, and what every page shows
besides its form (the operator's look, the languages, the policy hints, the error pages' words,
what the page scripts need), registered as template globals.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import phonenumbers
from babel import Locale
from flask import Blueprint, current_app, g, render_template, request, url_for
from flask_babel import get_locale, get_translations, ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.wrappers import Response
from wtforms.widgets import PasswordInput

from app import messages
from app.cognito import Tokens
from app.components import current
from app.compression import KeptPage
from app.declaration import field_name
from app.errors import SignupError
from app.flow import Flow
from app.i18n import language_names, select_locale
from app.invite import Invitation
from app.passwords import SYMBOLS, needs

bp = Blueprint("pages", __name__)

PageResponse = tuple[str, int, dict[str, str]]
MAX_PREFILL_LENGTH = 256


def signup(
    form: FlaskForm,
    error: SignupError | None = None,
    *,
    invitation: Invitation | None = None,
    problem: str | None = None,
) -> PageResponse:
    """The sign-up form, empty or with what went wrong. Whatever was typed stays, but passwords:
    WTForms never echoes them, except after the too-fast check, where sending again is all it takes.

    With an invitation, its email address is filled in and cannot be changed. Where sign-up needs
    an invitation, a visit without a usable one gets the page without the form, saying why.
    `problem` says why the invitation in the address could not be used (app.views._invitation).
    """
    if error is not None and error.code == "TooFast" and "password" in form:
        for name in ("password", "password_confirm"):
            form[name].widget = PasswordInput(hide_value=False)
    if error is not None and error.message == "username_exists":
        form.username.ways_on = _ways_on_for_an_existing_account()
    email = _email_field(form)
    if invitation is not None and email is not None:
        email.render_kw = {**(email.render_kw or {}), "readonly": True}
    required = current().declaration.invitation_required
    notice = messages.text(problem, "required" if required else "") if problem else None
    if invitation is not None:
        notice = messages.text("invited")
    closed = required and invitation is None
    if closed and not notice:
        notice = messages.text("invitation_needed")
    return _form_page("signup.html", form, error, notice=notice, closed=closed)


def kept_signup_page(query: Mapping[str, str]) -> tuple[bytes, int, dict[str, str]] | None:
    """The sign-up page as most visitors first see it, rendered once per language and kept; None
    for a visit that needs its own page.

    Building the form and rendering the page is most of what a page view costs, and only the form
    token differs from one visitor to the next: it goes into the kept page, and into its gzip, also
    made once (app.compression.KeptPage). A visit whose links carry more than the language (a return
    address, attribution, a sign-in state), that fills the form in, that needs an invitation, or
    that comes under another script root gets its own page: what is kept depends on nothing a
    request can choose but the language.
    """
    parts = current()
    carried = g.get("carried", {})
    declaration = parts.declaration
    if (
        set(carried) - {"lang"}
        or request.script_root
        or declaration.invitation_required
        or any(query.get(name) for name in declaration.prefill)
    ):
        return None
    key = (select_locale(), carried.get("lang"))  # the language's code, without building its Locale
    kept = parts.rendered_pages
    if key not in kept:
        form = parts.forms.signup()
        page, _, _ = signup(form)
        kept[key] = KeptPage(page, form.csrf_token.current_token)
    return kept[key].filled(parts.tokens.make(parts.forms.signup.Meta.form_name))


def fill_in(form: FlaskForm, invitation: Invitation | None, query: Mapping[str, str]) -> None:
    """Fill a new form in from the address: the invited email address, or what the declaration
    lets a link fill in (`prefill`, such as ?email=)."""
    declaration = current().declaration
    for name in declaration.prefill:
        field = form.username if name == declaration.username else form[field_name(name)]
        if query.get(name):
            field.data = query[name][:MAX_PREFILL_LENGTH]
            form.prefilled = True
    email = _email_field(form)
    if invitation is not None and email is not None:
        email.data = invitation.email
        form.prefilled = True


def _email_field(form: FlaskForm) -> Any:
    """The field that holds the email address: the username's, or the email attribute's."""
    declaration = current().declaration
    if declaration.username == "email":
        return form.username
    return next((field for field in form if field.name == "email"), None)


def confirm(
    form: FlaskForm, flow: Flow | None, problem: str | None = None, error: SignupError | None = None
) -> PageResponse:
    """The code page for a Flow, or the returning person's form (username and code) without one.

    `problem` says why a Flow in the address could not be used (app.views._flow).
    """
    notice = flow.notice if flow else problem
    parent = [{"type": "signed-up", "deliveryMedium": flow.medium}] if flow and flow.event == "signed-up" else []
    token = current().flows.seal(flow.but(event="", notice="")) if flow else None
    wait = current().steps.resend_wait(flow.username) if flow else 0
    return _form_page(
        "confirm.html",
        form,
        error,
        wait_shown=bool(wait),
        flow=flow,
        notice=messages.text(notice) if notice else None,
        resend_wait=wait,
        parent_messages=parent,
        page_args={"flow": token} if token else {},
        # A notice and a message for the embedding page are said once: the page script puts this
        # address, without them, in place of the one that brought them, so a reload says neither.
        clean_address=url_for("signup.confirm", flow=token) if flow and (flow.notice or flow.event) else None,
    )


def done(flow: Flow | None, continue_url: str | None, hand_off: str | None) -> str:
    """The end of the flow, with a way to sign in: the hand-off to Managed Login when it is set up,
    else the site's sign-in page. Its message to the embedding page comes once, for a Flow that
    was just confirmed."""
    sign_in_url = hand_off or current().settings.sign_in_url
    parent, clean_address = [], None
    if flow and flow.event == "confirmed":
        parent = [{"type": "confirmed", "successUrl": continue_url or "", "signInUrl": hand_off or ""}]
        clean_address = url_for("signup.done", flow=current().flows.seal(flow.but(event="")))
    return render_template(
        "done.html",
        continue_url=continue_url,
        sign_in_url=sign_in_url,
        parent_messages=parent,
        clean_address=clean_address,
    )


def signed_in(tokens: Tokens, state: str | None, *, framed: bool) -> tuple[str, dict[str, str]]:
    """The form that delivers the tokens to the operator's callback (OIDC's form_post response).

    Outside a frame the page script sends it at once; inside one it waits for the person's click,
    which browsers require before a frame may take the top window elsewhere. The tokens are in
    this page only: never in an address, a log or a message to the embedding page, nor in any
    cache (`no-store`: not even the back/forward cache keeps it).
    """
    fields = {
        "id_token": tokens.id_token,
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "expires_in": str(tokens.expires_in),
        "token_type": tokens.token_type,
    }
    if state:
        fields["state"] = state
    page = render_template(
        "signed_in.html",
        callback=current().settings.token_callback_url,
        fields=fields,
        framed=framed,
        parent_messages=[{"type": "signed-in"}],
    )
    return page, {"Cache-Control": "no-store"}


def _ways_on_for_an_existing_account() -> list[tuple[str, str]]:
    """Where a person whose account exists can go: sign in (when the site says where), or confirm it."""
    ways = [(str(_l("Confirm your account")), url_for("signup.confirm"))]
    sign_in_url = current().settings.sign_in_url
    return [(str(_l("Sign in")), sign_in_url), *ways] if sign_in_url else ways


def _form_page(
    template: str, form: FlaskForm, error: SignupError | None, *, wait_shown: bool = False, **context: Any
) -> PageResponse:
    """Render a form page with its errors and the HTTP status that fits them.

    `wait_shown`: the page itself counts down the wait (the code page's resend cooldown), so a
    limit's message does not repeat it.
    """
    status, headers = 200, {}
    if form.is_submitted():
        status = 422
    if form.csrf_token.errors:
        # A token that is missing, expired or signed with an unknown key: the form comes back,
        # filled in, with a fresh token, so sending it again works.
        form.csrf_token.errors = []
        form.form_errors.append(messages.text("form_expired"))
        status = 400
    if error is not None:
        status = error.status
        # The page's own variant ("unavailable.signup": type your password again) where it applies.
        page = template.removesuffix(".html") if "password" in form or template != "signup.html" else ""
        text = error.detail or str(messages.text(error.message, current().declaration.username, page))
        retry_after = getattr(error, "retry_after", None)
        if retry_after:
            headers["Retry-After"] = str(retry_after)
            if not (wait_shown and error.message == "too_many_resends"):
                text = f"{text} {format_wait(retry_after)}"
        field = _field_name(error.field)
        if field in form and field != "csrf_token":
            form[field].errors.append(text)
        else:
            form.form_errors.append(text)
    failed = bool(form.errors or form.form_errors)
    return render_template(template, form=form, failed=failed, **context), status, headers


def _field_name(field: str | None) -> str:
    """The form field an error names: an attribute, or the username it doubles as."""
    if field is None:
        return ""
    if field == current().declaration.username:
        return "username"
    return field_name(field)


def format_wait(seconds: int) -> str:
    """'You can try again in 45 seconds.' / '… in 3 minutes.'"""
    if seconds < 120:
        return ngettext(
            "You can try again in %(num)d\u00a0second.", "You can try again in %(num)d\u00a0seconds.", seconds
        )
    minutes = -(-seconds // 60)
    return ngettext("You can try again in %(num)d\u00a0minute.", "You can try again in %(num)d\u00a0minutes.", minutes)


@bp.app_template_global()
def countdown_texts(seconds: int) -> dict[str, str]:
    """The resend wait, now and as the page script's templates for one and for several seconds."""
    translations = get_translations()

    def wait(n: int) -> str:
        return str(
            translations.ungettext(
                "You can ask for a new code in %(num)d\u00a0second.",
                "You can ask for a new code in %(num)d\u00a0seconds.",
                n,
            )
        )

    placeholder = {"num": "{seconds}"}
    return {
        "now": wait(seconds) % {"num": seconds},
        "one": wait(1).replace("%(num)d", "%(num)s") % placeholder,
        "other": wait(2).replace("%(num)d", "%(num)s") % placeholder,
    }


@bp.app_template_global()
def say(key: str) -> str:
    """A text of app.messages, in the words of the pool's username mode."""
    return str(messages.text(key, current().declaration.username))


@bp.app_template_global()
def embedding() -> str | None:
    """For the page script: the origins it may post messages to (when embedding is on)."""
    return " ".join(current().settings.frame_ancestors) or None


@bp.app_template_global()
def language_links(page_args: dict[str, str] | None = None) -> list[tuple[str, str, str]]:
    """(code, name in its own language, address of this page in it) for the language links.

    Built with url_for from the route, never from the request's path, so a link cannot point
    anywhere but the app's own pages.
    """
    endpoint = request.endpoint if request.endpoint in ("signup.signup", "signup.confirm", "signup.done") else None
    if request.endpoint == "signup.resend":
        endpoint = "signup.confirm"
    args: dict[str, Any] = dict(page_args or {}) if endpoint else {}
    names = language_names(current_app.config["LANGUAGES"])
    return [
        (code, name, url_for(endpoint or "signup.signup", **{**args, "lang": code})) for code, name in names.items()
    ]


@bp.app_template_global()
def form_fields(form: FlaskForm) -> Markup:
    """A form's visible fields, from the field_list macro.

    Rendering fields is most of what a page costs, and an untouched form's fields (not posted, not
    filled in by the app) are the same for everyone who reads one language: those are rendered once
    per form and language, and kept. Nothing in them comes from the request but the language.
    """
    macros = current_app.jinja_env.get_template("macros.html").module
    if form.is_submitted() or getattr(form, "prefilled", False):
        return macros.field_list(form)  # type: ignore[attr-defined,no-any-return]
    key = (type(form), str(get_locale()))
    rendered = current().rendered_fields
    if key not in rendered:
        rendered[key] = macros.field_list(form)  # type: ignore[attr-defined]
    return rendered[key]


@bp.app_template_global()
def password_policy(form: FlaskForm) -> dict[str, Any]:
    """The policy's rules for the hint, the page script's checklist and its checks, from one list."""
    rules = form.password_rules
    return {
        "hint": needs(rules),
        "rules": [(rule.key, str(rule.needs)) for rule in rules],
        "minimum": current().declaration.password_policy.minimum_length,
        "symbols": SYMBOLS,
    }


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
def current_locale() -> str:
    return str(get_locale())


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


_ERROR_PAGES = {
    404: (_l("Page not found"), _l("There is no page at this address. Check it, or start from the sign-up form.")),
    405: (_l("That did not work"), _l("This page cannot be used that way. Start again from the sign-up form.")),
    413: (_l("Too much data"), _l("What you sent was too large. Shorten your answers and try again.")),
    429: (_l("Too many attempts"), _l("Please wait a little, then try again.")),
    403: (
        _l("Sent from another site"),
        _l("This form was sent from another website, so we did not accept it. Fill in the sign-up form here."),
    ),
    503: (_l("Service unavailable"), messages.text("unavailable")),
}
_GENERIC_ERROR = (_l("Something went wrong"), _l("We could not handle your request. Please try again."))


@bp.app_template_global()
def error_title(status: int) -> str:
    return str(_ERROR_PAGES.get(status, _GENERIC_ERROR)[0])


@bp.app_template_global()
def error_text(status: int) -> str:
    return str(_ERROR_PAGES.get(status, _GENERIC_ERROR)[1])
