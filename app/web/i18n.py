"""Which language a page speaks: ?lang= first (every link and form of the flow keeps it), then the browser's."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel import Locale
from flask import current_app, request

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
    return request.accept_languages.best_match(languages) or DEFAULT


@lru_cache(maxsize=8)
def language_names(languages: tuple[str, ...]) -> dict[str, str]:
    """Each language in its own words ("Deutsch", "español"), for the language links."""
    return {code: (Locale.parse(code).get_display_name(code) or code).capitalize() for code in languages}
