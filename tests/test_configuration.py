"""Settings and the TOML declaration: every problem reported at once, naming what is wrong."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from app import load_configuration
from app.config.declaration import load_declaration, parse_declaration
from app.errors import ConfigError
from local.procfile import web_command

from .conftest import CLIENT_SECRET, ROOT, SAMPLE, base_env


def problems_of(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_declaration(data)
    return caught.value.problems


def test_sample_declaration_loads_with_every_attribute() -> None:
    declaration = load_declaration(SAMPLE)
    assert declaration.username == "email"
    assert [a.name for a in declaration.attributes] == [
        "email",
        "given_name",
        "custom:company",
        "custom:seats",
        "custom:plan",
    ]
    seats = next(a for a in declaration.attributes if a.name == "custom:seats")
    assert (seats.type, seats.min_value, seats.max_value) == ("number", 1, 500)
    assert declaration.client_metadata == {"source": "web-signup"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"attributes": [{"name": "email", "colour": "red"}]}, "attribute 'email': unknown key 'colour'"),
        ({"attributes": [{"name": "custom:" + "x" * 21}]}, "at most 20 characters"),
        (
            {"attributes": [{"name": "custom:bio", "max_length": 5000}]},
            "attribute 'custom:bio': max_length must be from 1 to 2048",
        ),
        ({"attributes": [{"name": "email"}, {"name": "email"}]}, "attribute 'email' is declared twice"),
        ({"attributes": [{"name": "shoe_size"}]}, "'shoe_size' is not a standard Cognito attribute"),
        ({"attributes": [{"name": "sub"}]}, "'sub' is set by Cognito"),
        ({"attributes": [{"name": "custom:n", "type": "integer"}]}, "type must be string, number, boolean or datetime"),
        (
            {"attributes": [{"name": "custom:n", "type": "number", "min_value": 5, "max_value": 1}]},
            "min_value is larger",
        ),
        (
            {"attributes": [{"name": "custom:s", "pattern": "("}]},
            "'custom:s': pattern is not a valid regular expression",
        ),
        (
            {"attributes": [{"name": "custom:p", "choices": ["a"], "default": "b"}]},
            "default 'b' is not one of the choices",
        ),
        ({"attributes": [{"name": "custom:b", "type": "boolean", "max_length": 3}]}, "max_length applies to string"),
        ({"username": "nickname"}, "username must be 'username', 'email' or 'phone_number'"),
        ({"password_policy": {"minimum_length": 4}}, "minimum_length must be a whole number from 6 to 99"),
        ({"client_metadata": {"n": 1}}, "client_metadata must be a table of string values"),
        ({"default_phone_region": "XX"}, "default_phone_region 'XX'"),
        ({"identity_providers": {"name": "Google"}}, "identity_providers must be an array of tables"),
        ({"identity_providers": [{"label": "Google"}]}, "identity provider None: name must be the provider's name"),
        ({"identity_providers": [{"name": "My IdP", "label": "Mine"}]}, "up to 32 characters without spaces"),
        ({"identity_providers": [{"name": "COGNITO", "label": "Us"}]}, "identity provider 'COGNITO': name must be"),
        ({"identity_providers": [{"name": "Google"}]}, "identity provider 'Google': label is required"),
        (
            {"identity_providers": [{"name": "Google", "label": {"en": 1}}]},
            "identity provider 'Google': label must be a string or a table of locale = string",
        ),
        (
            {"identity_providers": [{"name": "Okta", "label": "Okta", "icon": "okta"}]},
            "identity provider 'Okta': icon must be one of amazon, apple, building, facebook, google, microsoft",
        ),
        ({"identity_providers": [{"name": "G", "label": "G", "colour": "red"}]}, "identity provider 'G': unknown key"),
        (
            {"identity_providers": [{"name": "G", "label": "G"}, {"name": "G", "label": "Gee"}]},
            "identity_providers: a provider is declared twice",
        ),
    ],
)
def test_declaration_mistake_is_named(data: dict, expected: str) -> None:
    assert any(expected in p for p in problems_of(data)), problems_of(data)


def test_every_declaration_problem_is_reported_at_once() -> None:
    problems = problems_of(
        {
            "attributes": [
                {"name": "custom:" + "y" * 25},
                {"name": "favourite_colour"},
                {"name": "custom:ok", "max_length": 9999},
            ]
        }
    )
    assert len(problems) == 3


def test_username_attribute_is_implied_when_not_declared() -> None:
    declaration = parse_declaration({"username": "phone_number"})
    assert declaration.username_attribute is not None
    assert declaration.username_attribute.name == "phone_number"
    assert declaration.form_attributes == ()


def test_identity_providers_are_declared_with_a_label_per_language_and_an_icon() -> None:
    (company,) = parse_declaration(
        {"identity_providers": [{"name": "CompanyIdP", "label": {"en": "Acme", "de": "Acme DE"}, "icon": "building"}]}
    ).identity_providers
    assert (company.name, company.label, company.icon) == ("CompanyIdP", {"en": "Acme", "de": "Acme DE"}, "building")
    assert parse_declaration({}).identity_providers == ()


def test_labels_may_be_given_per_locale() -> None:
    declaration = parse_declaration({"attributes": [{"name": "custom:org", "label": {"en": "Company", "de": "Firma"}}]})
    assert declaration.attributes[0].label == {"en": "Company", "de": "Firma"}


def test_missing_settings_are_all_listed_without_secrets(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_configuration({"COGNITO_CLIENT_SECRET": CLIENT_SECRET, "SECRET_KEY": "short"})
    text = str(caught.value)
    for name in ("COGNITO_REGION", "COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID", "SIGNUP_CONFIG", "SECRET_KEY"):
        assert name in text
    assert CLIENT_SECRET not in text and "short" not in text


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"COGNITO_REGION": "Europe"}, "COGNITO_REGION is not a region name"),
        ({"COGNITO_USER_POOL_ID": "pool"}, "COGNITO_USER_POOL_ID is not a user pool id"),
        ({"COGNITO_USER_POOL_ID": "us-east-1_Abc"}, "is a pool in us-east-1, but COGNITO_REGION is eu-west-1"),
        ({"COGNITO_CLIENT_ID": "no spaces allowed"}, "COGNITO_CLIENT_ID is not an app client id"),
        ({"COGNITO_ENDPOINT_URL": "localhost:4566"}, "COGNITO_ENDPOINT_URL must be an absolute http(s) URL"),
        ({"SIGNUP_SUCCESS_URL": "/welcome"}, "SIGNUP_SUCCESS_URL must be an absolute http(s) URL"),
        ({"SIGNUP_ADVANCED_SECURITY": "maybe"}, "SIGNUP_ADVANCED_SECURITY must be 1 or 0"),
        ({"COGNITO_READ_TIMEOUT": "-1"}, "COGNITO_READ_TIMEOUT must be a positive number"),
        ({"SIGNUP_CONFIG": "/nonexistent/signup.toml"}, "cannot read /nonexistent/signup.toml"),
        ({"SIGNUP_SIGN_IN": "sometimes"}, "SIGNUP_SIGN_IN must be one of none, hand-off, immediate"),
        (
            {"SIGNUP_SIGN_IN": "hand-off"},
            "SIGNUP_SIGN_IN=hand-off needs COGNITO_DOMAIN and SIGNUP_SIGN_IN_REDIRECT_URI",
        ),
        ({"SIGNUP_SIGN_IN": "immediate"}, "SIGNUP_SIGN_IN=immediate needs SIGNUP_TOKEN_CALLBACK_URL"),
        ({"SIGNUP_AUTH_SESSION_MINUTES": "30"}, "SIGNUP_AUTH_SESSION_MINUTES must be from 3 to 15"),
        ({"SIGNUP_SIGN_IN_SCOPE": "openid\temail"}, "SIGNUP_SIGN_IN_SCOPE must be scopes separated by spaces"),
        ({"COGNITO_DOMAIN": "auth.example.com"}, "COGNITO_DOMAIN must be an absolute http(s) URL"),
    ],
)
def test_invalid_setting_is_named(override: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_configuration(base_env(**override))
    assert expected in str(caught.value)


def test_settings_and_declaration_problems_come_in_one_message(tmp_path: Path) -> None:
    bad = tmp_path / "signup.toml"
    bad.write_text('[[attributes]]\nname = "custom:this_name_is_far_too_long"\n')
    with pytest.raises(ConfigError) as caught:
        load_configuration(base_env(SIGNUP_CONFIG=str(bad), COGNITO_REGION=""))
    assert "COGNITO_REGION is not set" in str(caught.value)
    assert "custom:this_name_is_far_too_long" in str(caught.value)


@pytest.mark.servers
def test_gunicorn_stops_with_one_clear_message_and_no_traceback() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COGNITO_", "SIGNUP_", "SECRET_KEY"))}
    env["COGNITO_CLIENT_SECRET"] = CLIENT_SECRET
    result = subprocess.run(
        web_command("--bind", "127.0.0.1:0"),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "The sign-up app cannot start" in result.stderr
    assert "COGNITO_REGION is not set" in result.stderr
    assert "Traceback" not in result.stderr
    assert CLIENT_SECRET not in result.stderr + result.stdout
