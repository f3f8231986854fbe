"""A Cognito CustomMessage Lambda trigger: the code email and text message in the person's language.

Cognito's own messages are in one language per pool. The sign-up app sends the page's language
and the code page's address in ClientMetadata on SignUp, ResendConfirmationCode and
ForgotPassword, and Cognito hands them to this function as `event["request"]["clientMetadata"]`:

    lang           "en", "de" or "es": the language of the page the person used
    code_page_url  the address of the page where the person types this code
    site_name      SIGNUP_SITE_NAME, when the operator set it

For CustomMessage_SignUp and CustomMessage_ResendCode (a code that works for 24 hours) and
CustomMessage_ForgotPassword (a code that works for 1 hour) it writes the email's subject, an
HTML email and a short text message. Every other trigger source gets the event back as it came,
so Cognito sends its own message.

Everything from the event is escaped before it goes into HTML. The email links to the code page
only when its address is https (or http://localhost or http://127.0.0.1, for a local test);
another address is not linked. Without a language, English; without an address, no link.

Anybody who can call SignUp for the app client can put anything in ClientMetadata (with a
client secret, only the app can), so set these two environment variables of the function:

    SITE_NAME          the site's name, used instead of the one in ClientMetadata
    CODE_PAGE_ORIGINS  the origins the link may point to, separated by spaces: "https://signup.example.com"

No dependencies: deploy this file alone, with the handler `custom_message.handler`.
Cognito's limits (its developer guide and API reference): an email of at most 20,000
characters, a subject and a text message of at most 140; only letters, marks, numbers,
punctuation, symbols and ASCII white space; the `codeParameter` placeholder (`{####}`) in the
message, which Cognito replaces with the code.
"""

from __future__ import annotations

import html
import os
import unicodedata
from typing import Any
from urllib.parse import urlsplit

KINDS = {
    "CustomMessage_SignUp": "confirm",
    "CustomMessage_ResendCode": "confirm",
    "CustomMessage_ForgotPassword": "reset",
}
DEFAULT_LANGUAGE = "en"
SMS_LIMIT = 140
SUBJECT_LIMIT = 140
SITE_NAME_LIMIT = 80
ADDRESS_LIMIT = 8_000
LOCAL_HOSTS = {"localhost", "127.0.0.1"}

# Each language's words, written without any character that HTML would need escaped. `{for_site}`
# and `{at_site}` become " for Example" and " at Example", or nothing without a site name; `{page}`
# is the page's name, a link when the address may be linked; `{code}` is Cognito's placeholder.
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "for_site": " for {site}",
        "at_site": " at {site}",
        "confirm_subject": "Your confirmation code{for_site}",
        "confirm_intro": "Your confirmation code{for_site} is:",
        "confirm_page": "the confirmation page",
        "confirm_enter": "Enter it on {page} to finish creating your account. It works for 24 hours.",
        "confirm_ignore": (
            "If you did not create an account{at_site}, you can ignore this email: "
            "without this code, the account is not confirmed."
        ),
        "confirm_sms": "Your confirmation code is {code}. It works for 24 hours. Do not share it.",
        "reset_subject": "Your confirmation code to reset your password{at_site}",
        "reset_intro": "Your confirmation code to reset your password{at_site} is:",
        "reset_page": "the password reset page",
        "reset_enter": "Enter it on {page} to choose a new password. It works for 1 hour.",
        "reset_ignore": (
            "If you did not ask to reset your password, you can ignore this email: your password stays as it is."
        ),
        "reset_sms": "Your confirmation code to reset your password is {code}. It works for 1 hour. Do not share it.",
        "share": "Do not share this code with anyone.",
    },
    "de": {
        "for_site": " für {site}",
        "at_site": " bei {site}",
        "confirm_subject": "Ihr Bestätigungscode{for_site}",
        "confirm_intro": "Ihr Bestätigungscode{for_site} lautet:",
        "confirm_page": "der Bestätigungsseite",
        "confirm_enter": (
            "Geben Sie ihn auf {page} ein, um Ihr Konto fertig zu erstellen. Der Code gilt 24 Stunden lang."
        ),
        "confirm_ignore": (
            "Wenn Sie kein Konto{at_site} erstellt haben, können Sie diese E-Mail ignorieren: "
            "Ohne diesen Code wird das Konto nicht bestätigt."
        ),
        "confirm_sms": "Ihr Bestätigungscode lautet {code}. Er gilt 24 Stunden lang. Geben Sie ihn nicht weiter.",
        "reset_subject": "Ihr Bestätigungscode zum Zurücksetzen Ihres Passworts{at_site}",
        "reset_intro": "Ihr Bestätigungscode zum Zurücksetzen Ihres Passworts{at_site} lautet:",
        "reset_page": "der Seite zum Zurücksetzen des Passworts",
        "reset_enter": "Geben Sie ihn auf {page} ein, um ein neues Passwort zu wählen. Der Code gilt 1 Stunde lang.",
        "reset_ignore": (
            "Wenn Sie nicht darum gebeten haben, Ihr Passwort zurückzusetzen, können Sie diese E-Mail "
            "ignorieren: Ihr Passwort bleibt, wie es ist."
        ),
        "reset_sms": (
            "Ihr Bestätigungscode zum Zurücksetzen des Passworts lautet {code}. "
            "Er gilt 1 Stunde lang. Geben Sie ihn nicht weiter."
        ),
        "share": "Geben Sie diesen Code niemandem weiter.",
    },
    "es": {
        "for_site": " para {site}",
        "at_site": " en {site}",
        "confirm_subject": "Tu código de confirmación{for_site}",
        "confirm_intro": "Tu código de confirmación{for_site} es:",
        "confirm_page": "la página de confirmación",
        "confirm_enter": "Escríbelo en {page} para terminar de crear tu cuenta. El código sirve durante 24 horas.",
        "confirm_ignore": (
            "Si no creaste una cuenta{at_site}, puedes ignorar este correo: sin este código, la cuenta no se confirma."
        ),
        "confirm_sms": "Tu código de confirmación es {code}. Sirve durante 24 horas. No lo compartas.",
        "reset_subject": "Tu código de confirmación para restablecer tu contraseña{at_site}",
        "reset_intro": "Tu código de confirmación para restablecer tu contraseña{at_site} es:",
        "reset_page": "la página para restablecer la contraseña",
        "reset_enter": "Escríbelo en {page} para elegir una contraseña nueva. El código sirve durante 1 hora.",
        "reset_ignore": (
            "Si no pediste restablecer tu contraseña, puedes ignorar este correo: tu contraseña sigue siendo la misma."
        ),
        "reset_sms": (
            "Tu código de confirmación para restablecer tu contraseña es {code}. Sirve durante 1 hora. No lo compartas."
        ),
        "share": "No compartas este código con nadie.",
    },
}


def handler(event: dict[str, Any], context: object = None) -> dict[str, Any]:
    """Cognito's entry point: the event back, with `response` filled in for the three code messages."""
    kind = KINDS.get(event.get("triggerSource", ""))
    if kind is None:
        return event
    request = event["request"]
    metadata = request.get("clientMetadata") or {}  # absent when the caller sent none
    lang = language(metadata.get("lang"), (request.get("userAttributes") or {}).get("locale"))
    site = site_name(os.environ.get("SITE_NAME") or metadata.get("site_name"))
    address = linkable(metadata.get("code_page_url"))
    code = request["codeParameter"]
    event["response"] = {
        **(event.get("response") or {}),
        "emailSubject": subject(lang, kind, site),
        "emailMessage": email(lang, kind, code, site, address),
        "smsMessage": sms(lang, kind, code, site),
    }
    return event


def language(requested: object, locale: object) -> str:
    """The app's `lang`, else the user's `locale` attribute, by its first part ("de-AT" is German); else English."""
    for value in (requested, locale):
        if isinstance(value, str) and (primary := value.strip().lower().replace("_", "-").split("-")[0]) in TEXTS:
            return primary
    return DEFAULT_LANGUAGE


def site_name(name: object) -> str:
    """A site's name fit for a subject line and a text message: one line of visible characters.

    Cognito refuses a message with a control or invisible format character, so those go, and
    every kind of space becomes a plain one; braces go too, so that the name cannot bring a
    second `{####}` (the code would show in the subject, or twice). Cut at 80 characters.
    """
    if not isinstance(name, str):
        return ""
    visible = "".join(ch for ch in name if ch.isspace() or unicodedata.category(ch)[0] != "C")
    words = " ".join(visible.replace("{", "").replace("}", "").split())
    return words if len(words) <= SITE_NAME_LIMIT else words[: SITE_NAME_LIMIT - 1].rstrip() + "…"


def linkable(address: object) -> str | None:
    """The code page's address when the email may link to it, else None.

    Only an absolute https address (or http on localhost, for a local test), with no user name or
    password in it (`https://site.example@elsewhere.example`), and nothing that parsers read
    differently or that Cognito would fill in: no white space, control character, backslash or
    brace. When CODE_PAGE_ORIGINS is set, only on one of those origins.
    """
    if not isinstance(address, str) or not address or len(address) > ADDRESS_LIMIT:
        return None
    if any(ch in "\\{}" or ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in address):
        return None
    try:
        parts = urlsplit(address)
        host, _ = parts.hostname, parts.port  # a port that is not a number raises ValueError
    except ValueError:
        return None
    if not host or parts.username is not None or parts.password is not None:
        return None
    if not (parts.scheme == "https" or (parts.scheme == "http" and host in LOCAL_HOSTS)):
        return None
    origins = {origin.rstrip("/").lower() for origin in os.environ.get("CODE_PAGE_ORIGINS", "").split()}
    if origins and f"{parts.scheme}://{parts.netloc}".lower() not in origins:
        return None
    return address


def with_site(text: str, lang: str, site: str) -> str:
    """`text` with its `{for_site}` and `{at_site}` filled in for `site`, or left out without one."""
    return text.format(
        **{piece: TEXTS[lang][piece].format(site=site) if site else "" for piece in ("for_site", "at_site")}
    )


def subject(lang: str, kind: str, site: str) -> str:
    """The subject line, without the site's name when that would make it longer than 140 characters."""
    text = with_site(TEXTS[lang][f"{kind}_subject"], lang, site)
    return text if len(text) <= SUBJECT_LIMIT else with_site(TEXTS[lang][f"{kind}_subject"], lang, "")


def email(lang: str, kind: str, code: str, site: str, address: str | None) -> str:
    """The HTML email: what the code is for, the code, where to type it and for how long, and what
    to do if the person did not ask for it. The texts need no escaping, the values from the event do,
    and the code's placeholder goes in as it is, for Cognito to replace."""
    texts = TEXTS[lang]
    page = texts[f"{kind}_page"]
    if address:
        page = f'<a href="{html.escape(address, quote=True)}">{page}</a>'
    paragraphs = [
        with_site(texts[f"{kind}_intro"], lang, html.escape(site)),
        f'<strong style="font-size:1.5em;letter-spacing:0.1em">{code}</strong>',
        texts[f"{kind}_enter"].format(page=page),
        texts["share"],
        with_site(texts[f"{kind}_ignore"], lang, html.escape(site)),
    ]
    body = "\n".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    return f'<html lang="{lang}">\n<body>\n{body}\n</body>\n</html>'


def sms(lang: str, kind: str, code: str, site: str) -> str:
    """The text message: the code and how long it works, after the site's name when it all fits in 140 characters."""
    message = TEXTS[lang][f"{kind}_sms"].format(code=code)
    named = f"{site}: {message}"
    return named if site and len(named) <= SMS_LIMIT else message
