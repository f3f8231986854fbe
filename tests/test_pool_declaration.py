"""`python -m app.poolcheck --write`: a declaration written from an existing pool passes the pool check
against that pool, and a person signs up with it, for every shape of pool.

The pools live in the local Cognito (ministack), which describes them as Cognito does: schema with
constraints, WriteAttributes, EmailConfiguration, SmsConfiguration. What it never returns (a pool
without EmailConfiguration, both email and phone as username attributes next to `dev:custom:`
names) comes from botocore's Stubber in the last test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from app import create_app, poolcheck
from app.config.declaration import load_declaration
from app.config.settings import load_settings
from local import emulator

from .conftest import ROOT, StrictStubber, base_env, submit, text

PASSWORD = "Correct-Horse-9"
ALL_RULES = {
    "MinimumLength": 8,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
}
WITH_SECRET = {"GenerateSecret": True, "EnablePropagateAdditionalUserContextData": True}


def string(name: str, low: int, high: int, *, required: bool = False) -> dict[str, Any]:
    return {
        "Name": name,
        "AttributeDataType": "String",
        "Mutable": True,
        "Required": required,
        "StringAttributeConstraints": {"MinLength": str(low), "MaxLength": str(high)},
    }


# Each shape: CreateUserPool and CreateUserPoolClient parameters, what a person types, what the pool then holds.
SHAPES: dict[str, dict[str, Any]] = {
    "email-as-username": {
        "pool": {
            "UsernameAttributes": ["email"],
            "AutoVerifiedAttributes": ["email"],
            "Policies": {"PasswordPolicy": {**ALL_RULES, "MinimumLength": 12, "RequireSymbols": False}},
            "Schema": [string("given_name", 1, 64, required=True)],
        },
        "client": WITH_SECRET,
        # The pool's own policy, not the default one: 12 characters, no symbol needed.
        "form": {
            "username": "ann@example.com",
            "password": "CorrectHorse99",
            "password_confirm": "CorrectHorse99",
            "given_name": "Ann",
        },
        "held": {"email": "ann@example.com", "given_name": "Ann"},
    },
    "phone-as-username": {
        "pool": {
            "UsernameAttributes": ["phone_number"],
            "AutoVerifiedAttributes": ["phone_number"],
            "SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::000000000000:role/cognito-sms", "ExternalId": "x"},
        },
        "client": WITH_SECRET,
        "form": {"username": "+447911123456"},
        "held": {"phone_number": "+447911123456"},
    },
    "alias-attributes": {
        "pool": {"AliasAttributes": ["email", "preferred_username"], "AutoVerifiedAttributes": ["email"]},
        "client": WITH_SECRET,
        "form": {"username": "ann", "email": "ann@example.com"},
        "held": {"email": "ann@example.com"},
    },
    "custom-attributes-with-limits": {
        "pool": {
            "UsernameAttributes": ["email"],
            "AutoVerifiedAttributes": ["email"],
            "Schema": [
                string("company", 2, 40),
                {
                    "Name": "seats",
                    "AttributeDataType": "Number",
                    "Mutable": True,
                    "NumberAttributeConstraints": {"MinValue": "1", "MaxValue": "500"},
                },
                {"Name": "vip", "AttributeDataType": "Boolean", "Mutable": True},
                {"Name": "started", "AttributeDataType": "DateTime", "Mutable": True},
                string("internal_id", 0, 36),
                {"Name": "legacy", "AttributeDataType": "String", "DeveloperOnlyAttribute": True},
            ],
        },
        "client": {
            **WITH_SECRET,
            "WriteAttributes": ["email", "custom:company", "custom:seats", "custom:vip", "custom:started"],
        },
        "form": {
            "username": "ann@example.com",
            "custom_company": "Example Ltd",
            "custom_seats": "3",
            "custom_vip": "y",
            "custom_started": "2026-05-31T09:30",
        },
        "held": {
            "email": "ann@example.com",
            "custom:company": "Example Ltd",
            "custom:seats": "3",
            "custom:vip": "true",
            "custom:started": "2026-05-31T09:30:00",
        },
    },
    "no-client-secret": {
        "pool": {"UsernameAttributes": ["email"], "AutoVerifiedAttributes": ["email"]},
        "client": {"GenerateSecret": False},
        "form": {"username": "ann@example.com"},
        "held": {"email": "ann@example.com"},
    },
}


@pytest.fixture
def admin(cognito_endpoint: str) -> Any:
    return emulator.admin_client(cognito_endpoint)


def make_pool(admin: Any, shape: dict[str, Any], name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A pool and app client of this shape; the client as DescribeUserPoolClient gives it (secret included)."""
    pool = {"PoolName": name, "Policies": {"PasswordPolicy": ALL_RULES}, **shape["pool"]}
    pool_id = admin.create_user_pool(**pool)["UserPool"]["Id"]
    client = admin.create_user_pool_client(UserPoolId=pool_id, ClientName=f"{name}-web", **shape["client"])
    return admin.describe_user_pool(UserPoolId=pool_id)["UserPool"], client["UserPoolClient"]


def run(admin: Any, *argv: str, pool: dict[str, Any], client: dict[str, Any]) -> int:
    where = ["--pool", pool["Id"], "--client", client["ClientId"], "--region", emulator.REGION]
    return poolcheck.main([*argv, *where], env={}, cognito=admin)


def sign_up(endpoint: str, pool: dict[str, Any], client: dict[str, Any], path: Path, form: dict[str, str]) -> None:
    """A person signs up with the app built from the declaration at `path`, and enters the code."""
    secret = client.get("ClientSecret", "")  # empty: the app sends no SecretHash
    local = emulator.LocalPool(endpoint, emulator.REGION, pool["Id"], client["ClientId"], secret)
    app = create_app(base_env(**local.environment(), SIGNUP_CONFIG=str(path)))
    app.config["TESTING"] = True
    browser = app.test_client()
    sent = submit(browser, "/signup", {"password": PASSWORD, "password_confirm": PASSWORD, **form})
    assert sent.status_code == 302, text(sent)
    done = submit(browser, sent.headers["Location"], {"code": emulator.LOCAL_CODE})
    assert done.status_code == 302 and done.headers["Location"].startswith("/signup/done"), text(done)


@pytest.mark.parametrize("shape", SHAPES)
def test_a_declaration_written_from_a_pool_passes_the_check_and_a_person_signs_up_with_it(
    shape: str, admin: Any, cognito_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pool, client = make_pool(admin, SHAPES[shape], shape)
    path = tmp_path / "signup.toml"

    assert run(admin, "--write", str(path), pool=pool, client=client) == 0, capsys.readouterr().out
    assert poolcheck.compare(load_declaration(path), pool, client) == []
    assert run(admin, "--config", str(path), pool=pool, client=client) == 0, capsys.readouterr().out

    sign_up(cognito_endpoint, pool, client, path, SHAPES[shape]["form"])
    (user,) = admin.list_users(UserPoolId=pool["Id"])["Users"]
    held = {a["Name"]: a["Value"] for a in user["Attributes"] if a["Name"] in SHAPES[shape]["held"]}
    assert (user["UserStatus"], held) == ("CONFIRMED", SHAPES[shape]["held"])


def test_the_written_file_keeps_the_pools_limits_and_says_what_it_left_out(
    admin: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pool, client = make_pool(admin, SHAPES["custom-attributes-with-limits"], "limits")
    path = tmp_path / "signup.toml"
    run(admin, "--write", str(path), pool=pool, client=client)
    written = path.read_text(encoding="utf-8")
    declared = {a.name: a for a in load_declaration(path).attributes}

    assert list(declared) == ["email", "custom:company", "custom:seats", "custom:vip", "custom:started"]
    company, seats = declared["custom:company"], declared["custom:seats"]
    assert (company.type, company.min_length, company.max_length) == ("string", 2, 40)
    assert (seats.type, seats.min_value, seats.max_value) == ("number", 1, 500)
    assert (declared["custom:vip"].type, declared["custom:started"].type) == ("boolean", "datetime")
    assert not any(a.required for a in declared.values() if a.is_custom)  # Cognito cannot require them
    assert "# - custom:internal_id: the app client may not write it (WriteAttributes)" in written
    assert "# - dev:legacy: developer-only; no app client may write it" in written


def test_what_only_a_person_decides_is_left_in_comments_in_every_language(
    admin: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pool, client = make_pool(admin, SHAPES["alias-attributes"], "alias")
    path = tmp_path / "signup.toml"
    run(admin, "--write", str(path), pool=pool, client=client)
    written = path.read_text(encoding="utf-8")

    aliases = "# A plain username; people may then also sign in with email or preferred_username (aliases)."
    assert f'{aliases}\nusername = "username"\n' in written
    assert '# label = { en = "…", de = "…", es = "…" }' in written
    assert '# help = { en = "…", de = "…", es = "…" }' in written
    assert "the confirmation code is sent here (AutoVerifiedAttributes)" in written
    # Every other standard attribute the client may write is offered, not asked for.
    assert "for each one the form should ask for: name, given_name, family_name," in written
    declaration = load_declaration(path)
    assert [(a.name, a.required, a.label) for a in declaration.attributes] == [("email", True, {})]


def test_a_pool_whose_client_may_not_write_a_required_attribute_is_named_not_hidden(
    admin: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shape = {
        "pool": {"UsernameAttributes": ["email"], "Schema": [string("given_name", 0, 64, required=True)]},
        "client": {**WITH_SECRET, "WriteAttributes": ["email"]},
    }
    pool, client = make_pool(admin, shape, "conflict")
    path = tmp_path / "signup.toml"

    assert run(admin, "--write", str(path), pool=pool, client=client) == 1
    assert "✗ given_name: the app client may not write it" in capsys.readouterr().out
    assert "the pool requires it; the app client may not write it (the check reports this)" in path.read_text()


def test_an_existing_file_is_kept_unless_forced(admin: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pool, client = make_pool(admin, SHAPES["no-client-secret"], "keep")
    path = tmp_path / "signup.toml"
    path.write_text("# my own work\n", encoding="utf-8")

    assert run(admin, "--write", str(path), pool=pool, client=client) == 1
    assert f"✗ {path} exists; pass --force to replace it" in capsys.readouterr().out
    assert path.read_text(encoding="utf-8") == "# my own work\n"

    assert run(admin, "--write", str(path), "--force", pool=pool, client=client) == 0
    assert path.read_text(encoding="utf-8").startswith("# The sign-up form's declaration, written by")


def test_a_client_without_a_secret_is_used_without_one_and_named_as_a_warning(
    admin: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pool, client = make_pool(admin, SHAPES["no-client-secret"], "nosecret")
    path = tmp_path / "signup.toml"
    assert run(admin, "--write", str(path), pool=pool, client=client) == 0
    report = capsys.readouterr().out
    assert "⚠ app client: it has no secret, so the app cannot pass the person's IP address" in report
    # Cognito's own email sender, no secret, usernames that tell case apart, no password sign-in to sign out with.
    assert "match the declaration" in report and "with 4 warning(s)" in report
    # An empty COGNITO_CLIENT_SECRET is no secret at all: no SecretHash is sent.
    assert load_settings(base_env(COGNITO_CLIENT_SECRET="")).cognito.client_secret is None


def test_writing_runs_as_a_command(cognito_endpoint: str, admin: Any, tmp_path: Path) -> None:
    pool, client = make_pool(admin, SHAPES["email-as-username"], "command")
    path = tmp_path / "signup.toml"
    env = {
        **os.environ,
        **emulator.LocalPool(cognito_endpoint, emulator.REGION, pool["Id"], client["ClientId"], "").environment(),
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }
    command = [sys.executable, "-m", "app.poolcheck", "--write", str(path)]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert again.returncode == 1 and "pass --force" in again.stdout


# DescribeUserPool as real Cognito answers for a pool ministack cannot make: no EmailConfiguration at
# all (older pools), email and phone both as username attributes, a `dev:custom:` name, a custom
# name the form refuses, a custom string without constraints.
REAL_POOL = {
    "Id": "eu-west-1_AbC123",
    "Name": "production",
    "Policies": {"PasswordPolicy": {**ALL_RULES, "TemporaryPasswordValidityDays": 7}},
    "UsernameAttributes": ["email", "phone_number"],
    "AutoVerifiedAttributes": ["email"],
    "SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::123456789012:role/sms", "SnsRegion": "eu-west-1"},
    "SchemaAttributes": [
        {"Name": "sub", "AttributeDataType": "String", "Mutable": False, "Required": True},
        {"Name": "email", "AttributeDataType": "String", "Mutable": True, "Required": True},
        {"Name": "email_verified", "AttributeDataType": "Boolean", "Mutable": True, "Required": False},
        string("birthdate", 10, 10, required=True),
        {"Name": "custom:nickname2", "AttributeDataType": "String", "Mutable": True, "Required": False},
        {"Name": "custom:größe", "AttributeDataType": "String", "Mutable": True, "Required": False},
        {"Name": "dev:custom:legacy", "AttributeDataType": "String", "DeveloperOnlyAttribute": True},
    ],
}
REAL_CLIENT = {"UserPoolId": "eu-west-1_AbC123", "ClientId": "abc123client", "ClientName": "web"}


def test_a_pool_as_real_cognito_describes_it_gives_a_declaration_that_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cognito = boto3.client("cognito-idp", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    path = tmp_path / "signup.toml"
    with StrictStubber(cognito) as stub:
        stub.add_response("describe_user_pool", {"UserPool": REAL_POOL}, {"UserPoolId": "eu-west-1_AbC123"})
        stub.add_response(
            "describe_user_pool_client",
            {"UserPoolClient": REAL_CLIENT},
            {"UserPoolId": "eu-west-1_AbC123", "ClientId": "abc123client"},
        )
        argv = ["--write", str(path), "--pool", "eu-west-1_AbC123", "--client", "abc123client", "--region", "eu-west-1"]
        status = poolcheck.main(argv, env={}, cognito=cognito)
    report = capsys.readouterr().out
    written = path.read_text(encoding="utf-8")

    assert status == 0, report
    assert poolcheck.compare(load_declaration(path), REAL_POOL, REAL_CLIENT) == []
    assert "their email address (the pool would take a phone number too)" in written
    assert [(a.name, a.min_length) for a in load_declaration(path).attributes] == [
        ("email", None),
        ("birthdate", 10),
        ("custom:nickname2", None),
    ]
    assert "# - custom:größe: the form takes custom names of letters, digits" in written
    assert "# - dev:custom:legacy: developer-only" in written
    assert "⚠ email: the pool sends its codes through Cognito's default email sender" in report
    assert "⚠ SMS: Cognito's API cannot tell whether the account's Amazon SNS is still in the SMS sandbox" in report
