"""Screenshots of every page state: `make screenshots` writes docs/screenshots/.

Runs the app against the local Cognito, as `make run` does (plus twins: sign-up and code limits
of one an hour and Cognito gone, for the 429, locked and 503 pages; a passwordless one that signs
people in at once, through the tests' stand-in for Cognito's Sessions; one with identity
providers), and photographs in Debian's Chromium: every state in English, German and Spanish on a
desktop screen (docs/screenshots/<lang>/), and the main pages in English on a desktop and a phone,
light and dark (docs/screenshots/).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from app.config.declaration import load_declaration
from app.invite import Invitations
from local import emulator
from local.procfile import web_command
from tests.servers import SessionCognito, serve

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
SAMPLE = ROOT / "config" / "signup.toml"
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--no-first-run"]
LANGUAGES = ("en", "de", "es")
# What the person types; the field names are the form's, so they hold in every language.
PERSON = {"password": "Correct-Horse-9", "given_name": "Ann"}
OTHER_LANGUAGE = {"en": "de", "de": "es", "es": "en"}
PROVIDERS = ROOT / "tests" / "declarations" / "providers.toml"
PASSWORDLESS = 'username = "email"\npassword = false\n[[attributes]]\nname = "given_name"\nrequired = true\n'


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        cognito_port = emulator.free_port()
        stack.enter_context(running(emulator.start(cognito_port)))
        pool = emulator.provision(f"http://127.0.0.1:{cognito_port}", load_declaration(SAMPLE))
        key = secrets.token_urlsafe(32)
        app = stack.enter_context(serving({**pool.environment(), "SECRET_KEY": key}))
        limited = stack.enter_context(serving({**pool.environment(), "SIGNUP_RATELIMIT_SIGNUP": "1/hour"}))
        codes = stack.enter_context(serving({**pool.environment(), "SIGNUP_RATELIMIT_CONFIRM_PER_USER": "1/hour"}))
        gone = stack.enter_context(serving({**pool.environment(), "COGNITO_ENDPOINT_URL": "http://127.0.0.1:1"}))
        sessions = SessionCognito(pool.endpoint, pool)
        passwordless = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "passwordless.toml"
        passwordless.write_text(PASSWORDLESS)
        signs_in = {
            **pool.environment(),
            "COGNITO_ENDPOINT_URL": f"http://127.0.0.1:{stack.enter_context(serve(sessions))}",
            "SIGNUP_CONFIG": str(passwordless),
            "SIGNUP_SIGN_IN": "immediate",
            "SIGNUP_TOKEN_CALLBACK_URL": "https://www.example.com/signup-tokens",
        }
        signing_in = stack.enter_context(serving(signs_in))
        with_providers = {
            **pool.environment(),
            "SIGNUP_CONFIG": str(PROVIDERS),
            "COGNITO_DOMAIN": "https://auth.example.com",
            "SIGNUP_SIGN_IN_REDIRECT_URI": "https://www.example.com/callback",
        }
        sites = {
            "app": app,
            "limited": limited,
            "codes": codes,
            "gone": gone,
            "signs_in": signing_in,
            "providers": stack.enter_context(serving(with_providers)),
        }
        with sync_playwright() as playwright:
            for lang in LANGUAGES:
                with browser(playwright, SIZES["desktop"], "light") as page:
                    every_state(page, lang, sites, OUT / lang)
                with browser(playwright, SIZES["desktop"], "light", javascript=False) as page:
                    invited_and_signed_in(page, lang, sites, Invitations(key), OUT / lang)
            for size, viewport in SIZES.items():
                for scheme in ("light", "dark"):
                    with browser(playwright, viewport, scheme) as page:
                        main_pages(page, app, f"{size}-{scheme}")


@contextmanager
def running(process: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    try:
        yield process
    finally:
        process.terminate()
        process.wait()


@contextmanager
def serving(cognito: dict[str, str]) -> Iterator[str]:
    """The app under gunicorn, as `make run` serves it, with these settings too; yields its address."""
    port = emulator.free_port()
    env = {
        **os.environ,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "SIGNUP_CONFIG": str(SAMPLE),
        "SIGNUP_BIND": f"127.0.0.1:{port}",
        "SIGNUP_WORKERS": "1",
        "SIGNUP_SIGN_IN_URL": "https://www.example.com/sign-in",
        **cognito,
    }
    with running(subprocess.Popen(web_command(), cwd=ROOT, env=env)) as process:
        emulator.wait_until_up(f"http://localhost:{port}/healthz", process)
        yield f"http://localhost:{port}"


@contextmanager
def browser(playwright: Any, viewport: dict[str, int], scheme: str, javascript: bool = True) -> Iterator[Any]:
    with tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path="/usr/bin/chromium",
            headless=True,
            args=ARGS,
            viewport=viewport,
            color_scheme=scheme,
            java_script_enabled=javascript,
        )
        try:
            yield context.new_page()
        finally:
            context.close()


def fill(page: Any, email: str, **changes: str) -> None:
    for name, value in {"username": email, **PERSON, **changes}.items():
        page.locator(f"[name={name}]").fill(value)
    page.locator("[name=custom_plan]").select_option("team")


def send(page: Any, wait: bool = True) -> None:
    """Select the form's first button, after the time a person takes (the bot check's minimum) unless told."""
    if wait:
        page.wait_for_timeout(1100)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_load_state()


def every_state(page: Any, lang: str, sites: dict[str, str], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)

    def shot(name: str) -> None:
        page.screenshot(path=str(out / f"{name}.png"), full_page=True)

    email = f"{lang}-{secrets.token_hex(3)}@example.com"
    form_and_code_pages(page, lang, sites, shot, email)
    page.goto(f"{sites['app']}/signup?lang={lang}")
    fill(page, email)
    send(page)
    shot("signup-taken")
    page.goto(f"{sites['app']}/signup/confirm?lang={lang}")
    shot("confirm-returning")
    page.goto(f"{sites['app']}/signup/confirm?lang={lang}&flow=unreadable")
    shot("confirm-unreadable")
    page.goto(f"{sites['codes']}/signup/forgot?lang={lang}")  # where no code was sent to the address a minute ago
    shot("forgot")
    page.locator("[name=username]").fill(email)
    send(page)
    shot("password")
    page.locator("[name=code]").fill(emulator.LOCAL_RESET_CODE)
    page.locator("[name=password]").fill("Battery-Staple-7")
    send(page)
    shot("done-password-set")
    page.goto(f"{sites['codes']}/signup?lang={lang}")  # the twin takes one code an hour
    fill(page, f"locked-{email}")
    send(page)
    for _ in range(2):
        page.locator("[name=code]").fill("000000")
        send(page)
    shot("confirm-locked")
    for n in range(2):  # the second sign-up from this address is over the limit
        page.goto(f"{sites['limited']}/signup?lang={lang}")
        fill(page, f"{n}-{email}")
        send(page)
    shot("429")
    page.goto(f"{sites['gone']}/signup?lang={lang}")
    fill(page, email)
    send(page)
    shot("503")
    page.goto(f"{sites['app']}/no-such-page?lang={lang}")
    shot("404")
    page.goto(f"{sites['providers']}/signup?lang={lang}")
    shot("signup-providers")


def form_and_code_pages(page: Any, lang: str, sites: dict[str, str], shot: Any, email: str) -> None:
    """The form, its errors in two languages, the code page and its detours, a password of the person's own
    (the sign-up finished from the returning form), and the done page."""
    page.goto(f"{sites['app']}/signup?lang={lang}")
    shot("signup")
    send(page)
    shot("signup-errors")
    fill(page, "not an email", password="short", custom_company="x" * 70)  # noqa: S106 - a weak one, on purpose
    send(page)
    shot("signup-errors-filled")
    page.locator(f"nav.languages button[value={OTHER_LANGUAGE[lang]}]").click()
    page.wait_for_load_state()
    shot("signup-errors-other-language")
    page.locator(f"nav.languages button[value={lang}]").click()
    page.wait_for_load_state()
    fill(page, email, custom_company="Ann & Co")
    send(page)
    shot("confirm")
    page.locator("main a[href*='draft=']").first.click()  # "Not your email address? Change it"
    page.wait_for_load_state()
    shot("signup-changed")
    page.go_back()
    page.locator("[name=code]").fill("000000")
    send(page)
    shot("confirm-wrong-code")
    page.locator("main button[formaction*='/resend']").evaluate("button => { button.disabled = false; }")
    page.locator("main button[formaction*='/resend']").click()  # before the countdown ends: the server says to wait
    page.wait_for_load_state()
    shot("confirm-resend-too-soon")
    page.goto(f"{sites['limited']}/signup/confirm?lang={lang}")  # another instance, whose cooldown is its own
    page.locator("[name=username]").fill(email)
    page.locator("main button[formaction*='/resend']").click()
    page.wait_for_load_state()
    shot("confirm-new-code")
    page.locator("[name=code]").fill(emulator.LOCAL_CODE)
    send(page)
    shot("password-finish")  # confirmed from the returning form: a password of the person's own first
    page.locator("[name=code]").fill(emulator.LOCAL_RESET_CODE)
    page.locator("[name=password]").fill("Battery-Staple-7")
    send(page)
    shot("done")


def invited_and_signed_in(page: Any, lang: str, sites: dict[str, str], invitations: Invitations, out: Path) -> None:
    """Invitation links, and the passwordless sign-up that ends signed in, without JavaScript: with
    it, the signed-in page sends itself on to the site's callback at once."""

    def shot(name: str) -> None:
        page.screenshot(path=str(out / f"{name}.png"), full_page=True)

    email = f"{lang}-{secrets.token_hex(3)}@example.com"
    page.goto(f"{sites['app']}/signup?lang={lang}&invite={invitations.make(email, 7 * 86400)}")
    shot("signup-invited")
    page.goto(f"{sites['app']}/signup?lang={lang}&invite={invitations.make(email, -60)}")
    shot("signup-invitation-expired")
    page.goto(f"{sites['signs_in']}/signup?lang={lang}")
    shot("signup-passwordless")
    page.locator("[name=username]").fill(email)
    page.locator("[name=given_name]").fill("Ann")
    send(page)
    page.locator("[name=code]").fill(emulator.LOCAL_CODE)
    send(page)
    shot("signed-in")


def main_pages(page: Any, app: str, variant: str) -> None:
    """The README's pictures: the form, the form with errors, the code page and the done page."""

    def shot(name: str) -> None:
        page.screenshot(path=str(OUT / f"{name}-{variant}.png"), full_page=True)

    page.goto(f"{app}/signup")
    shot("signup")
    fill(page, "not an email", password="short")  # noqa: S106 - a weak one, on purpose
    send(page)
    shot("signup-errors")
    fill(page, f"{variant}-{secrets.token_hex(3)}@example.com")
    send(page)
    page.locator("[name=code]").fill(emulator.LOCAL_CODE)
    shot("confirm")
    send(page)
    shot("done")


if __name__ == "__main__":
    main()
