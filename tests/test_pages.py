"""Every page, in every state, checked in real Chromium with axe-core (WCAG 2.x A and AA) and by the
Nu HTML Checker; the whole flow works with JavaScript turned off; the enhancements work with it on."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from app import create_app, invite
from app.aws.cognito import create_client
from app.config.declaration import load_declaration
from app.config.settings import load_settings
from app.signup.flow import Event, Flow, Kind
from local import emulator

from .browser import WRONG_CODE, chromium, enter_code, expect, served_by, through_the_code_page
from .conftest import ROOT, SAMPLE, SIGNUP, base_env, submit
from .servers import gunicorn

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
VIEWPORTS = {"phone": {"width": 375, "height": 812}, "desktop": {"width": 1280, "height": 900}}


@pytest.fixture(scope="module")
def site(cognito_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The app against the emulator, and twins: a sign-up limit of one, Cognito gone, one code tried an hour."""
    pool = emulator.provision(cognito_endpoint, load_declaration(SAMPLE), name=f"pages{secrets.token_hex(3)}")
    logs = tmp_path_factory.mktemp("pages")
    env = base_env(**pool.environment(), SIGNUP_SIGN_IN_URL="https://www.example.com/sign-in")
    twins = {
        "app": env,
        "limited": {**env, "SIGNUP_RATELIMIT_SIGNUP": "1/hour"},
        "gone": {**env, "COGNITO_ENDPOINT_URL": f"http://127.0.0.1:{emulator.free_port()}"},
        "codes": {**env, "SIGNUP_RATELIMIT_CONFIRM": "1/hour"},
    }
    with ExitStack() as stack:
        yield {
            name: f"http://localhost:{stack.enter_context(gunicorn(twin, logs / f'{name}.log'))}"
            for name, twin in twins.items()
        }


def fill_signup(page: Any, email: str) -> None:
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill("Correct-Horse-9")
    page.get_by_label("First name").fill("Ann")
    page.get_by_label("Plan").select_option("team")


def create_account(page: Any) -> None:
    page.get_by_role("button", name="Create account").click()


class Pages:
    """Walks the app through every state; after each step, runs axe over the page."""

    def __init__(self, page: Any, label: str) -> None:
        self.page, self.label = page, label
        self.violations: dict[str, list[Any]] = {}

    def check(self, state: str) -> None:
        self.page.wait_for_load_state()
        self.page.add_script_tag(path=str(AXE))
        result = self.page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS)
        found = [
            {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]} for v in result["violations"]
        ]
        self.violations[f"{self.label}/{state}"] = found


def walk(page: Any, site: dict[str, str], pages: Pages, email: str) -> None:
    page.goto(f"{site['app']}/signup")
    pages.check("signup")
    create_account(page)
    expect(page.locator("#error-summary")).to_be_focused()
    pages.check("signup-errors")
    page.get_by_role("button", name="Deutsch").click()  # the form and its errors, in German
    expect(page.get_by_role("heading", name="Es gibt ein Problem")).to_be_visible()
    pages.check("signup-errors-switched")
    page.get_by_role("button", name="English").click()
    fill_signup(page, email)
    create_account(page)
    expect(page.get_by_role("heading", name="Confirm your account")).to_be_visible()
    pages.check("confirm")
    through_the_code_page(page, emulator.LOCAL_CODE, new_code=False, seen=pages.check)
    page.goto(f"{site['app']}/signup")
    fill_signup(page, email)
    create_account(page)
    expect(page.get_by_role("link", name="Finish a sign-up you started")).to_be_visible()
    pages.check("signup-taken")
    page.locator("#username ~ *, .ways-on").get_by_role("link", name="Forgot your password?").click()
    pages.check("forgot")
    page.get_by_role("button", name="Send a code").click()
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    pages.check("password")
    page.get_by_label("Confirmation code").fill(emulator.LOCAL_RESET_CODE)
    page.get_by_label("Password", exact=True).fill("Another-Horse-10")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("heading", name="Your new password is set")).to_be_visible()
    pages.check("done-password")
    # A sign-up started here and finished as a returning person would, from the form that asks who they are.
    page.goto(f"{site['app']}/signup")
    fill_signup(page, f"later-{email}")
    create_account(page)
    page.goto(f"{site['app']}/signup/confirm")
    pages.check("confirm-returning")
    page.get_by_label("Email address").fill(f"later-{email}")
    page.get_by_role("button", name="Send a new code").click()
    expect(page.get_by_text("We sent you a new code.")).to_be_visible()
    pages.check("confirm-new-code")
    enter_code(page, emulator.LOCAL_CODE)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    pages.check("password-finish")
    page.goto(f"{site['app']}/signup/confirm")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Confirmation code").fill(emulator.LOCAL_CODE)
    page.get_by_role("button", name="Confirm account").click()
    expect(page.get_by_role("heading", name="Your account is already confirmed")).to_be_visible()
    pages.check("done-already")
    page.goto(f"{site['codes']}/signup")
    fill_signup(page, f"locked-{email}")
    create_account(page)
    confirm = page.get_by_role("button", name="Confirm account")
    while confirm.is_enabled():  # once over the limit of codes tried, Confirm waits; the page says till when
        enter_code(page, WRONG_CODE)
    expect(page.get_by_role("button", name="Confirm account")).to_be_disabled()
    pages.check("confirm-locked")
    page.goto(f"{site['app']}/signup/confirm?flow=unreadable")
    pages.check("confirm-unreadable")
    page.goto(f"{site['app']}/no-such-page")
    pages.check("404")
    for attempt in range(2):  # the second sign-up from this address is over the limit
        page.goto(f"{site['limited']}/signup")
        fill_signup(page, f"{attempt}-{email}")
        create_account(page)
    expect(page.get_by_text("Too many sign-ups from your network.")).to_be_visible()
    pages.check("429")
    page.goto(f"{site['gone']}/signup")
    fill_signup(page, email)
    create_account(page)
    expect(page.get_by_text("We could not create your account just now.")).to_be_visible()
    pages.check("503")
    for lang in ("de", "es"):
        page.goto(f"{site['app']}/signup?lang={lang}")
        pages.check(f"signup-{lang}")
        page.locator("form button[type=submit]").click()
        pages.check(f"signup-errors-{lang}")
        page.goto(f"{site['app']}/signup/confirm?lang={lang}")
        pages.check(f"confirm-returning-{lang}")


@pytest.fixture(scope="module")
def checked(playwright: Any, site: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> list[Pages]:
    walked = []
    for n, (size, viewport) in enumerate(VIEWPORTS.items()):
        for scheme in ("light", "dark"):
            profile = tmp_path_factory.mktemp(f"profile-{size}-{scheme}")
            with chromium(playwright, profile, viewport=viewport, color_scheme=scheme, bypass_csp=True) as browser:
                page = browser.new_page()
                pages = Pages(page, f"{size}-{scheme}")
                walk(page, site, pages, f"{size}-{scheme}-{n}@example.com")
                walked.append(pages)
    return walked


def test_axe_finds_no_wcag_a_or_aa_violation_on_any_page(checked: list[Pages]) -> None:
    assert len(checked) == 4 and all(len(p.violations) == 25 for p in checked)
    failures = {state: found for p in checked for state, found in p.violations.items() if found}
    assert failures == {}, json.dumps(failures, indent=2)


def served_pages(pool: emulator.LocalPool, out: Path) -> list[str]:
    """The HTML the server sends in each state and language (what the checker must see, before any script runs)."""
    env = base_env(**pool.environment(), SIGNUP_SIGN_IN_URL="https://www.example.com/sign-in")
    limited = create_app({**env, "SIGNUP_RATELIMIT_SIGNUP": "1/hour"}).test_client()
    gone = create_app({**env, "COGNITO_ENDPOINT_URL": f"http://127.0.0.1:{emulator.free_port()}"}).test_client()
    codes = create_app({**env, "SIGNUP_RATELIMIT_CONFIRM": "1/hour"}).test_client()
    client = create_app(env).test_client()
    pages: dict[str, Any] = {"405": client.put("/signup")}
    for lang in ("en", "de", "es"):
        email = f"vnu-{lang}@example.com"
        person = {**SIGNUP, "username": email}
        pages[f"signup-{lang}"] = client.get(f"/signup?lang={lang}")
        pages[f"signup-errors-{lang}"] = submit(client, f"/signup?lang={lang}", {})
        code_page = submit(client, f"/signup?lang={lang}", person).headers["Location"]
        pages[f"confirm-{lang}"] = client.get(code_page)
        pages[f"confirm-error-{lang}"] = submit(client, code_page, {"code": "000000"})
        done = submit(client, code_page, {"code": emulator.LOCAL_CODE}).headers["Location"]
        pages[f"done-{lang}"] = client.get(done)
        pages[f"signup-taken-{lang}"] = submit(client, f"/signup?lang={lang}", person)
        pages[f"done-already-{lang}"] = client.get(
            submit(client, f"/signup/confirm?lang={lang}", {"username": email}, resend=True).headers["Location"]
        )
        pages[f"forgot-{lang}"] = client.get(f"/signup/forgot?lang={lang}")
        reset = submit(client, f"/signup/forgot?lang={lang}", {"username": email}).headers["Location"]
        pages[f"password-{lang}"] = client.get(reset)
        pages[f"password-error-{lang}"] = submit(client, reset, {"code": "1", "password": "x"})
        new_password = {"code": emulator.LOCAL_RESET_CODE, "password": "Another-Horse-10"}
        pages[f"done-password-{lang}"] = client.get(submit(client, reset, new_password).headers["Location"])
        later = {**person, "username": f"later-{email}"}
        submit(client, f"/signup?lang={lang}", later)
        pages[f"confirm-returning-{lang}"] = client.get(f"/signup/confirm?lang={lang}")
        resent = submit(client, f"/signup/confirm?lang={lang}", {"username": later["username"]}, resend=True)
        pages[f"confirm-new-code-{lang}"] = client.get(resent.headers["Location"])
        finish = submit(client, resent.headers["Location"], {"code": emulator.LOCAL_CODE}).headers["Location"]
        pages[f"password-finish-{lang}"] = client.get(finish)
        locked = submit(codes, f"/signup?lang={lang}", {**person, "username": f"locked-{email}"}).headers["Location"]
        submit(codes, locked, {"code": "000000"})
        pages[f"confirm-locked-{lang}"] = submit(codes, locked, {"code": "000000"})
        pages[f"confirm-unreadable-{lang}"] = client.get(f"/signup/confirm?lang={lang}&flow=x")
        pages[f"404-{lang}"] = client.get(f"/no-such-page?lang={lang}")
        pages[f"403-{lang}"] = client.post(f"/signup?lang={lang}", headers={"Sec-Fetch-Site": "cross-site"})
        submit(limited, f"/signup?lang={lang}", {**person, "username": f"1-{email}"})
        pages[f"429-{lang}"] = submit(limited, f"/signup?lang={lang}", {**person, "username": f"2-{email}"})
        pages[f"503-{lang}"] = submit(gone, f"/signup?lang={lang}", person)
        pages[f"signed-in-{lang}"] = signed_in_page(env, lang)
        pages[f"done-hand-off-{lang}"] = hand_off_done_page(env, lang)
        pages.update({f"{state}-{lang}": answer for state, answer in site_owner_pages(env, lang).items()})
        states = ("signup-taken", "password-error", "confirm-locked", "403", "429", "503")
        assert [pages[f"{s}-{lang}"].status_code for s in states] == [422, 422, 429, 403, 429, 503]
    files = []
    for state, response in pages.items():
        files.append(str(out / f"{state}.html"))
        Path(files[-1]).write_bytes(response.get_data())
    return files


OWNERS = ROOT / "tests" / "declarations" / "owners.toml"
INVITED = ROOT / "tests" / "declarations" / "invited.toml"
PROVIDERS = ROOT / "tests" / "declarations" / "providers.toml"
HAND_OFF = {"COGNITO_DOMAIN": "https://auth.example.com", "SIGNUP_SIGN_IN_REDIRECT_URI": "https://www.example.com/cb"}


def site_owner_pages(env: dict[str, str], lang: str) -> dict[str, Any]:
    """The states of consents, invitations, prefill and identity providers (Cognito is not asked in any of them)."""
    owners = create_app({**env, "SIGNUP_CONFIG": str(OWNERS)}).test_client()
    invited = create_app({**env, "SIGNUP_CONFIG": str(INVITED)}).test_client()
    providers = create_app({**env, **HAND_OFF, "SIGNUP_CONFIG": str(PROVIDERS)}).test_client()
    token = invite.Invitations(env["SECRET_KEY"]).make("invitee@example.com", 3600)
    return {
        "consents": owners.get(f"/signup?lang={lang}&email=pre@example.com&utm_source=mail"),
        "consent-missing": submit(owners, f"/signup?lang={lang}", {**SIGNUP, "consent_terms": ""}),
        "invited": invited.get(f"/signup?lang={lang}&invite={token}"),
        "invitation-unreadable": owners.get(f"/signup?lang={lang}&invite=x{token}"),
        "invitation-needed": invited.get(f"/signup?lang={lang}"),
        "providers": providers.get(f"/signup?lang={lang}&state=s-1"),
    }


def test_axe_finds_no_violation_in_the_site_owners_states(playwright: Any, tmp_path: Path) -> None:
    env = base_env()
    owners = create_app({**env, "SIGNUP_CONFIG": str(OWNERS)}, cognito_client=object())
    invited = create_app({**env, "SIGNUP_CONFIG": str(INVITED)}, cognito_client=object())
    providers = create_app({**env, **HAND_OFF, "SIGNUP_CONFIG": str(PROVIDERS)}, cognito_client=object())
    token = invite.Invitations(env["SECRET_KEY"]).make("invitee@example.com", 3600)
    with chromium(playwright, tmp_path / "profile", bypass_csp=True) as browser:
        page = browser.new_page()
        served_by(page, "https://owners.test", owners)
        served_by(page, "https://invited.test", invited)
        served_by(page, "https://providers.test", providers)
        pages = Pages(page, "owners")
        page.goto("https://owners.test/signup?email=pre@example.com")
        pages.check("consents")
        page.locator("form button[type=submit]").click()
        expect(page.locator("#error-summary")).to_contain_text("Tick “I accept the terms of service” to continue.")
        pages.check("consent-missing")
        page.goto(f"https://invited.test/signup?invite={token}")
        pages.check("invited")
        page.goto("https://invited.test/signup")
        pages.check("invitation-needed")
        page.goto("https://providers.test/signup")
        pages.check("providers")
    failures = {state: found for state, found in pages.violations.items() if found}
    assert len(pages.violations) == 5 and failures == {}, json.dumps(failures, indent=2)


def signed_in_page(env: dict[str, str], lang: str) -> Any:
    """The page that posts an immediate sign-in's tokens, with Cognito's answers from a Stubber."""
    client = create_client(load_settings(env))
    tokens = {"IdToken": "i", "AccessToken": "a", "RefreshToken": "r", "ExpiresIn": 3600, "TokenType": "Bearer"}
    with Stubber(client) as stub:
        stub.add_response("sign_up", {"UserConfirmed": False, "UserSub": "s", "Session": "s" * 20})
        stub.add_response("confirm_sign_up", {"Session": "t" * 20})
        stub.add_response("initiate_auth", {"AuthenticationResult": tokens})
        more = {"SIGNUP_SIGN_IN": "immediate", "SIGNUP_TOKEN_CALLBACK_URL": "https://www.example.com/tokens"}
        browser = create_app({**env, **more}, cognito_client=client).test_client()
        code_page = submit(browser, f"/signup?lang={lang}", SIGNUP).headers["Location"]
        return submit(browser, code_page, {"code": "123456"})


def hand_off_done_page(env: dict[str, str], lang: str) -> Any:
    """The done page inside a frame with the hand-off to Managed Login set up."""
    more = {"COGNITO_DOMAIN": "https://auth.example.com", "SIGNUP_SIGN_IN_REDIRECT_URI": "https://www.example.com/cb"}
    app = create_app({**env, **more})
    token = app.extensions["signup"].flows.seal(Flow("ann@example.com", event=Event.CONFIRMED, kind=Kind.READY))
    return app.test_client().get(f"/signup/done?lang={lang}&flow={token}", headers={"Sec-Fetch-Dest": "iframe"})


@pytest.mark.skipif(shutil.which("java") is None, reason="the Nu HTML Checker needs Java")
def test_the_nu_html_checker_finds_no_error_on_any_page(local_pool: emulator.LocalPool, tmp_path: Path) -> None:
    files = served_pages(local_pool, tmp_path)
    result = subprocess.run(
        ["java", "-jar", str(VNU), "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    messages = json.loads(result.stderr or '{"messages": []}')["messages"]
    assert messages == [], json.dumps(messages, indent=2)


def test_the_whole_flow_works_without_javascript(playwright: Any, site: dict[str, str], tmp_path: Path) -> None:
    with chromium(playwright, tmp_path / "profile", java_script_enabled=False) as browser:
        page = browser.new_page()
        page.goto(f"{site['app']}/signup")
        create_account(page)  # errors come back from the server, in the page
        expect(page.locator("#error-summary")).to_contain_text("Enter your email address.")
        fill_signup(page, "nojs@example.com")
        create_account(page)
        through_the_code_page(page, emulator.LOCAL_CODE, new_code=True)
        # A new password, from the form's "Forgot your password?" to the end.
        page.goto(f"{site['app']}/signup")
        page.get_by_role("link", name="Forgot your password?").click()
        page.get_by_label("Email address").fill("nojs@example.com")
        page.get_by_role("button", name="Send a code").click()
        page.get_by_label("Confirmation code").fill(emulator.LOCAL_RESET_CODE)
        page.get_by_label("Password", exact=True).fill("Battery-Staple-7")
        page.locator("main form button[type=submit]").first.click()
        expect(page.get_by_role("heading", name="Your new password is set")).to_be_visible()
        # No enhancement appeared: the password checklist stays hidden, no toggle buttons.
        page.goto(f"{site['app']}/signup")
        expect(page.locator("#password-checklist")).to_be_hidden()
        expect(page.get_by_role("button", name="Show password")).to_have_count(0)


def test_with_javascript_the_password_checklist_and_toggle_help(
    playwright: Any, site: dict[str, str], tmp_path: Path
) -> None:
    with chromium(playwright, tmp_path / "profile") as browser:
        page = browser.new_page()
        page.goto(f"{site['app']}/signup")
        checklist = page.locator("#password-checklist")
        expect(checklist).to_be_visible()
        password = page.get_by_label("Password", exact=True)
        password.fill("abc")
        expect(checklist.locator("li.met")).to_have_count(1)  # a lowercase letter
        password.fill("Abcdefg1!")
        expect(checklist.locator("li.met")).to_have_count(5)
        expect(checklist.locator("li[data-rule=length]")).to_contain_text("done")
        password.fill("Abcdefg1€")  # € is not one of Cognito's symbols: the checklist and the server agree
        expect(checklist.locator("li[data-rule=symbol]")).not_to_have_class(re.compile("met"))
        toggle = page.get_by_role("button", name="Show password")
        expect(toggle).to_have_count(1)  # one password, one toggle
        toggle.click()
        expect(password).to_have_attribute("type", "text")
        expect(toggle).to_have_attribute("aria-pressed", "true")  # pressed, its name the same
        toggle.click()
        expect(password).to_have_attribute("type", "password")
        expect(toggle).to_have_attribute("aria-pressed", "false")


def test_a_second_click_does_not_send_the_form_twice(playwright: Any, site: dict[str, str], tmp_path: Path) -> None:
    with chromium(playwright, tmp_path / "profile") as browser:
        page = browser.new_page()
        posts = []
        page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
        page.goto(f"{site['app']}/signup")
        page.get_by_role("button", name="Create account").dblclick()
        expect(page.locator("#error-summary")).to_be_visible()
        assert len(posts) == 1


def test_the_language_is_kept_through_the_flow(playwright: Any, site: dict[str, str], tmp_path: Path) -> None:
    with chromium(playwright, tmp_path / "profile", locale="en-GB") as browser:
        page = browser.new_page()
        page.goto(f"{site['app']}/signup?lang=de")
        expect(page.locator("html")).to_have_attribute("lang", "de")
        page.get_by_role("button", name="Konto erstellen").click()  # errors: the form comes back
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(page.locator("#error-summary")).to_be_visible()
        page.get_by_role("link", name="Haben Sie schon einen Code? Bestätigen Sie Ihr Konto").click()
        expect(page.locator("html")).to_have_attribute("lang", "de")
        assert re.search(r"Code", page.locator("h1").inner_text() + page.locator("main").inner_text())


def test_a_notice_is_said_once_and_a_reload_does_not_repeat_it(
    playwright: Any, site: dict[str, str], tmp_path: Path
) -> None:
    with chromium(playwright, tmp_path / "profile") as browser:
        page = browser.new_page()
        page.goto(f"{site['app']}/signup")
        fill_signup(page, "reload@example.com")
        create_account(page)
        page.get_by_role("button", name="Send a new code").click()
        expect(page.get_by_text("We sent you a new code.")).to_be_visible()
        page.reload()
        expect(page.get_by_role("heading", name="Confirm your account")).to_be_visible()
        expect(page.get_by_text("We sent you a new code.")).to_have_count(0)
        expect(page.get_by_text("We sent a code by email to reload@example.com.")).to_be_visible()
