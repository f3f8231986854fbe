"""What people actually do between "Create account" and "ready", replayed in real browsers against
the local Cognito: each detour ends with the account confirmed, or on a page that names the way on.

Chromium (Playwright) replays every detour; the lock after too many codes, Back, reload and
switching language, where browsers differ most, are replayed in Firefox ESR and WebKitGTK too
(tests/engines).
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from app.config.declaration import load_declaration
from local import emulator

from .browser import WRONG_CODE, chromium, enter_code, expect
from .conftest import SAMPLE, base_env
from .engines import ENGINES, Engine, open_page
from .servers import RecordingProxy, gunicorn, serve

pytestmark = pytest.mark.browser

PASSWORD = "Correct-Horse-9"


@pytest.fixture(scope="module")
def pool(cognito_endpoint: str) -> emulator.LocalPool:
    return emulator.provision(cognito_endpoint, load_declaration(SAMPLE), name=f"detours{secrets.token_hex(3)}")


@pytest.fixture(scope="module")
def proxy(pool: emulator.LocalPool) -> RecordingProxy:
    return RecordingProxy(pool.endpoint)


@pytest.fixture(scope="module")
def site(
    pool: emulator.LocalPool, proxy: RecordingProxy, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """The app under gunicorn; twins: the production time to fill (1 s), three codes tried an hour,
    its Cognito calls recorded, no sign-in configured."""
    logs = tmp_path_factory.mktemp("detours")
    with ExitStack() as stack:
        recorded = stack.enter_context(serve(proxy))
        env = base_env(**pool.environment(), SIGNUP_SIGN_IN_URL="https://www.example.com/sign-in")
        twins = {
            "app": env,
            "people": {**env, "SIGNUP_MIN_FILL_SECONDS": "1"},
            "codes": {**env, "SIGNUP_RATELIMIT_CONFIRM_PER_USER": "3/hour"},
            "recorded": {**env, "COGNITO_ENDPOINT_URL": f"http://127.0.0.1:{recorded}"},
            "plain": base_env(**pool.environment()),
        }
        yield {
            name: f"http://localhost:{stack.enter_context(gunicorn(twin, logs / f'{name}.log'))}"
            for name, twin in twins.items()
        }


@pytest.fixture
def tab(playwright: Any, tmp_path: Path) -> Iterator[Any]:
    with chromium(playwright, tmp_path / "profile") as browser:
        yield browser.new_page()


def fill_form(page: Any, email: str, **changes: str) -> None:
    values = {"Email address": email, "Password": PASSWORD, "First name": "Ann", "Company": "Ann & Co", **changes}
    for label, value in values.items():
        page.get_by_label(label, exact=label != "Company").fill(value)  # "Company (optional)"
    page.get_by_label("Plan").select_option("team")


def create_account(page: Any) -> None:
    page.get_by_role("button", name="Create account").click()


def new_email() -> str:
    return f"detour-{uuid.uuid4().hex[:10]}@example.com"


def status(pool: emulator.LocalPool, email: str) -> str:
    user = emulator.admin_client(pool.endpoint).admin_get_user(UserPoolId=pool.pool_id, Username=email)
    return str(user["UserStatus"])


def attributes(pool: emulator.LocalPool, email: str) -> dict[str, str]:
    user = emulator.admin_client(pool.endpoint).admin_get_user(UserPoolId=pool.pool_id, Username=email)
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]}


# 1. A required field of only spaces.


def test_a_first_name_of_only_spaces_is_asked_for_on_its_field(tab: Any, site: dict[str, str]) -> None:
    tab.goto(f"{site['app']}/signup")
    fill_form(tab, new_email(), **{"First name": "   "})
    create_account(tab)
    expect(tab.locator("#given_name-error-1")).to_contain_text("Enter your first name.")
    tab.get_by_label("First name", exact=True).fill("Ann")
    create_account(tab)
    expect(tab.get_by_role("heading", name="Confirm your account")).to_be_visible()


# 2. Codes as people paste them; the lock when too many were tried.


@pytest.mark.parametrize("pasted", ["123-456", "Your code is 123456."])
def test_a_pasted_code_is_read_for_its_digits(
    tab: Any, site: dict[str, str], pool: emulator.LocalPool, pasted: str
) -> None:
    email = new_email()
    tab.goto(f"{site['app']}/signup")
    fill_form(tab, email)
    create_account(tab)
    expect(tab.get_by_text("The code has 6 digits.")).to_be_visible()
    code = tab.get_by_label("Confirmation code")
    assert (code.get_attribute("inputmode"), code.get_attribute("autocomplete")) == ("numeric", "one-time-code")
    assert int(code.get_attribute("maxlength")) >= len(pasted)
    enter_code(tab, pasted)
    expect(tab.get_by_role("heading", name="Your account is ready")).to_be_visible()
    assert status(pool, email) == "CONFIRMED"


def engine_page(engine: Engine, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    """A page in this engine: Chromium through the suite's Playwright, the others through their drivers."""
    playwright = request.getfixturevalue("playwright") if engine == "chromium" else None
    return open_page(engine, tmp_path, playwright=playwright)


def and_wait(page: Any, action: Callable[[], None]) -> None:
    """Do what loads the next document (a click on a button that posts, a reload), then wait until it
    has replaced this one, which is marked stale first: some engines' drivers return before that."""
    page.call("() => { document.body.dataset.stale = 'yes'; }")
    action()
    page.wait_for("body:not([data-stale])")


def send_and_wait(page: Any, css: str) -> None:
    and_wait(page, lambda: page.click(css))


CONFIRM_BUTTON = "main button[type=submit]:not([formaction])"


@pytest.mark.parametrize("engine", ENGINES)
def test_too_many_codes_tried_leave_no_button_that_cannot_work(
    engine: Engine, site: dict[str, str], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    with engine_page(engine, tmp_path, request) as page:
        page.goto(f"{site['codes']}/signup")
        page.fill("input[name=username]", new_email())
        page.fill("input[name=password]", PASSWORD)
        page.fill("input[name=given_name]", "Ann")
        page.select("select[name=custom_plan]", "team")
        send_and_wait(page, "main form button[type=submit]")
        page.wait_for("h1", "Confirm your account")
        for _ in range(4):  # three a hour are allowed
            page.fill("input[name=code]", WRONG_CODE)
            send_and_wait(page, CONFIRM_BUTTON)
        for _ in range(2):  # and after a reload the page agrees with itself: still waiting
            page.wait_for("#locked", "You can try again in")
            assert "you can still ask for a new code" in page.text("#locked")
            assert page.call(f"() => document.querySelector({CONFIRM_BUTTON!r}).disabled") is True
            and_wait(page, page.reload)


# 4. Back and reload after an error and after a wrong code, in every engine.


ERROR_PAGES = re.compile(r"^(chrome-error|about:neterror|about:blank)")


@pytest.mark.parametrize("engine", ENGINES)
def test_back_and_reload_after_errors_never_meet_a_browser_error_page(
    engine: Engine, site: dict[str, str], pool: emulator.LocalPool, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    email = new_email()
    with engine_page(engine, tmp_path, request) as page:
        page.goto(f"{site['app']}/signup")
        page.fill("input[name=username]", email)
        page.click("main form button[type=submit]")  # refused: a required field left empty
        page.wait_for("#error-summary", "Enter your first name.")
        page.reload()  # a page shown with GET: reloading it asks nothing and shows the same
        page.wait_for("#error-summary", "Enter your first name.")
        page.fill("input[name=password]", PASSWORD)
        page.fill("input[name=given_name]", "Ann")
        page.select("select[name=custom_plan]", "team")
        page.click("main form button[type=submit]")
        page.wait_for("h1", "Confirm your account")
        page.fill("input[name=code]", WRONG_CODE)
        page.click("main button[type=submit]:not([formaction])")
        page.wait_for("#code-error-1", "That code is not right")
        page.fill("input[name=code]", emulator.LOCAL_CODE)
        page.click("main button[type=submit]:not([formaction])")
        page.wait_for("h1", "Your account is ready")
        for shown in ("That code is not right", "We sent a code by email"):  # Back, and Back again
            page.back()
            page.wait_for("main", shown)
            assert not ERROR_PAGES.match(str(page.evaluate("location.href")))
    assert status(pool, email) == "CONFIRMED"


# 5. Switching language keeps everything typed and the errors; the switcher is at the top.


@pytest.mark.parametrize("engine", ENGINES)
def test_switching_language_keeps_what_was_typed_and_what_was_wrong(
    engine: Engine, site: dict[str, str], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    email = new_email()
    with engine_page(engine, tmp_path, request) as page:
        page.goto(f"{site['app']}/signup")
        page.fill("input[name=username]", email)
        page.fill("input[name=custom_company]", "Ann & Co")
        page.click("nav.languages button[value=de]")  # nothing sent yet: only kept
        page.wait_for("h1", "Erstellen Sie Ihr Konto")
        assert page.call("() => document.querySelector('input[name=custom_company]').value") == "Ann & Co"
        page.click("main form button[type=submit]")  # refused, in German
        page.wait_for("#error-summary", "Geben Sie Ihren Vornamen ein.")
        page.click("nav.languages button[value=es]")
        page.wait_for("#error-summary", "Escribe tu nombre.")  # the errors, now in Spanish
        assert page.call("() => document.querySelector('input[name=username]').value") == email
        # At the top: before the form, not after it.
        assert page.call(
            "() => document.querySelector('nav.languages').compareDocumentPosition(document.querySelector('main'))"
            " & Node.DOCUMENT_POSITION_FOLLOWING"
        )


# 6. The password is kept in the browser when the form comes back, never in the page.


def test_a_form_refused_for_another_field_keeps_the_password_in_the_browser_only(
    tab: Any, site: dict[str, str], pool: emulator.LocalPool
) -> None:
    email = new_email()
    tab.goto(f"{site['app']}/signup")
    fill_form(tab, email, **{"First name": ""})
    answers: list[str] = []
    tab.on(
        "response",
        lambda response: (
            answers.append(response.text()) if "text/html" in response.headers.get("content-type", "") else None
        ),
    )
    create_account(tab)
    expect(tab.locator("#given_name-error-1")).to_be_visible()
    expect(tab.get_by_label("Password", exact=True)).to_have_value(PASSWORD)  # put back by the page script
    assert answers and not any(PASSWORD in answer for answer in answers)  # never in a page
    assert PASSWORD not in tab.url
    tab.get_by_label("First name", exact=True).fill("Ann")
    create_account(tab)
    enter_code(tab, emulator.LOCAL_CODE)
    expect(tab.get_by_role("heading", name="Your account is ready")).to_be_visible()
    assert status(pool, email) == "CONFIRMED"


# 7. A symbol outside Cognito's list: the checklist and the server agree, and say which count.


def test_a_symbol_cognito_does_not_count_is_explained(tab: Any, site: dict[str, str]) -> None:
    tab.goto(f"{site['app']}/signup")
    fill_form(tab, new_email(), Password="CorrectHorse9€")  # € is not one of them
    expect(tab.locator("#password-checklist li[data-rule=symbol]")).not_to_have_class(re.compile("met"))
    create_account(tab)
    expect(tab.locator("#password-error-1")).to_contain_text("a symbol, one of ^ $ * .")
    expect(tab.locator("#password-error-1")).not_to_contain_text("such as")


# 8. A password manager fills and sends the form at once.


def test_a_form_filled_and_sent_at_once_goes_through(tab: Any, site: dict[str, str], pool: emulator.LocalPool) -> None:
    email = new_email()
    tab.goto(f"{site['people']}/signup")  # the time to fill as in production: one second
    fill_form(tab, email)
    create_account(tab)  # well under a second after the page came
    expect(tab.get_by_role("heading", name="Confirm your account")).to_be_visible()
    assert status(pool, email) == "UNCONFIRMED"


# 9. The code email in the person's language: what a CustomMessage trigger is given.


def test_the_calls_that_send_a_code_say_the_pages_language_and_where_the_code_goes(
    tab: Any, site: dict[str, str], proxy: RecordingProxy
) -> None:
    tab.goto(f"{site['recorded']}/signup?lang=de")
    tab.get_by_label("E-Mail-Adresse").fill(new_email())
    tab.get_by_label("Passwort", exact=True).fill(PASSWORD)
    tab.get_by_label("Vorname").fill("Anna")
    tab.get_by_label("Tarif").select_option("team")
    tab.get_by_role("button", name="Konto erstellen").click()
    tab.get_by_role("button", name="Neuen Code senden").click()
    expect(tab.get_by_text("Wir haben Ihnen einen neuen Code gesendet.")).to_be_visible()
    sent = [body for operation, body in proxy.requests if operation in ("SignUp", "ResendConfirmationCode")]
    assert len(sent) >= 2
    for body in sent[-2:]:
        metadata = body["ClientMetadata"]
        assert metadata["lang"] == "de"
        # A page a person who opens the email elsewhere can finish on: the returning one, in German.
        assert metadata["code_page_url"].startswith(f"{site['recorded']}/signup/confirm?flow=")
        assert "lang=de" in metadata["code_page_url"]


# 10 and 11. "Change it" brings the form back filled in; too long is said, never cut.


def test_changing_the_address_brings_the_form_back_filled_in(tab: Any, site: dict[str, str]) -> None:
    tab.goto(f"{site['app']}/signup")
    fill_form(tab, "typo@exmaple.com")
    create_account(tab)
    tab.get_by_role("link", name="Not your email address? Change it").click()
    expect(tab.get_by_label("Email address")).to_have_value("typo@exmaple.com")
    expect(tab.get_by_label("Company")).to_have_value("Ann & Co")
    expect(tab.get_by_label("Plan")).to_have_value("team")


def test_an_over_long_answer_is_counted_and_refused_never_cut(tab: Any, site: dict[str, str]) -> None:
    tab.goto(f"{site['app']}/signup")
    company = tab.get_by_label("Company")
    assert company.get_attribute("maxlength") is None  # nothing cut as it is typed or pasted
    fill_form(tab, new_email(), Company="x" * 80)
    expect(tab.locator("#custom_company-count")).to_have_text("You have 16 characters too many.")
    create_account(tab)
    expect(tab.locator("#custom_company-error-1")).to_contain_text("You have 16 characters too many.")
    expect(company).to_have_value("x" * 80)


# 12. Ways on for a person with an account, and after the account is ready.


def test_the_form_and_the_done_page_always_name_the_way_on(tab: Any, site: dict[str, str]) -> None:
    tab.goto(f"{site['app']}/signup")
    expect(
        tab.locator("main p").filter(has_text="Already have an account?").get_by_role("link", name="Sign in")
    ).to_have_attribute("href", "https://www.example.com/sign-in")
    expect(tab.get_by_role("link", name="Forgot your password?")).to_be_visible()
    tab.goto(f"{site['plain']}/signup")  # a site that set no sign-in: the done page still says what next
    fill_form(tab, new_email())
    create_account(tab)
    enter_code(tab, emulator.LOCAL_CODE)
    expect(tab.get_by_text("You can now sign in where you started, with your password.")).to_be_visible()


# 13. What a screen reader meets.


def test_what_a_screen_reader_meets(tab: Any, site: dict[str, str]) -> None:
    tab.goto(f"{site['app']}/signup")
    toggles = tab.get_by_role("button", name="Show password")
    expect(toggles).to_have_count(1)
    toggles.click()
    expect(toggles).to_have_attribute("aria-pressed", "true")  # pressed, and still "Show password"
    item = tab.locator("#password-checklist li[data-rule=symbol]")
    expect(item).to_contain_text("not yet")  # the state as words
    assert tab.evaluate(
        "getComputedStyle(document.querySelector('#password-checklist li'), '::before').content"
    ).endswith('""')
    create_account(tab)
    summary = tab.locator("#error-summary")
    expect(summary).to_be_focused()  # announced by taking focus, once: it is not also an alert
    assert summary.get_attribute("role") is None


# 14. The phone number the messages give as an example is one the app accepts.


def test_the_phone_example_signs_up(tab: Any, cognito_endpoint: str, tmp_path: Path) -> None:
    declaration = tmp_path / "phone.toml"
    declaration.write_text('username = "phone_number"\n')
    pool = emulator.provision(cognito_endpoint, load_declaration(declaration), name=f"phone{secrets.token_hex(3)}")
    with gunicorn(base_env(**pool.environment(), SIGNUP_CONFIG=str(declaration)), tmp_path / "phone.log") as port:
        tab.goto(f"http://localhost:{port}/signup")
        tab.get_by_label("Phone number").fill("12")
        tab.get_by_label("Password", exact=True).fill(PASSWORD)
        create_account(tab)
        example = re.search(r"like (\+[\d ]+)\.", tab.locator("#error-summary").inner_text())
        assert example, "the message gives no example"
        tab.get_by_label("Phone number").fill(example.group(1))
        tab.get_by_label("Password", exact=True).fill(PASSWORD)
        create_account(tab)
        enter_code(tab, emulator.LOCAL_CODE)
        expect(tab.get_by_role("heading", name="Your account is ready")).to_be_visible()
    assert status(pool, "+" + re.sub(r"\D", "", example.group(1))) == "CONFIRMED"
