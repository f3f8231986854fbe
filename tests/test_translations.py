"""Every language is complete, up to date with the code, and used from the first page to the last."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from app import create_app
from app.web.i18n import preferred_language

from .conftest import ROOT, SIGNUP, StrictStubber, base_env, submit, text

TRANSLATIONS = ROOT / "app" / "translations"
LOCALES = sorted(p.name for p in TRANSLATIONS.iterdir() if p.is_dir())
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def catalog(locale: str) -> Any:
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as file:
        return read_po(file, locale=locale)


def test_at_least_two_languages_besides_english() -> None:
    assert {"de", "es"} <= set(LOCALES)


@pytest.fixture(scope="module")
def source_messages(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The messages the code and templates use today, extracted as `make translations` does."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_ngettext:1,2",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with open(pot, "rb") as file:
        return {str(m.id) for m in read_po(file) if m.id}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated(locale: str, source_messages: set[str]) -> None:
    messages = [m for m in catalog(locale) if m.id]
    assert {str(m.id) for m in messages} == source_messages, "run `make translations` and translate"
    for message in messages:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{locale}: untranslated {message.id!r}"
        assert not message.fuzzy, f"{locale}: fuzzy {message.id!r}"
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == wanted, f"{locale}: placeholders of {message.id!r}"


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogues_match_their_sources(locale: str) -> None:
    def plain(value: Any) -> Any:
        return tuple(value) if isinstance(value, (list, tuple)) else value

    def entries(messages: Any) -> dict[Any, Any]:
        return {plain(m.id): plain(m.string) for m in messages if m.id}

    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo", "rb") as file:
        compiled = entries(read_mo(file))
    assert compiled == entries(catalog(locale)), "run `make translations`"


@pytest.mark.parametrize(
    ("header", "lang", "heading"),
    [
        ("de-DE,de;q=0.9", "de", "Konto erstellen"),
        ("es-ES,es;q=0.9", "es", "Crea tu cuenta"),
        ("fr", "en", "Create your account"),
    ],
)
def test_the_language_comes_from_the_browser(stub_app: Any, header: str, lang: str, heading: str) -> None:
    page = text(stub_app.test_client().get("/signup", headers={"Accept-Language": header}))
    assert f'<html lang="{lang}">' in page
    assert heading in page


def test_many_different_language_headers_keep_a_bounded_memory_and_the_right_answer(stub_app: Any) -> None:
    """The browser's choice is remembered per header value, a few hundred at most: a client that
    sends a new Accept-Language on every request (or a huge one) changes nothing but its own answer."""
    client = stub_app.test_client()
    for n in range(600):
        client.get("/signup", headers={"Accept-Language": f"x-{n},de;q=0.{n % 9 + 1}"})
    huge = client.get("/signup", headers={"Accept-Language": "es;q=0.9," + "zz-ZZ;q=0.1," * 600})
    assert preferred_language.cache_info().currsize <= preferred_language.cache_info().maxsize == 256
    assert '<html lang="es">' in text(huge)
    assert '<html lang="de">' in text(client.get("/signup", headers={"Accept-Language": "x-1,de;q=0.5"}))


def test_lang_in_the_address_wins_and_is_kept_through_the_flow(stub_app: Any, stubber: StrictStubber) -> None:
    stubber.add_client_error("sign_up", "UsernameExistsException", "User already exists")
    client = stub_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    refused = submit(client, "/signup?lang=de", SIGNUP)  # the form posts to /signup?lang=de
    page = text(refused)
    assert '<html lang="de">' in page
    assert "Es gibt bereits ein Konto" in page or "existiert bereits" in page  # Cognito's error, in German
    assert "already exists" not in page


def test_declared_labels_can_be_given_per_language(stubber: StrictStubber, tmp_path: Path) -> None:
    declaration = tmp_path / "signup.toml"
    declaration.write_text(
        '[[attributes]]\nname = "custom:org"\nlabel = { en = "Company", de = "Firma", es = "Empresa" }\n'
    )
    app = create_app(base_env(SIGNUP_CONFIG=str(declaration)), cognito_client=stubber.client)
    for lang, label in (("en", "Company"), ("de", "Firma"), ("es", "Empresa")):
        page = text(app.test_client().get(f"/signup?lang={lang}"))
        assert f'<label for="custom_org">{label} <span class="optional">' in page


def test_every_page_offers_the_other_languages(stub_app: Any) -> None:
    client = stub_app.test_client()
    page = text(client.get("/signup/confirm?lang=es"))
    # A page with a form: a button that sends the form to be shown again in that language, kept.
    assert (
        '<button type="submit" form="form" formaction="/signup/confirm?lang=de" formnovalidate '
        'name="switch_language" value="de" lang="de">Deutsch</button>'
    ) in page
    assert '<span aria-current="true" lang="es">Español</span>' in page
    done = text(client.get("/signup/done?lang=es"))  # a page without one: a link
    assert '<a href="/signup/done?lang=de" lang="de" hreflang="de">Deutsch</a>' in done
