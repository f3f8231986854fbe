"""The form built from the declaration: server-side checks, messages on the right field, nothing lost."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY
from flask import Flask
from flask_babel import Babel
from flask_wtf import FlaskForm

from app.config.declaration import parse_declaration
from app.signup.csrf import FormTokens
from app.web.forms import build_forms, code_digits

from .conftest import ROOT, SIGNUP, StrictStubber, app_with, submit, text

TOKENS = FormTokens("x" * 32)


CORRECT = "Correct-Horse-9"
# Cognito's symbols, as the rule lists them (app.config.passwords).
SYMBOL_LIST = "^ $ * . [ ] { } ( ) ? - \" ! @ # % & / \\ , > < ' : ; | _ ~ ` + ="


def post(client: Any, **changes: str) -> tuple[int, str]:
    data = {**SIGNUP, **changes}
    response = submit(client, "/signup", {k: v for k, v in data.items() if v is not None})
    return response.status_code, text(response)


def field_errors(page: str, field_id: str) -> list[str]:
    return re.findall(rf'<p class="field-error" id="{field_id}-error-\d+">.*?</span>(.*?)</p>', page, re.S)


def test_form_is_built_once_per_declaration_as_fresh_classes() -> None:
    declaration = parse_declaration({"attributes": [{"name": "custom:team", "label": "Team"}]})
    first = build_forms(declaration, tokens=TOKENS, advanced_security=False, check_deliverability=False)
    second = build_forms(declaration, tokens=TOKENS, advanced_security=False, check_deliverability=False)
    assert first.signup is not second.signup
    assert issubclass(first.signup, FlaskForm)
    assert not hasattr(FlaskForm, "custom_team")


def test_form_page_shows_every_declared_field(stub_app: Any) -> None:
    page = stub_app.test_client().get("/signup").get_data(as_text=True)
    for name in (
        "username",
        "password",
        "given_name",
        "custom_company",
        "custom_seats",
        "custom_plan",
    ):
        assert f'name="{name}"' in page
    assert 'autocomplete="new-password"' in page
    assert 'type="email"' in page
    assert "The organisation you work for, if any." in page
    # The password once, shown on request, unless the declaration asks for it twice.
    assert 'name="password_confirm"' not in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"username": ""}, "username", "Enter your email address."),
        ({"username": "not-an-email"}, "username", "Enter an email address like name@example.com."),
        (
            {"password": "short", "password_confirm": "short"},
            "password",
            "Your password needs at least 8 characters, an uppercase letter, a number, and a symbol, "
            f"one of {SYMBOL_LIST}.",
        ),
        (
            {"password": "alllowercase1!", "password_confirm": "alllowercase1!"},
            "password",
            "Your password needs an uppercase letter.",
        ),
        (  # € is allowed in a password, but Cognito counts only its own list as symbols: the rule says which
            {"password": "NoSymbols123€", "password_confirm": "NoSymbols123€"},
            "password",
            f"Your password needs a symbol, one of {SYMBOL_LIST}.",
        ),
        ({"given_name": ""}, "given_name", "Enter your first name."),
        ({"custom_company": "x" * 80}, "custom_company", "Use at most 64 characters. You have 16 characters too many."),
        ({"custom_seats": "0"}, "custom_seats", "Enter a whole number from 1 to 500."),
        ({"custom_seats": "501"}, "custom_seats", "Enter a whole number from 1 to 500."),
        ({"custom_plan": "platinum"}, "custom_plan", "Choose one of the options."),
        ({"custom_plan": ""}, "custom_plan", "Choose a plan."),
    ],
)
def test_invalid_input_gets_a_clear_message_on_its_field(
    stub_app: Any, changes: dict[str, str], field: str, message: str
) -> None:
    status, page = post(stub_app.test_client(), **changes)
    assert status == 422
    assert message in field_errors(page, field)
    assert 'id="error-summary"' in page
    assert f'<a href="#{field}">' in page


def test_a_value_that_is_not_a_number_gets_one_message(stub_app: Any) -> None:
    status, page = post(stub_app.test_client(), custom_seats="twelve")
    assert status == 422
    assert field_errors(page, "custom_seats") == ["Enter a whole number, like 12."]


def test_a_too_long_username_is_named(stub_app: Any) -> None:
    _, page = post(stub_app.test_client(), username="a" * 120 + "@example.com")
    assert field_errors(page, "username")


def test_everything_typed_but_the_password_comes_back(stub_app: Any) -> None:
    status, page = post(stub_app.test_client(), custom_seats="9999")
    assert status == 422
    assert 'value="ann@example.com"' in page
    assert 'value="Example Ltd"' in page
    assert 'value="9999"' in page
    assert '<option selected value="team">' in page
    assert "Correct-Horse-9" not in page


def test_field_errors_are_tied_to_their_inputs(stub_app: Any) -> None:
    _, page = post(stub_app.test_client(), custom_seats="0")
    tag = re.search(r'<input[^>]*name="custom_seats"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in tag
    assert "custom_seats-error-1" in tag


def test_a_post_without_csrf_token_is_refused_and_keeps_the_input(stub_app: Any) -> None:
    client = stub_app.test_client()
    response = client.post("/signup", data=SIGNUP)
    page = text(response)
    assert response.status_code == 400
    assert "This form was open for a long time, so we could not accept it." in page
    assert 'value="Example Ltd"' in page


def test_a_forged_csrf_token_is_refused(stub_app: Any) -> None:
    client = stub_app.test_client()
    client.get("/signup")
    response = client.post("/signup", data={**SIGNUP, "csrf_token": "forged.token.value"})
    assert response.status_code == 400


def test_email_is_normalised_before_it_is_sent(stub_app: Any, stubber: StrictStubber) -> None:
    sent: list[dict[str, Any]] = []
    stub_app.extensions["signup"].service._client.meta.events.register(
        "provide-client-params.cognito-idp.SignUp", lambda params, **_: sent.append(params)
    )
    stubber.add_response("sign_up", {"UserConfirmed": False, "UserSub": "s"})
    submit(stub_app.test_client(), "/signup", {**SIGNUP, "username": "  Ann@EXAMPLE.com "})
    # email-validator's normal form, in lower case: the address is the username (app.web.forms.in_lower_case).
    assert sent[0]["Username"] == "ann@example.com"
    assert {"Name": "email", "Value": "ann@example.com"} in sent[0]["UserAttributes"]


@pytest.mark.parametrize(
    ("typed", "e164"),
    [("+44 7911 123456", "+447911123456"), ("07911 123456", "+447911123456"), ("+1 (201) 555-0123", "+12015550123")],
)
def test_phone_number_becomes_e164(bound_signup_form: Any, typed: str, e164: str) -> None:
    form = bound_signup_form({"username": "phone_number", "default_phone_region": "GB"}, typed)
    assert form.validate(), form.errors
    assert form.username.data == e164


@pytest.mark.parametrize("typed", ["+44 7700 900123", "12", "call me", "+999 1234"])
def test_impossible_phone_number_is_refused(bound_signup_form: Any, typed: str) -> None:
    form = bound_signup_form({"username": "phone_number"}, typed)
    assert not form.validate()
    assert [str(e) for e in form.username.errors] == [
        "Enter a phone number with its country code, like +44 7400 123456."
    ]


@pytest.fixture
def bound_signup_form() -> Iterator[Callable[[dict, str], Any]]:
    """Makes sign-up forms from a declaration, bound to a POST with a username and a valid password."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="x" * 32, WTF_CSRF_ENABLED=False)
    Babel(app)
    contexts = []

    def bind(declaration: dict, username: str) -> Any:
        forms = build_forms(
            parse_declaration(declaration), tokens=TOKENS, advanced_security=False, check_deliverability=False
        )
        data = {"username": username, "password": "Aa1!aaaa", "password_confirm": "Aa1!aaaa"}
        contexts.append(app.test_request_context(method="POST", data=data))
        contexts[-1].push()
        return forms.signup()

    yield bind
    for context in reversed(contexts):
        context.pop()


@pytest.mark.parametrize("username", ["has space", "tab\there", "zero\u200bwidth"])
def test_username_follows_cognitos_rules(bound_signup_form: Any, username: str) -> None:
    form = bound_signup_form({}, username)
    assert not form.validate()
    assert form.username.errors


def test_a_declaration_may_ask_for_the_password_twice(stubber: StrictStubber) -> None:
    declared = ROOT / "tests" / "declarations" / "confirm_password.toml"
    app = app_with(stubber, SIGNUP_CONFIG=str(declared))
    page = text(app.test_client().get("/signup"))
    assert 'name="password_confirm"' in page
    status, page = post(app.test_client(), password_confirm="Something-Else-1")
    assert status == 422
    assert "The two passwords are not the same." in field_errors(page, "password_confirm")


@pytest.mark.parametrize("typed", ["123456", "123-456", "123 456", " 123456 ", "Your code is 123456.", "123.456"])
def test_a_code_is_read_as_people_paste_it(typed: str) -> None:
    assert code_digits(typed) == "123456"


def test_a_value_of_only_spaces_is_no_value(stub_app: Any) -> None:
    status, page = post(stub_app.test_client(), given_name="   ")
    assert status == 422
    assert field_errors(page, "given_name") == ["Enter your first name."]


def test_a_field_the_pool_refuses_is_named_on_that_field(stubber: StrictStubber) -> None:
    message = "Attributes did not conform to the schema: given_name: The attribute is required"
    stubber.add_client_error("sign_up", "InvalidParameterException", message)
    page = text(submit(app_with(stubber).test_client(), "/signup", {**SIGNUP_FORM, "given_name": "Ann"}))
    assert re.search(r'id="given_name-error-1">.*Fill this in: it is needed to create your account.', page, re.S)
    assert "We could not create your account just now" not in page


SIGNUP_FORM = {"username": "ann@example.com", "password": CORRECT, "custom_plan": "team", "given_name": "Ann"}


def test_autocomplete_tokens_are_declarable(tmp_path: Path, stubber: StrictStubber) -> None:
    declaration = tmp_path / "signup.toml"
    declaration.write_text(
        'username = "email"\n[[attributes]]\nname = "custom:company"\nautocomplete = "organization"\n'
    )
    page = text(app_with(stubber, SIGNUP_CONFIG=str(declaration)).test_client().get("/signup"))
    assert re.search(r'<input autocomplete="organization"[^>]*name="custom_company"', page)


# 14. The phone number the page gives as an example is one the app accepts.


def test_the_phone_example_is_a_number_the_app_accepts(tmp_path: Path, stubber: StrictStubber) -> None:
    declaration = tmp_path / "signup.toml"
    declaration.write_text('username = "phone_number"\n')
    stubber.add_response("sign_up", {"UserConfirmed": False, "UserSub": "s"}, expected_params=ANY_SIGN_UP)
    client = app_with(stubber, SIGNUP_CONFIG=str(declaration)).test_client()
    refused = text(submit(client, "/signup", {"username": "12", "password": CORRECT}))
    example = re.search(r"like (\+[\d ]+)\.", refused).group(1)
    assert submit(client, "/signup", {"username": example, "password": CORRECT}).status_code == 302


ANY_SIGN_UP = {
    "ClientId": ANY,
    "Username": "+447400123456",
    "SecretHash": ANY,
    "UserContextData": ANY,
    "ClientMetadata": ANY,
    "Password": CORRECT,
    "UserAttributes": [{"Name": "phone_number", "Value": "+447400123456"}],
}
