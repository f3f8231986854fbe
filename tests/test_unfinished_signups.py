"""Unfinished sign-ups, against the local Cognito: the person who started one can always finish it,
and nobody ever confirms an account whose password somebody else chose (pre-account takeover).

The attack: somebody signs up with bob@x and a password of their own, and never confirms. Whatever
Bob then does, with existing accounts hidden or named, with or without SIGNUP_REPLACE_UNCONFIRMED,
no page tells him his account is ready while the attacker's password opens it, and at the end of
every path the attacker's password opens nothing.
"""

from __future__ import annotations

import html
import re
import secrets
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app import create_app
from app.aws.cognito import secret_hash
from local import emulator

from .conftest import (
    SIGNUP,
    StrictStubber,
    app_with,
    base_env,
    csrf_token,
    form_action,
    password_opens,
    sign_in_with_password,
    submit,
    text,
    without_tokens,
)
from .servers import LoopbackClient, gunicorn, redis_server

BOB = "bob@example.com"
ATTACKER_PASSWORD = "Attacker-Chose-1"
BOB_PASSWORD = "Bobs-Own-Secret-2"
BOB_NEW_PASSWORD = "Bobs-Next-Secret-3"
READY = "Your account is ready"
SIGN_IN_URL = "https://www.example.com/sign-in"


@pytest.fixture
def admin_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local Cognito's admin key, as an operator's IAM credentials would be in production."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")


def make_app(pool: emulator.LocalPool, *, hide: bool = False, replace: bool = False, **env: str) -> Any:
    settings = {**pool.environment(), "SIGNUP_SIGN_IN_URL": SIGN_IN_URL, **env}
    if hide:
        settings["SIGNUP_HIDE_EXISTING_USERS"] = "1"
    if replace:
        settings["SIGNUP_REPLACE_UNCONFIRMED"] = "1"
    app = create_app(base_env(**settings))
    app.config["TESTING"] = True
    return app


def signup_data(email: str, password: str, **more: str) -> dict[str, str]:
    return {**SIGNUP, "username": email, "password": password, "password_confirm": password, **more}


def status_of(pool: emulator.LocalPool, username: str) -> str | None:
    admin = emulator.admin_client(pool.endpoint)
    try:
        return str(admin.admin_get_user(UserPoolId=pool.pool_id, Username=username)["UserStatus"])
    except admin.exceptions.UserNotFoundException:
        return None


def links(page: str) -> dict[str, str]:
    """The page's links by their text (the app's own pages only)."""
    found = {}
    for href, label in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', page, re.S):
        found[html.unescape(re.sub(r"<[^>]+>|\s+", " ", label)).strip()] = html.unescape(href)
    return found


class Person:
    """One browser: it follows redirects itself and checks, on every page it is shown, that "ready"
    is never said while the attacker's password opens the account."""

    def __init__(self, app: Any, pool: emulator.LocalPool, username: str) -> None:
        self.client = app.test_client()
        self.pool = pool
        self.username = username
        self.pages: list[str] = []

    def show(self, response: Any) -> Any:
        while response.status_code in (302, 303):
            location = response.headers["Location"]
            if not location.startswith("/"):
                return response  # off to the site: the flow ended
            response = self.client.get(location)
        page = text(response)
        self.pages.append(page)
        self.html = response.get_data(as_text=True)
        if READY in page:
            assert not password_opens(self.pool, self.username, ATTACKER_PASSWORD), "ready with the attacker's password"
        return response

    def get(self, address: str) -> Any:
        return self.show(self.client.get(address))

    def post(self, page: str, data: dict[str, str], *, resend: bool = False) -> Any:
        """Send the form of `page` (the last page shown) as a browser does."""
        return self.show(self.client.post(form_action(page, resend), data={"csrf_token": csrf_token(page), **data}))

    @property
    def page(self) -> str:
        return self.pages[-1]


def attacker_squats(app: Any, email: str = BOB) -> None:
    """A sign-up with the victim's address and the attacker's password, never confirmed."""
    response = submit(app.test_client(), "/signup", signup_data(email, ATTACKER_PASSWORD, given_name="Mallory"))
    assert response.status_code == 302


MODES = [
    pytest.param((False, False), id="named"),
    pytest.param((True, False), id="hidden"),
    pytest.param((False, True), id="named-replace"),
    pytest.param((True, True), id="hidden-replace"),
]


@pytest.fixture
def squatted(request: pytest.FixtureRequest, local_pool: emulator.LocalPool) -> Iterator[tuple[Any, bool]]:
    hide, replace = request.param
    if replace:
        request.getfixturevalue("admin_credentials")
    app = make_app(local_pool, hide=hide, replace=replace)
    attacker_squats(app)
    yield app, replace


@pytest.mark.parametrize("squatted", MODES, indirect=True)
def test_the_victim_who_signs_up_and_enters_every_code_never_gets_the_attackers_password(
    squatted: tuple[Any, bool], local_pool: emulator.LocalPool
) -> None:
    app, replace = squatted
    bob = Person(app, local_pool, BOB)
    bob.get("/signup")
    bob.post(bob.page, signup_data(BOB, BOB_PASSWORD))
    if 'name="code"' in bob.page:  # a code page: ask for a new code, then enter it
        bob.post(bob.page, {}, resend=True)
        bob.post(bob.page, {"code": emulator.LOCAL_CODE})
    assert not password_opens(local_pool, BOB, ATTACKER_PASSWORD)
    if replace:  # the squatter's account was replaced by Bob's own
        assert READY in bob.page
        assert password_opens(local_pool, BOB, BOB_PASSWORD)
    else:
        assert READY not in bob.page
        assert status_of(local_pool, BOB) == "UNCONFIRMED"


@pytest.mark.parametrize("squatted", MODES, indirect=True)
def test_the_victim_who_finishes_the_sign_up_someone_started_ends_with_a_password_of_his_own(
    squatted: tuple[Any, bool], local_pool: emulator.LocalPool
) -> None:
    app, _ = squatted
    bob = Person(app, local_pool, BOB)
    bob.get("/signup")
    bob.post(bob.page, signup_data(BOB, BOB_PASSWORD))
    # Whatever the page is (a code page, or "already exists"), it leads on to finishing a sign-up.
    finish = next(href for label, href in links(bob.page).items() if label.startswith("Finish"))
    bob.get(finish)
    assert "keeps the password chosen" in bob.page  # said before anything is confirmed
    if 'name="username"' in bob.page:
        bob.post(bob.page, {"username": BOB}, resend=True)
    else:
        bob.post(bob.page, {}, resend=True)
    bob.post(bob.page, {"code": emulator.LOCAL_CODE, **({"username": BOB} if 'name="username"' in bob.page else {})})
    if status_of(local_pool, BOB) == "CONFIRMED" and READY not in bob.page:
        # Confirmed with a password somebody chose: the next page asks for one of his own first.
        assert "Choose a new password" in bob.page
        assert not password_opens(local_pool, BOB, BOB_NEW_PASSWORD)
        bob.post(bob.page, {"code": emulator.LOCAL_RESET_CODE, "password": BOB_NEW_PASSWORD})
        assert READY in bob.page
        assert password_opens(local_pool, BOB, BOB_NEW_PASSWORD)
    assert READY in bob.page
    assert not password_opens(local_pool, BOB, ATTACKER_PASSWORD)


def test_forgot_your_password_on_an_unfinished_sign_up_finishes_it_with_a_password_of_ones_own(
    stubber: StrictStubber,
) -> None:
    """Cognito sends no reset code to an unconfirmed account (its address is not verified); the local
    Cognito does, so Cognito's answers are stubbed here."""
    delivery = {
        "CodeDeliveryDetails": {"Destination": "b***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}
    }
    not_verified = "Cannot reset password for the user as there is no registered/verified email or phone_number"
    stubber.add_client_error("forgot_password", "InvalidParameterException", not_verified)
    stubber.add_response("resend_confirmation_code", delivery)
    stubber.add_response("confirm_sign_up", {})
    stubber.add_response("forgot_password", delivery)
    stubber.add_response("confirm_forgot_password", {})
    stubber.add_response("initiate_auth", {"AuthenticationResult": {"AccessToken": "new-access-token"}})
    stubber.add_response("global_sign_out", {}, expected_params={"AccessToken": "new-access-token"})
    client = app_with(stubber, SIGNUP_SIGN_IN_URL=SIGN_IN_URL).test_client()
    code_page = submit(client, "/signup/forgot", {"username": BOB}).headers["Location"]
    page = text(client.get(code_page))
    assert "sign-up was never finished, so we sent you a code to finish it" in page
    assert "keeps the password chosen" in page  # said before anything is confirmed
    password_page = submit(client, code_page, {"code": emulator.LOCAL_CODE}).headers["Location"]
    assert password_page.startswith("/signup/password?flow=")
    assert READY not in text(client.get(password_page))
    done = submit(client, password_page, {"code": emulator.LOCAL_RESET_CODE, "password": BOB_NEW_PASSWORD})
    assert READY in text(client.get(done.headers["Location"]))  # every other session signed out first


def test_forgot_your_password_for_an_unknown_address_says_so_and_offers_to_sign_up(
    local_pool: emulator.LocalPool,
) -> None:
    app = make_app(local_pool)
    nobody = Person(app, local_pool, "nobody@example.com")
    nobody.get("/signup/forgot")
    answer = nobody.post(nobody.page, {"username": "nobody@example.com"})
    assert answer.status_code == 422
    assert "We found no account with this email address. Check it, or sign up again." in nobody.page
    assert links(nobody.page)["No account yet? Create one"].startswith("/signup")


def sub_of(pool: emulator.LocalPool, username: str) -> str:
    attributes = emulator.admin_client(pool.endpoint).admin_get_user(UserPoolId=pool.pool_id, Username=username)
    return next(a["Value"] for a in attributes["UserAttributes"] if a["Name"] == "sub")


def session_lives(pool: emulator.LocalPool, tokens: dict[str, str]) -> dict[str, bool]:
    """Whether the session's access token still reads the account, and its refresh token still renews it."""
    admin = emulator.admin_client(pool.endpoint)
    alive = {}
    try:
        admin.get_user(AccessToken=tokens["AccessToken"])
        alive["access"] = True
    except admin.exceptions.ClientError:
        alive["access"] = False
    try:
        admin.admin_initiate_auth(
            UserPoolId=pool.pool_id,
            ClientId=pool.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            # For a refresh, the hash is of the account's sub, not of what the person typed.
            AuthParameters={
                "REFRESH_TOKEN": tokens["RefreshToken"],
                "SECRET_HASH": secret_hash(pool.client_secret, sub_of(pool, BOB), pool.client_id),
            },
        )
        alive["refresh"] = True
    except admin.exceptions.ClientError:
        alive["refresh"] = False
    return alive


@pytest.mark.parametrize("admin", [False, True], ids=["own-password", "admin-calls"])
def test_the_attackers_sessions_end_when_the_owner_sets_a_password_of_his_own(
    admin: bool, local_pool: emulator.LocalPool, request: pytest.FixtureRequest
) -> None:
    """Confirming keeps the first password until the owner chooses his own: a session the attacker
    opened meanwhile, refresh token included, ends with it (GlobalSignOut with the owner's new
    session, or AdminUserGlobalSignOut where the app has the admin calls)."""
    if admin:
        request.getfixturevalue("admin_credentials")
    app = make_app(local_pool, replace=admin)
    attacker_squats(app)
    bob = Person(app, local_pool, BOB)
    bob.get("/signup/confirm")
    bob.post(bob.page, {"username": BOB}, resend=True)
    bob.post(bob.page, {"code": emulator.LOCAL_CODE})
    assert "Choose a new password" in bob.page
    attackers = sign_in_with_password(local_pool, BOB, ATTACKER_PASSWORD)  # confirmed, with the attacker's password
    assert attackers is not None
    assert session_lives(local_pool, attackers) == {"access": True, "refresh": True}
    bob.post(bob.page, {"code": emulator.LOCAL_RESET_CODE, "password": BOB_NEW_PASSWORD})
    assert READY in bob.page
    assert session_lives(local_pool, attackers) == {"access": False, "refresh": False}


def test_with_hiding_the_code_page_of_a_taken_address_confirms_nothing(local_pool: emulator.LocalPool) -> None:
    app = make_app(local_pool, hide=True)
    attacker_squats(app)
    bob = Person(app, local_pool, BOB)
    bob.get("/signup")
    bob.post(bob.page, signup_data(BOB, BOB_PASSWORD))
    assert "We sent a code by email to bob@example.com." in bob.page
    sent = emulator_messages(local_pool)
    bob.post(bob.page, {}, resend=True)
    assert "We sent you a new code." in bob.page
    assert emulator_messages(local_pool) == sent  # nothing reached the address
    bob.post(bob.page, {"code": emulator.LOCAL_CODE})
    assert "That code is not right." in bob.page
    assert status_of(local_pool, BOB) == "UNCONFIRMED"
    assert {"Sign in", "Forgot your password?", "Finish that sign-up"} <= set(links(bob.page))


def emulator_messages(pool: emulator.LocalPool) -> int:
    import json  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    with urllib.request.urlopen(f"{pool.endpoint}/_ministack/ses/messages", timeout=5) as answer:
        return len(json.load(answer).get("messages", []))


# --- The person who started the sign-up finishes it ---------------------------------------------


@pytest.mark.parametrize("replace", [False, True], ids=["keep", "replace"])
def test_back_and_send_again_reaches_the_code_page_of_the_same_account(
    replace: bool, local_pool: emulator.LocalPool, request: pytest.FixtureRequest
) -> None:
    if replace:
        request.getfixturevalue("admin_credentials")
    app = make_app(local_pool, replace=replace)
    ann = Person(app, local_pool, "ann@example.com")
    form = text(ann.client.get("/signup"))
    ann.post(form, signup_data("ann@example.com", "First-Password-1"))
    assert 'name="code"' in ann.page
    # Back: the same page, with the same form token; a typo fixed, the password typed again.
    ann.post(form, signup_data("ann@example.com", "Second-Password-2", given_name="Anne"))
    assert 'name="code"' in ann.page, ann.page
    ann.post(ann.page, {"code": emulator.LOCAL_CODE})
    assert READY in ann.page
    kept = "Second-Password-2" if replace else "First-Password-1"
    assert password_opens(local_pool, "ann@example.com", kept)


@pytest.mark.parametrize("replace", [False, True], ids=["keep", "replace"])
def test_sending_the_form_twice_reaches_the_code_page_both_times(
    replace: bool, local_pool: emulator.LocalPool, request: pytest.FixtureRequest
) -> None:
    if replace:
        request.getfixturevalue("admin_credentials")
    app = make_app(local_pool, replace=replace)
    client = app.test_client()
    form = text(client.get("/signup"))
    data = {"csrf_token": csrf_token(form), **signup_data("ann@example.com", "First-Password-1")}
    first, second = client.post("/signup", data=data), client.post("/signup", data=data)
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"].startswith("/signup/confirm?flow=")
    done = submit(client, second.headers["Location"], {"code": emulator.LOCAL_CODE})
    assert done.headers["Location"].startswith("/signup/done")
    assert status_of(local_pool, "ann@example.com") == "CONFIRMED"


def test_a_form_sent_again_to_another_instance_resumes_the_same_account_through_redis(
    local_pool: emulator.LocalPool, tmp_path: Path
) -> None:
    """Behind a load balancer the second post of a form may reach another instance: the form ledger
    lives in the shared rate-limit store, so that instance resumes the account the first created."""
    with redis_server(tmp_path / "redis") as redis_port:
        env = base_env(**local_pool.environment(), SIGNUP_RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{redis_port}/0")
        with gunicorn(env, tmp_path / "a.log") as a, gunicorn(env, tmp_path / "b.log") as b:
            one, other = (LoopbackClient(f"http://127.0.0.1:{port}", "127.0.0.8") for port in (a, b))
            _, _, form = one.request("GET", "/signup")
            sent = {"csrf_token": csrf_token(form), **signup_data(BOB, BOB_PASSWORD)}
            first, _, _ = one.request("POST", form_action(form), sent)
            again, headers, _ = other.request("POST", form_action(form), sent)
            assert (first, again) == (302, 302)
            _, _, page = other.request("GET", headers["Location"])
            assert "You had sent this form before" in html.unescape(page)
            refused, _, page = other.request(
                "POST", form_action(form), {**sent, **signup_data("eve@example.com", "Pass-Word-1")}
            )
            assert refused == 422 and "This form was already used to create an account." in html.unescape(page)
    assert status_of(local_pool, "eve@example.com") is None


def test_one_form_never_creates_a_second_different_account(local_pool: emulator.LocalPool) -> None:
    app = make_app(local_pool)
    client = app.test_client()
    token = csrf_token(text(client.get("/signup")))
    first = client.post("/signup", data={"csrf_token": token, **signup_data("one@example.com", "Pass-Word-1")})
    assert first.status_code == 302
    other = client.post("/signup", data={"csrf_token": token, **signup_data("two@example.com", "Pass-Word-1")})
    assert other.status_code == 422
    page = text(other)
    assert "This form was already used to create an account." in page
    assert 'value="two@example.com"' in page and csrf_token(page) != token  # kept, with a fresh form
    assert status_of(local_pool, "two@example.com") is None
    fresh = csrf_token(page)
    again = client.post("/signup", data={"csrf_token": fresh, **signup_data("two@example.com", "Pass-Word-1")})
    assert again.status_code == 302 and status_of(local_pool, "two@example.com") == "UNCONFIRMED"


@pytest.mark.parametrize("replace", [False, True], ids=["keep", "replace"])
def test_another_device_the_next_day_in_other_letter_case_finishes_the_sign_up(
    replace: bool, local_pool: emulator.LocalPool, request: pytest.FixtureRequest
) -> None:
    if replace:
        request.getfixturevalue("admin_credentials")
    app = make_app(local_pool, replace=replace)
    submit(app.test_client(), "/signup", signup_data("Ann.Cap@Example.org", "First-Password-1"))
    assert status_of(local_pool, "ann.cap@example.org") == "UNCONFIRMED"  # one canonical form

    later = Person(app, local_pool, "ann.cap@example.org")  # another browser, the next day
    later.get("/signup")
    later.post(later.page, signup_data("ann.cap@example.org", "Second-Password-2"))
    if replace:
        assert 'name="code"' in later.page
        later.post(later.page, {"code": emulator.LOCAL_CODE})
        final = "Second-Password-2"
    else:
        assert "An account with this email address already exists." in later.page
        later.get(links(later.page)["Finish a sign-up you started"])
        assert "ann.cap@example.org" in later.page  # it names the account: not an empty form
        later.post(later.page, {}, resend=True)
        later.post(later.page, {"code": emulator.LOCAL_CODE})
        assert "Choose a new password" in later.page
        third = "Third-Password-3"
        later.post(later.page, {"code": emulator.LOCAL_RESET_CODE, "password": third, "password_confirm": third})
        final = "Third-Password-3"
    assert READY in later.page
    assert status_of(local_pool, "ann.cap@example.org") == "CONFIRMED"
    assert password_opens(local_pool, "ann.cap@example.org", final)


def test_a_returning_person_in_other_letter_case_is_found(local_pool: emulator.LocalPool) -> None:
    app = make_app(local_pool)
    submit(app.test_client(), "/signup", signup_data("Ann.Cap@Example.org", "First-Password-1"))
    sent = submit(app.test_client(), "/signup/confirm", {"username": "ANN.CAP@example.org"}, resend=True)
    assert sent.status_code == 302 and sent.headers["Location"].startswith("/signup/confirm?flow=")


def test_replacing_never_touches_a_confirmed_account(local_pool: emulator.LocalPool, admin_credentials: None) -> None:
    app = make_app(local_pool, replace=True)
    ann = Person(app, local_pool, "ann@example.com")
    ann.get("/signup")
    ann.post(ann.page, signup_data("ann@example.com", "First-Password-1"))
    ann.post(ann.page, {"code": emulator.LOCAL_CODE})
    again = submit(app.test_client(), "/signup", signup_data("ann@example.com", "Other-Password-2"))
    assert again.status_code == 422 and "already exists" in text(again)
    assert password_opens(local_pool, "ann@example.com", "First-Password-1")


def test_a_code_page_whose_account_was_replaced_since_says_so(
    local_pool: emulator.LocalPool, admin_credentials: None
) -> None:
    # Bob's code page, then somebody replaces his unconfirmed account with one of their own: the
    # code Bob then receives (for their account) must not confirm it from Bob's page.
    app = make_app(local_pool, replace=True)
    bob = Person(app, local_pool, BOB)
    bob.get("/signup")
    bob.post(bob.page, signup_data(BOB, BOB_PASSWORD))
    attacker_squats(app)
    bob.post(bob.page, {"code": emulator.LOCAL_CODE})
    assert READY not in bob.page
    assert "newer sign-up" in bob.page
    assert status_of(local_pool, BOB) == "UNCONFIRMED"


# --- The embedding page hears "confirmed" only after a confirmation of this flow ------------------


def parent_messages(page: str) -> list[dict[str, Any]]:
    import json  # noqa: PLC0415

    match = re.search(r'data-parent-messages="([^"]*)"', page)  # the page as sent, entities and all
    return json.loads(html.unescape(match.group(1))) if match else []


def test_a_code_for_an_account_confirmed_elsewhere_tells_the_embedding_page_nothing(
    local_pool: emulator.LocalPool,
) -> None:
    app = make_app(local_pool, SIGNUP_FRAME_ANCESTORS="https://www.example.com")
    ann = Person(app, local_pool, "ann@example.com")
    ann.get("/signup")
    ann.post(ann.page, signup_data("ann@example.com", "First-Password-1"))
    code_page = ann.page
    admin = emulator.admin_client(local_pool.endpoint)
    admin.admin_confirm_sign_up(UserPoolId=local_pool.pool_id, Username="ann@example.com")  # in another tab
    ann.post(code_page, {"code": "000000"})
    assert READY not in ann.page
    assert "already confirmed" in ann.page
    assert not any(m.get("type") == "confirmed" for m in parent_messages(ann.html))


def test_the_embedding_page_hears_confirmed_once_the_flow_confirmed_the_account(local_pool: emulator.LocalPool) -> None:
    app = make_app(local_pool, SIGNUP_FRAME_ANCESTORS="https://www.example.com")
    ann = Person(app, local_pool, "ann@example.com")
    ann.get("/signup")
    ann.post(ann.page, signup_data("ann@example.com", "First-Password-1"))
    ann.post(ann.page, {"code": emulator.LOCAL_CODE})
    assert [m["type"] for m in parent_messages(ann.html)] == ["confirmed"]


# --- Hidden accounts look like new ones, on every step ---------------------------------------------


# A new address, one whose sign-up was started and never confirmed, one confirmed: as long as each other.
HIDDEN = ("new@example.com", "unf@example.com", "fin@example.com")


def existing_accounts(app: Any, pool: emulator.LocalPool) -> None:
    attacker_squats(app, HIDDEN[1])
    person = Person(app, pool, HIDDEN[2])
    person.get("/signup")
    person.post(person.page, signup_data(HIDDEN[2], "First-Password-1"))
    person.post(person.page, {"code": emulator.LOCAL_CODE})
    assert READY in person.page


def shape(client: Any, response: Any) -> tuple[int, int, str]:
    """What an answer shows: its status, the length of the address it leads to, the page (followed) without tokens."""
    location = response.headers.get("Location", "")
    return response.status_code, len(location), without_tokens(text(client.get(location) if location else response))


def same_for_every_address(answers: dict[str, tuple[int, int, str]]) -> None:
    """(status, length of the address it leads to, page without tokens), per address."""
    shapes = {(status, length, page.replace(email, "…")) for email, (status, length, page) in answers.items()}
    assert len(shapes) == 1, answers


@pytest.mark.parametrize("replace", [False, True], ids=["keep", "replace"])
@pytest.mark.parametrize("sign_in", ["none", "immediate"])
def test_hidden_sign_ups_of_new_unconfirmed_and_confirmed_addresses_answer_alike(
    replace: bool, sign_in: str, local_pool: emulator.LocalPool, request: pytest.FixtureRequest
) -> None:
    if replace:
        request.getfixturevalue("admin_credentials")
    env = {"SIGNUP_SIGN_IN": "immediate", "SIGNUP_TOKEN_CALLBACK_URL": "https://www.example.com/tokens"}
    app = make_app(local_pool, hide=True, replace=replace, **(env if sign_in == "immediate" else {}))
    existing_accounts(app, local_pool)
    answers = {}
    for email in HIDDEN:
        client = app.test_client()
        answers[email] = shape(client, submit(client, "/signup", signup_data(email, "Some-Password-1")))
    same_for_every_address(answers)


@pytest.mark.usefixtures("admin_credentials")
def test_hidden_sign_ups_of_new_unconfirmed_and_confirmed_addresses_take_as_long(
    local_pool: emulator.LocalPool,
) -> None:
    """A new address is one Cognito call, a confirmed one two, replacing an unfinished one four: with
    accounts hidden, each answers no sooner than the slowest way usually takes (app.signup.timing)."""
    limits = {"SIGNUP_RATELIMIT_SIGNUP": "1000/hour", "SIGNUP_RATELIMIT_CODES_PER_DESTINATION": "1000/hour"}
    app = make_app(local_pool, hide=True, replace=True, **limits)
    existing_accounts(app, local_pool)
    timings: dict[str, list[float]] = {email: [] for email in HIDDEN}
    for n in range(14):
        for email in HIDDEN:
            typed = email.replace("new@", f"new{n}-{secrets.token_hex(3)}@")  # a new address each time
            client = app.test_client()
            page = client.get("/signup").get_data(as_text=True)
            started = time.perf_counter()
            client.post(form_action(page), data={"csrf_token": csrf_token(page), **signup_data(typed, "Pass-Word-1")})
            timings[email].append(time.perf_counter() - started)
    # The first rounds teach the app each way's time; then the medians differ by noise only.
    medians = [statistics.median(times[4:]) for times in timings.values()]
    assert max(medians) < 1.3 * min(medians), medians


def test_hidden_new_codes_and_wrong_codes_answer_alike_on_every_code_page(local_pool: emulator.LocalPool) -> None:
    app = make_app(local_pool, hide=True)
    existing_accounts(app, local_pool)
    resent, wrong = {}, {}
    for email in HIDDEN:
        client = app.test_client()
        code_page = submit(client, "/signup", signup_data(email, "Some-Password-1")).headers["Location"]
        again = submit(client, code_page, {}, resend=True)
        resent[email] = shape(client, again)
        wrong[email] = shape(client, submit(client, again.headers["Location"], {"code": "000000"}))
    same_for_every_address(resent)
    same_for_every_address(wrong)


def test_hidden_returning_confirmations_answer_alike(local_pool: emulator.LocalPool) -> None:
    app = make_app(local_pool, hide=True)
    existing_accounts(app, local_pool)
    resent, wrong = {}, {}
    for email in HIDDEN:
        client = app.test_client()
        resent[email] = shape(client, submit(client, "/signup/confirm", {"username": email}, resend=True))
        wrong[email] = shape(client, submit(client, "/signup/confirm", {"username": email, "code": "000000"}))
    same_for_every_address(resent)
    same_for_every_address(wrong)


def test_hidden_password_resets_answer_alike_for_new_unconfirmed_and_confirmed_addresses(
    local_pool: emulator.LocalPool,
) -> None:
    app = make_app(local_pool, hide=True)
    existing_accounts(app, local_pool)
    asked, resent, wrong = {}, {}, {}
    for email in HIDDEN:
        client = app.test_client()
        answer = submit(client, "/signup/forgot", {"username": email})
        asked[email] = shape(client, answer)
        again = submit(client, answer.headers["Location"], {}, resend=True)
        resent[email] = shape(client, again)
        attempt = {"code": "000000", "password": "Another-Password-2"}
        wrong[email] = shape(client, submit(client, again.headers["Location"], attempt))
    same_for_every_address(asked)
    same_for_every_address(resent)
    same_for_every_address(wrong)
    assert password_opens(local_pool, HIDDEN[2], "First-Password-1")  # nothing changed
