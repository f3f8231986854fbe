"""What every page shows besides its form, as template globals: the operator's look (and its
stylesheet's route), the languages, the words of the username mode, the password policy's hints,
the error pages' words, and what the page scripts need.

Pages render what their view gives them; these read the parts built once per process
(app.components) and the request's language, which are the same for every page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from flask import Blueprint, abort, current_app, request, url_for
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.wrappers import Response

from app.components import current
from app.config.passwords import SYMBOLS, needs
from app.web import messages
from app.web.i18n import language, language_names, translations

bp = Blueprint("templating", __name__)


@bp.app_template_global()
def countdown_texts(seconds: int) -> dict[str, str]:
    """The resend wait, now and as the page script's templates for one and for several seconds."""
    catalogue = translations()

    def wait(n: int) -> str:
        return str(
            catalogue.ungettext(
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
def character_count_texts(maximum: int) -> dict[str, str]:
    """A character count's words: before typing, and the page script's templates as it counts."""
    t = translations()

    def template(text: str) -> str:
        return text.replace("%(num)d", "{count}")

    return {
        "now": t.ungettext("You can enter up to %(num)d character.", "You can enter up to %(num)d characters.", maximum)
        % {"num": maximum},
        "one_left": template(t.ungettext("You have %(num)d character left.", "You have %(num)d characters left.", 1)),
        "other_left": template(t.ungettext("You have %(num)d character left.", "You have %(num)d characters left.", 2)),
        "one_over": template(
            t.ungettext("You have %(num)d character too many.", "You have %(num)d characters too many.", 1)
        ),
        "other_over": template(
            t.ungettext("You have %(num)d character too many.", "You have %(num)d characters too many.", 2)
        ),
    }


@bp.app_template_global()
def say(key: str) -> str:
    """A text of app.web.messages, in the words of the pool's username mode."""
    return str(messages.text(key, current().declaration.username))


@bp.app_template_global()
def embedding() -> str | None:
    """For the page script: the origins it may post messages to (when embedding is on)."""
    return " ".join(current().settings.frame_ancestors) or None


@bp.app_template_global()
def language_links(endpoint: str, page_args: Mapping[str, str] | None = None) -> list[tuple[str, str, str]]:
    """(code, name in its own language, address of this page in it) for the language links.

    The page says which route its links lead to (`links_to` in its context) and what its address
    holds besides the carried values (`page_args`). Built with url_for from the route, never from
    the request's path, so a link cannot point anywhere but the app's own pages.
    """
    names = language_names(current_app.config["LANGUAGES"])
    args: dict[str, Any] = dict(page_args or {})
    if request.args.get("draft"):  # a form shown again keeps what it holds in another language (app.signup.drafts)
        args["draft"] = request.args["draft"]
    # Built once, without the language, which each link then adds: a page's address carries its
    # sealed flow, and building it for each language again cost the code page 3% more (0.26 M instructions).
    address = url_for(endpoint, **{**args, "lang": None})
    joint = "&" if "?" in address else "?"
    return [(code, name, f"{address}{joint}lang={quote(code)}") for code, name in names.items()]


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
    key = (type(form), language())
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
    """What the sign-up form needs to load Cognito's advanced-security script, when it is on."""
    settings = current().settings
    if not (settings.advanced_security and third_parties_allowed()):
        return None
    return {
        "script": settings.advanced_security_script_url,
        "pool": settings.cognito.user_pool_id,
        "client": settings.cognito.client_id,
    }


@bp.app_template_global()
def captcha() -> dict[str, str] | None:
    """The CAPTCHA widget to show on the sign-up form, when one is configured."""
    configured = current().guard.captcha
    if configured is None or not third_parties_allowed():
        return None
    return {
        "script": configured.provider.script_url,
        "widget": configured.provider.widget_class,
        "site_key": configured.site_key,
    }


def third_parties_allowed() -> bool:
    """Whether this page may load another party's script: the sign-up form alone (app.web.headers).

    The pages after it carry the sealed flow in their address (with immediate sign-in, Cognito's
    Session), and the signed-in page posts the person's tokens: no code but the app's runs there.
    """
    return request.endpoint == "signup.signup"


@bp.app_template_global()
def current_locale() -> str:
    return language()


@bp.app_template_global()
def site() -> dict[str, str | None]:
    """The operator's name, logo and theme stylesheet, for every page."""
    parts = current()
    stylesheet = (
        url_for("templating.theme_css", version=parts.theme_version) if parts.settings.theme.customised else None
    )
    return {"name": parts.settings.site_name, "logo": parts.settings.theme.logo_url, "stylesheet": stylesheet}


@bp.get("/theme-<version>.css")
def theme_css(version: str) -> Response:
    """The operator's colours and font; its address changes when they do, so it may be cached for long.

    Only under this instance's own version: any other is 404, so no cache keeps these colours for a
    year under the address of other ones (an instance of a rolling deploy with another theme).
    """
    parts = current()
    if version != parts.theme_version or not parts.settings.theme.customised:
        abort(404)
    return Response(
        parts.theme_css, mimetype="text/css", headers={"Cache-Control": "public, max-age=31536000, immutable"}
    )


@bp.app_template_global()
def error_title(status: int) -> str:
    return str(messages.error_page(status)[0])


@bp.app_template_global()
def error_text(status: int) -> str:
    return str(messages.error_page(status)[1])
