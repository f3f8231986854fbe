"""Every kind of attribute (app.config.kinds.KINDS): declared, typed into its field, checked, and sent to
Cognito in Cognito's format. A new kind gets its row in KIND_EXAMPLES."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask_babel import Babel

from app.config.declaration import parse_declaration
from app.config.kinds import KINDS, TYPES, Kind
from app.signup.csrf import FormTokens
from app.web.forms import build_forms, signup_values

# For each kind: an attribute declared so that it has that kind, what a person types, what Cognito gets.
KIND_EXAMPLES: dict[Kind, tuple[dict[str, Any], str, str]] = {
    Kind.TEXT: ({"name": "given_name"}, " Ann ", "Ann"),
    Kind.EMAIL: ({"name": "email"}, "Ann@EXAMPLE.com", "Ann@example.com"),
    Kind.PHONE: ({"name": "phone_number"}, "+44 7911 123456", "+447911123456"),
    Kind.URL: ({"name": "website"}, "https://www.example.com/ann", "https://www.example.com/ann"),
    Kind.DATE: ({"name": "birthdate"}, "1990-05-31", "1990-05-31"),
    Kind.NUMBER: ({"name": "custom:seats", "type": "number", "min_value": 1}, "12", "12"),
    Kind.BOOLEAN: ({"name": "custom:vip", "type": "boolean"}, "y", "true"),
    Kind.DATETIME: ({"name": "custom:started", "type": "datetime"}, "2026-05-31T09:30", "2026-05-31T09:30:00"),
    Kind.CHOICE: ({"name": "custom:plan", "choices": ["free", "team"]}, "team", "team"),
}
PASSWORD = {"username": "ann", "password": "Aa1!aaaa", "password_confirm": "Aa1!aaaa"}


@pytest.fixture
def app() -> Iterator[Flask]:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="x" * 32, WTF_CSRF_ENABLED=False)
    Babel(app)
    yield app


def test_every_kind_has_its_rule_and_its_example() -> None:
    assert set(KINDS) == set(Kind) == set(KIND_EXAMPLES)
    assert {rule.kind for rule in TYPES.values()} <= set(Kind)


@pytest.mark.parametrize("kind", list(Kind))
def test_each_kind_is_asked_for_checked_and_sent_in_cognitos_format(app: Flask, kind: Kind) -> None:
    declared, typed, sent = KIND_EXAMPLES[kind]
    declaration = parse_declaration({"attributes": [{**declared, "required": True}]})
    attribute = declaration.attributes[0]
    assert (attribute.kind, attribute.type) == (kind, KINDS[kind].type)
    forms = build_forms(declaration, tokens=FormTokens("x" * 32), advanced_security=False, check_deliverability=False)
    with app.test_request_context(method="POST", data={**PASSWORD, attribute.field_name: typed}):
        form = forms.signup()
        assert form.validate(), form.errors
        assert f'name="{attribute.field_name}"' in str(form[attribute.field_name]())
        assert signup_values(declaration, form)[2] == {attribute.name: sent}


@pytest.mark.parametrize("kind", [kind for kind in Kind if kind != Kind.BOOLEAN])
def test_each_kind_left_empty_is_required_or_not_sent(app: Flask, kind: Kind) -> None:
    declared, _, _ = KIND_EXAMPLES[kind]
    for required in (True, False):
        declaration = parse_declaration({"attributes": [{**declared, "required": required}]})
        attribute = declaration.attributes[0]
        forms = build_forms(
            declaration, tokens=FormTokens("x" * 32), advanced_security=False, check_deliverability=False
        )
        with app.test_request_context(method="POST", data={**PASSWORD, attribute.field_name: ""}):
            form = forms.signup()
            assert form.validate() is not required
            if not required:
                assert signup_values(declaration, form)[2] == {}
