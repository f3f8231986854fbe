"""The CustomMessage trigger in docs/examples/custom_message.py, on the event shapes of AWS's developer guide:
the code email and text message in the person's language, naming the site and linking back to the code page,
within Cognito's limits, with nothing from the event able to break out of its place.

No emulator: ministack 1.5.33 runs a CustomMessage trigger only for AdminCreateUser, not for SignUp,
ResendConfirmationCode or ForgotPassword (see docs/accessibility-and-languages.md)."""

from __future__ import annotations

import copy
import html
import importlib.util
import re
import unicodedata
from typing import Any

import pytest

from .conftest import ROOT

SPEC = importlib.util.spec_from_file_location("custom_message", ROOT / "docs" / "examples" / "custom_message.py")
assert SPEC and SPEC.loader
EXAMPLE = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(EXAMPLE)

CODE = "{####}"
PAGE = "https://signup.example.com/signup/confirm?flow=gAAAA-sealed&lang=de"
SOURCES = ["CustomMessage_SignUp", "CustomMessage_ResendCode", "CustomMessage_ForgotPassword"]
LANGUAGES = ["en", "de", "es"]
WORDS = {  # what each language must say: the page's word for the code, and how long it works
    ("en", "confirm"): ("confirmation code", "24 hours", "did not create an account"),
    ("de", "confirm"): ("Bestätigungscode", "24 Stunden", "kein Konto"),
    ("es", "confirm"): ("código de confirmación", "24 horas", "no creaste una cuenta"),
    ("en", "reset"): ("confirmation code", "1 hour", "did not ask to reset your password"),
    ("de", "reset"): ("Bestätigungscode", "1 Stunde", "nicht darum gebeten"),
    ("es", "reset"): ("código de confirmación", "1 hora", "no pediste restablecer"),
}


@pytest.fixture(autouse=True)
def no_function_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The function's own environment variables are unset unless a test sets them."""
    monkeypatch.delenv("SITE_NAME", raising=False)
    monkeypatch.delenv("CODE_PAGE_ORIGINS", raising=False)


def cognito_event(source: str = "CustomMessage_SignUp", metadata: dict[str, str] | None = None) -> dict[str, Any]:
    """An event as Cognito sends it (AWS's developer guide; Powertools' CustomMessageTriggerSchema).
    Cognito leaves `clientMetadata` out when the caller sent none."""
    request: dict[str, Any] = {
        "userAttributes": {"sub": "4f1e-…", "email_verified": "false", "email": "ann@example.com"},
        "codeParameter": CODE,
        "linkParameter": "{##Click Here##}",
        "usernameParameter": None,
    }
    if metadata is not None:
        request["clientMetadata"] = metadata
    return {
        "version": "1",
        "triggerSource": source,
        "region": "eu-west-1",
        "userPoolId": "eu-west-1_TestPool1",
        "userName": "4f1e-…",
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "testclientid123"},
        "request": request,
        "response": {"smsMessage": None, "emailMessage": None, "emailSubject": None},
    }


def respond(source: str = "CustomMessage_SignUp", metadata: dict[str, str] | None = None) -> dict[str, str]:
    return EXAMPLE.handler(cognito_event(source, metadata), None)["response"]


def kind(source: str) -> str:
    return "reset" if source == "CustomMessage_ForgotPassword" else "confirm"


def cognito_accepts(text: str) -> bool:
    """Cognito's pattern for messages and subjects: letters, marks, numbers, punctuation, symbols and
    white space (Java's \\s: ASCII only), so no control or invisible format character, no no-break space."""
    return all(unicodedata.category(ch)[0] in "LMNPS" or ch in " \t\n\x0b\x0c\r" for ch in text)


def within_limits(response: dict[str, str]) -> None:
    """Cognito's limits, with the code (6 digits) in place of its placeholder."""
    assert response["emailMessage"].count(CODE) == 1
    assert response["smsMessage"].count(CODE) == 1
    assert CODE not in response["emailSubject"]
    assert len(response["emailMessage"].replace(CODE, "123456")) <= 20_000
    assert 1 <= len(response["emailSubject"]) <= 140
    assert len(response["smsMessage"].replace(CODE, "123456")) <= 140
    assert "\n" not in response["smsMessage"]
    assert all(cognito_accepts(response[key]) for key in ("emailMessage", "emailSubject", "smsMessage"))


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("source", SOURCES)
def test_each_code_message_is_in_the_pages_language_names_the_site_and_links_to_the_code_page(
    source: str, lang: str
) -> None:
    response = respond(source, {"lang": lang, "code_page_url": PAGE, "site_name": "Example Shop", "source": "web"})

    code_word, how_long, not_you = WORDS[lang, kind(source)]
    within_limits(response)
    assert code_word in response["emailSubject"]
    assert "Example Shop" in response["emailSubject"]
    email = response["emailMessage"]
    assert f'<html lang="{lang}">' in email
    assert all(words in email for words in (code_word, how_long, not_you, "Example Shop"))
    assert f'href="{html.escape(PAGE)}"' in email
    assert re.search(r"verif", email + response["emailSubject"] + response["smsMessage"], re.I) is None
    assert response["smsMessage"].startswith("Example Shop: ")
    assert how_long in response["smsMessage"]
    assert "http" not in response["smsMessage"]


def test_sign_up_and_a_new_code_get_the_same_message() -> None:
    metadata = {"lang": "es", "code_page_url": PAGE, "site_name": "Tienda"}
    assert respond("CustomMessage_SignUp", metadata) == respond("CustomMessage_ResendCode", metadata)


@pytest.mark.parametrize("lang", ["fr", "", "EN-GB", "<b>de</b>", "deutsch", "x" * 500])
def test_an_unknown_language_gets_english(lang: str) -> None:
    response = respond(metadata={"lang": lang, "code_page_url": PAGE})
    assert '<html lang="en">' in response["emailMessage"]
    assert response["emailSubject"] == "Your confirmation code"


@pytest.mark.parametrize(("lang", "expected"), [("de-AT", "de"), ("es_MX", "es"), (" DE ", "de")])
def test_a_regional_language_gets_its_language(lang: str, expected: str) -> None:
    assert f'<html lang="{expected}">' in respond(metadata={"lang": lang})["emailMessage"]


def test_without_a_lang_the_users_locale_attribute_chooses() -> None:
    event = cognito_event("CustomMessage_ForgotPassword")  # e.g. a reset started from Managed Login
    event["request"]["userAttributes"]["locale"] = "es"
    assert '<html lang="es">' in EXAMPLE.handler(event, None)["response"]["emailMessage"]


@pytest.mark.parametrize("source", SOURCES)
def test_without_client_metadata_the_message_is_english_without_a_site_or_link(source: str) -> None:
    response = respond(source)  # Cognito sends no clientMetadata when the caller sent none

    within_limits(response)
    assert response["emailSubject"] in {"Your confirmation code", "Your confirmation code to reset your password"}
    email = response["emailMessage"]
    assert "<a " not in email
    assert "the confirmation page" in email or "the password reset page" in email
    assert " for  " not in email and " at  " not in email and " at ," not in email
    assert response["smsMessage"].startswith("Your confirmation code")


def test_a_null_client_metadata_is_no_metadata() -> None:
    event = cognito_event(metadata=None)
    event["request"]["clientMetadata"] = None
    assert EXAMPLE.handler(event, None)["response"] == respond()


@pytest.mark.parametrize(
    "source",
    [
        "CustomMessage_AdminCreateUser",
        "CustomMessage_UpdateUserAttribute",
        "CustomMessage_VerifyUserAttribute",
        "CustomMessage_Authentication",
        "PreSignUp_SignUp",
    ],
)
def test_other_trigger_sources_are_returned_untouched(source: str) -> None:
    event = cognito_event(source, {"lang": "de", "code_page_url": PAGE, "site_name": "Example Shop"})
    original = copy.deepcopy(event)
    assert EXAMPLE.handler(event, None) == original


def test_a_hostile_site_name_is_escaped_in_the_email() -> None:
    name = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'
    response = respond(metadata={"lang": "en", "code_page_url": PAGE, "site_name": name})

    within_limits(response)
    email = response["emailMessage"]
    assert "<script" not in email and "<img" not in email
    assert html.escape(name) in email
    assert response["emailSubject"] == f"Your confirmation code for {name}"  # plain text, not HTML


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Example\nShop\r\n", "Example Shop"),  # no second line in a subject
        ("Example\u00a0Shop\u2028", "Example Shop"),  # no-break and line separator: Cognito refuses them
        ("Exa\u200bmple\u202e Shop\x00\x07", "Example Shop"),  # invisible, bidirectional and control characters
        ("{####} Shop", "#### Shop"),  # no second placeholder: the code would show in the subject
        ("   ", ""),
    ],
)
def test_a_site_name_is_one_line_of_visible_characters_without_braces(name: str, shown: str) -> None:
    response = respond(metadata={"site_name": name})
    within_limits(response)
    assert response["emailSubject"] == (f"Your confirmation code for {shown}" if shown else "Your confirmation code")


def test_a_long_site_name_is_cut_and_every_message_stays_within_cognitos_limits() -> None:
    name = "Ü" * 300
    for source in SOURCES:
        for lang in LANGUAGES:
            response = respond(source, {"lang": lang, "code_page_url": PAGE, "site_name": name})
            within_limits(response)
            assert "Ü" * 79 + "…" in response["emailMessage"]
            assert "Ü" * 80 not in response["emailMessage"]


def test_a_site_name_that_would_make_a_subject_or_text_message_too_long_is_left_out_of_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(EXAMPLE, "SITE_NAME_LIMIT", 200)  # as if an operator had raised the limit
    name = "A" * 120
    response = respond("CustomMessage_ForgotPassword", {"lang": "de", "site_name": name})
    within_limits(response)
    assert name not in response["emailSubject"] + response["smsMessage"]
    assert name in response["emailMessage"]


@pytest.mark.parametrize(
    "address",
    [
        "javascript:alert(document.domain)",
        "JavaScript:alert(1)//https://signup.example.com",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "http://signup.example.com/signup/confirm",  # plain http, not local
        "http://localhost.evil.example/",
        "http://127.0.0.1.nip.io/",
        "//evil.example/signup/confirm",
        "/signup/confirm",
        "https://",
        "https://signup.example.com@evil.example/",
        "https://user:pass@signup.example.com/",
        "https:\\\\evil.example\\",
        "https://evil.example\\@signup.example.com/",
        " https://signup.example.com/",
        "https://signup.example.com/\nhttps://evil.example/",
        "https://signup.ex\tample.com/",
        "https://signup.example.com:notaport/",
        "https://evil.example/steal?code={####}",  # Cognito would put the code into the link
        "ftp://signup.example.com/",
        "https://signup.example.com/" + "a" * 9_000,
    ],
)
def test_an_address_that_is_not_https_or_local_is_not_linked(address: str) -> None:
    response = respond(metadata={"lang": "en", "code_page_url": address})
    within_limits(response)
    assert "<a " not in response["emailMessage"]
    assert "href" not in response["emailMessage"]
    assert "the confirmation page" in response["emailMessage"]


def test_quotes_and_angle_brackets_in_an_address_cannot_leave_the_href() -> None:
    address = "https://signup.example.com/x?a=\"><script>alert(1)</script>&b='c"
    email = respond(metadata={"lang": "en", "code_page_url": address})["emailMessage"]
    assert "<script" not in email
    assert f'<a href="{html.escape(address, quote=True)}">the confirmation page</a>' in email


@pytest.mark.parametrize(
    "address",
    [
        "http://localhost:5000/signup/confirm?lang=de",
        "http://127.0.0.1:8000/signup/confirm",
        "HTTPS://Signup.example.com/",
    ],
)
def test_a_local_or_https_address_is_linked(address: str) -> None:
    assert f'href="{html.escape(address)}"' in respond(metadata={"code_page_url": address})["emailMessage"]


def test_with_code_page_origins_set_only_those_origins_are_linked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODE_PAGE_ORIGINS", "https://signup.example.com/ http://localhost:5000")
    assert "<a " in respond(metadata={"code_page_url": PAGE})["emailMessage"]
    assert "<a " in respond(metadata={"code_page_url": "http://localhost:5000/signup/confirm"})["emailMessage"]
    assert "<a " not in respond(metadata={"code_page_url": "https://evil.example/"})["emailMessage"]
    assert "<a " not in respond(metadata={"code_page_url": "https://signup.example.com:8443/"})["emailMessage"]


def test_with_site_name_set_the_metadatas_name_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITE_NAME", "Example Shop")
    response = respond(metadata={"site_name": "Your Bank: call +1 555 0100"})
    assert response["emailSubject"] == "Your confirmation code for Example Shop"
    assert "Your Bank" not in response["emailMessage"] + response["smsMessage"]


def test_every_language_has_every_text_with_the_same_placeholders_and_nothing_to_escape() -> None:
    english = EXAMPLE.TEXTS["en"]
    for lang, texts in EXAMPLE.TEXTS.items():
        assert texts.keys() == english.keys(), lang
        for key, text in texts.items():
            assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", english[key])), (lang, key)
            assert html.escape(text) == text, (lang, key)
