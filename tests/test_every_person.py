"""Every person gets through: optional fields may stay empty, no page is a dead end, and the words
say what to do in the person's language."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from app import create_app
from app.aws.cognito import Medium, secret_hash
from app.signup.flow import Event, Flow, Kind
from local import emulator

from .conftest import CLIENT_SECRET, ROOT, SIGNUP, StrictStubber, app_with, base_env, submit, text

EVERY_KIND = ROOT / "tests" / "declarations" / "username.toml"
PERSON = {
    "username": "ann",
    "password": "Correct-Horse-9",
    "password_confirm": "Correct-Horse-9",
    "email": "ann@example.com",
}
# The optional fields of EVERY_KIND, filled in, and what Cognito receives for each.
FILLED = {
    "phone_number": ("+44 7911 123456", "+447911123456"),
    "birthdate": ("1990-05-31", "1990-05-31"),
    "custom_team_size": ("12", "12"),
    "custom_started": ("2026-05-31T09:30", "2026-05-31T09:30:00"),
}


def sent_attributes(stubber: StrictStubber, form: dict[str, str]) -> dict[str, str]:
    """The attributes a sign-up with this form sends to Cognito."""
    sent: list[dict[str, Any]] = []
    stubber.client.meta.events.register(
        "provide-client-params.cognito-idp.SignUp", lambda params, **_: sent.append(params)
    )
    stubber.add_response("sign_up", {"UserConfirmed": False, "UserSub": "s"})
    answer = submit(app_with(stubber, SIGNUP_CONFIG=str(EVERY_KIND)).test_client(), "/signup", form)
    assert answer.status_code == 302, text(answer)
    return {a["Name"]: a["Value"] for a in sent[0]["UserAttributes"]}


def test_every_optional_field_left_empty_is_simply_not_sent(stubber: StrictStubber) -> None:
    # Before, an empty optional number or date answered "Enter a whole number, like 12." forever.
    attributes = sent_attributes(stubber, {**PERSON, **dict.fromkeys(FILLED, "")})
    assert attributes == {"email": "ann@example.com", "custom:newsletter": "false"}


@pytest.mark.parametrize("field", sorted(FILLED))
def test_each_optional_field_filled_in_is_sent_in_cognitos_format(stubber: StrictStubber, field: str) -> None:
    typed, sent = FILLED[field]
    attributes = sent_attributes(stubber, {**PERSON, field: typed})
    name = field.replace("custom_", "custom:")
    assert attributes[name] == sent


@pytest.mark.parametrize(
    ("field", "message"),
    [("email", "Enter your email address."), ("username", "Enter a username.")],
)
def test_a_required_field_left_empty_names_itself(stub_app: Any, field: str, message: str) -> None:
    app = create_app(base_env(SIGNUP_CONFIG=str(EVERY_KIND)), cognito_client=object())
    page = text(submit(app.test_client(), "/signup", {**PERSON, field: ""}))
    assert f'<li><a href="#{field}">{message}</a></li>' in page  # the summary says which field


def test_a_sign_up_with_every_optional_field_empty_is_confirmed(flow_app: Any, local_pool: emulator.LocalPool) -> None:
    client = flow_app.test_client()
    code_page = submit(client, "/signup", {**SIGNUP, "custom_company": "", "custom_seats": ""}).headers["Location"]
    assert submit(client, code_page, {"code": emulator.LOCAL_CODE}).status_code == 302
    admin = emulator.admin_client(local_pool.endpoint)
    user = admin.admin_get_user(UserPoolId=local_pool.pool_id, Username="ann@example.com")
    attributes = {a["Name"] for a in user["UserAttributes"]}
    assert user["UserStatus"] == "CONFIRMED"
    assert "custom:seats" not in attributes and "custom:company" not in attributes


def test_optional_fields_say_so_and_numbers_are_typed_as_text(stub_app: Any) -> None:
    page = text(stub_app.test_client().get("/signup"))
    assert '<label for="custom_company">Company <span class="optional">(optional)</span></label>' in page
    assert '<label for="given_name">First name</label>' in page  # required: nothing added
    seats = re.search(r'<input[^>]*name="custom_seats"[^>]*>', page).group(0)
    assert 'type="text"' in seats and 'inputmode="numeric"' in seats  # a mouse wheel cannot change it


def test_choices_and_declared_texts_speak_every_language(stub_app: Any) -> None:
    pages = {lang: text(stub_app.test_client().get(f"/signup?lang={lang}")) for lang in ("en", "de", "es")}
    assert '<option value="free">Free</option>' in pages["en"] or 'value="free">Free' in pages["en"]
    assert "Kostenlos" in pages["de"] and "Gratis" in pages["es"]
    assert "Die Organisation, für die Sie arbeiten" in pages["de"]
    assert "free/team/enterprise" not in pages["de"]


def test_a_plain_label_on_a_standard_attribute_keeps_its_translation(stubber: StrictStubber, tmp_path: Any) -> None:
    declaration = tmp_path / "signup.toml"
    declaration.write_text('username = "email"\n[[attributes]]\nname = "given_name"\nlabel = "Given name"\n')
    app = create_app(base_env(SIGNUP_CONFIG=str(declaration)), cognito_client=stubber.client)
    assert '<label for="given_name">Given name' in text(app.test_client().get("/signup?lang=en"))
    assert '<label for="given_name">Vorname' in text(app.test_client().get("/signup?lang=de"))


def test_a_declared_text_without_a_translation_is_named_at_start_up(
    stubber: StrictStubber, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    declaration = tmp_path / "signup.toml"
    declaration.write_text(
        '[[attributes]]\nname = "custom:org"\nlabel = { en = "Company", de = "Firma" }\n'
        'choices = ["a", { value = "b", label = "Bee" }]\n'
    )
    with caplog.at_level(logging.WARNING):
        create_app(base_env(SIGNUP_CONFIG=str(declaration)), cognito_client=stubber.client)
    assert "custom:org: label has no es text; those pages show 'Company'" in caplog.text
    assert "custom:org: label of choice 'b' has no de/es text" in caplog.text
    assert "custom:org: choices ['a'] have no label" in caplog.text
    with caplog.at_level(logging.WARNING):
        caplog.clear()
        create_app(base_env(), cognito_client=stubber.client)  # the sample declares every language
    assert "without a translation" not in caplog.text


def test_a_taken_username_offers_to_sign_in_reset_the_password_or_finish_the_sign_up(stubber: StrictStubber) -> None:
    for sign_in in (None, "https://shop.example.com/login"):
        stubber.add_client_error("sign_up", "UsernameExistsException", "User already exists")
        app = app_with(stubber, SIGNUP_SIGN_IN_URL=sign_in)
        page = text(submit(app.test_client(), "/signup", SIGNUP))
        assert "An account with this email address already exists." in page
        # Each filled in with the address, sealed (app.signup.flow): never an empty form.
        assert re.search(r'<a href="/signup/forgot\?flow=[^"]+">Forgot your password\?</a>', page)
        assert re.search(r'<a href="/signup/confirm\?flow=[^"]+">Finish a sign-up you started</a>', page)
        assert ('<a href="https://shop.example.com/login" target="_top">Sign in</a>' in page) is bool(sign_in)


def test_the_code_pages_other_links_arrive_filled_in_and_seal_nothing_until_followed(stub_app: Any) -> None:
    """Forgot your password?, Finish that sign-up and Change it carry the page's own sealed flow to
    /signup/onward, which seals what each needs when it is followed, keeping the language."""
    flow = Flow("ann@example.com", "ann@example.com", Medium.EMAIL, kind=Kind.CREATED, form={"given_name": ["Ann"]})
    client = stub_app.test_client()
    page = text(client.get(f"/signup/confirm?flow={stub_app.extensions['signup'].flows.seal(flow)}&lang=de"))
    hrefs = [href.replace("&amp;", "&") for href in re.findall(r'href="(/signup/onward\?[^"]+)"', page)]
    onward = {re.search(r"&to=(\w+)$", href).group(1): href for href in hrefs}
    assert set(onward) == {"forgot", "finish", "change"}
    places = {to: client.get(address).headers["Location"] for to, address in onward.items()}
    assert re.fullmatch(r"/signup/forgot\?flow=[\w-]+&lang=de", places["forgot"])
    assert 'value="ann@example.com"' in text(client.get(places["forgot"]))
    assert re.fullmatch(r"/signup/confirm\?flow=[\w-]+&lang=de", places["finish"])
    assert "ann@example.com" in text(client.get(places["finish"]))  # the returning page, for Ann
    assert re.fullmatch(r"/signup\?draft=[\w-]+&lang=de", places["change"])
    assert 'value="Ann"' in text(client.get(places["change"]))
    # A forged flow leads to the empty pages; an unknown destination is not a page.
    assert client.get("/signup/onward?flow=forged&to=forgot").headers["Location"] == "/signup/forgot"
    assert client.get("/signup/onward?flow=forged&to=change").headers["Location"] == "/signup"
    assert client.get(onward["forgot"].replace("to=forgot", "to=elsewhere")).status_code == 404


def test_the_forgot_page_offers_to_sign_in_to_whoever_remembers_the_password(stubber: StrictStubber) -> None:
    for sign_in in (None, "https://shop.example.com/login"):
        page = text(app_with(stubber, SIGNUP_SIGN_IN_URL=sign_in).test_client().get("/signup/forgot"))
        assert ("Remembered your password?" in page) is bool(sign_in)
        assert ('<a href="https://shop.example.com/login" target="_top">Sign in</a>' in page) is bool(sign_in)
        assert '<a href="/signup">No account yet? Create one</a>' in page


def test_without_a_sign_in_the_operator_is_told_at_start_up(caplog: pytest.LogCaptureFixture) -> None:
    """No sign-in address and no hand-off: the pages can only say "sign in where you started", so
    the operator hears of it once, when the app starts."""
    for env, warned in (({}, True), ({"SIGNUP_SIGN_IN_URL": "https://shop.example.com/login"}, False)):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            create_app(base_env(**env))
        assert ("Neither SIGNUP_SIGN_IN_URL nor the hand-off to Managed Login" in caplog.text) is warned


def test_the_done_page_offers_to_sign_in_in_the_top_window(stubber: StrictStubber) -> None:
    app = app_with(stubber, SIGNUP_SIGN_IN_URL="https://shop.example.com/login")
    token = app.extensions["signup"].flows.seal(Flow("ann@example.com", event=Event.CONFIRMED, kind=Kind.READY))
    page = text(app.test_client().get(f"/signup/done?flow={token}"))
    assert "Your account is confirmed. You can now sign in." in page
    assert 'href="https://shop.example.com/login" target="_top">Sign in</a>' in page
    without = text(app_with(stubber).test_client().get(f"/signup/done?flow={token}"))
    assert "You can now sign in." not in without  # no promise without a way to keep it


def test_the_code_page_says_where_the_code_went_and_what_to_do_if_it_does_not_come(stub_app: Any) -> None:
    flow = Flow("ann@example.com", "ann@example.com", Medium.EMAIL, kind=Kind.CREATED)
    page = text(stub_app.test_client().get(f"/signup/confirm?flow={stub_app.extensions['signup'].flows.seal(flow)}"))
    assert "We sent a code by email to ann@example.com." in page
    assert "look in your spam or junk folder" in page and "The code works for 24 hours." in page
    assert ">Not your email address? Change it</a>" in page
    returning = text(stub_app.test_client().get("/signup/confirm"))
    assert "Enter your email address and the code we sent you." in returning
    assert "Enter your username" not in returning


def test_a_failed_page_says_error_first_in_its_title(stubber: StrictStubber) -> None:
    client = app_with(stubber).test_client()
    assert "<title>Sign up</title>" in text(client.get("/signup"))
    assert "<title>Error: Sign up</title>" in text(submit(client, "/signup", {}))
    named = app_with(stubber, SIGNUP_SITE_NAME="Example Shop").test_client()
    assert "<title>Sign up – Example Shop</title>" in text(named.get("/signup"))


def test_the_service_being_down_says_to_type_the_password_again(stubber: StrictStubber) -> None:
    stubber.add_client_error("sign_up", "InternalErrorException", "boom", 500)
    page = text(submit(app_with(stubber, COGNITO_MAX_ATTEMPTS="1").test_client(), "/signup", SIGNUP))
    assert "Your details are still here, but type your password again." in page
    assert "Nothing was lost" not in page and "account service" not in page
    assert secret_hash(CLIENT_SECRET, "x", "y") not in page
