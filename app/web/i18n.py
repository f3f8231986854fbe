"""Which language a page speaks: ?lang= first (every link and form of the flow keeps it), then the browser's."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.support import NullTranslations
from flask import Flask, current_app, g, request
from flask_babel import Babel, get_translations
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

DEFAULT = "en"


def available_languages(translations: Path) -> tuple[str, ...]:
    """English, plus every language with a compiled catalogue."""
    found = sorted(p.parent.parent.name for p in translations.glob("*/LC_MESSAGES/messages.mo"))
    return (DEFAULT, *found)


def select_locale() -> str:
    """Flask-Babel's locale selector."""
    languages = current_app.config["LANGUAGES"]
    asked = request.args.get("lang", "")
    if asked in languages:
        return asked
    return preferred_language(request.headers.get("Accept-Language", ""), languages)


@lru_cache(maxsize=256)
def preferred_language(accept_language: str, languages: tuple[str, ...]) -> str:
    """The browser's first choice among ours. Browsers send few distinct headers, and reading one
    costs more than the rest of the request's choice of language; gunicorn caps a header at 8 KB,
    so the cache holds 2 MB at most, whatever a client sends."""
    return parse_accept_header(accept_language, LanguageAccept).best_match(languages) or DEFAULT


def use_babel(app: Flask) -> None:
    """Flask-Babel, with the page's language chosen by select_locale, and the templates' _() and
    ngettext() reading this request's catalogue through translations()."""
    Babel(app, locale_selector=select_locale)
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # Jinja's i18n extension
        gettext=lambda text: translations().ugettext(text),
        ngettext=lambda one, other, n: translations().ungettext(one, other, n),
        newstyle=True,
    )


def translations() -> NullTranslations:
    """This request's catalogue, found once. Flask-Babel finds it anew for every text, through some
    ten lookups of the request's context and the locale written out again: a page says twenty texts."""
    if "translations" not in g:
        g.translations = get_translations()
    return g.translations  # type: ignore[no-any-return]


def language() -> str:
    """This request's language code ("en", "de"), worked out once: the code select_locale chose,
    one of the catalogues' own names, without building the Babel Locale that Flask-Babel makes of it."""
    if "language" not in g:
        g.language = select_locale()
    return g.language  # type: ignore[no-any-return]


@lru_cache(maxsize=8)
def language_names(languages: tuple[str, ...]) -> dict[str, str]:
    """Each language in its own words ("Deutsch", "español"), for the language links."""
    return {code: (Locale.parse(code).get_display_name(code) or code).capitalize() for code in languages}
