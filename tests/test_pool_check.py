"""The pool check against the local Cognito: a pool made from the declaration, and a drifted one."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from app import poolcheck
from app.declaration import load_declaration
from local import emulator

from .conftest import ROOT, SAMPLE


@pytest.fixture
def admin(cognito_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """IAM credentials as the emulator wants them (the check runs with the operator's own)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    return emulator.admin_client(cognito_endpoint)


def check(pool_id: str, client_id: str, endpoint: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = poolcheck.main(
        [
            "--config",
            str(SAMPLE),
            "--pool",
            pool_id,
            "--client",
            client_id,
            "--region",
            emulator.REGION,
            "--endpoint-url",
            endpoint,
        ]
    )
    return status, capsys.readouterr().out


def test_a_pool_made_from_the_declaration_matches(
    admin: Any, cognito_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = emulator.provision(cognito_endpoint, load_declaration(SAMPLE), name="matching")
    status, report = check(pool.pool_id, pool.client_id, cognito_endpoint, capsys)
    assert status == 0, report
    assert "match the declaration" in report


def test_every_kind_of_drift_is_reported(admin: Any, cognito_endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
    pool_id = admin.create_user_pool(
        PoolName="drifted",
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 12,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": False,
            }
        },
        Schema=[
            {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True},
            {"Name": "family_name", "AttributeDataType": "String", "Required": True, "Mutable": True},
            {
                "Name": "company",
                "AttributeDataType": "String",
                "Mutable": True,
                "StringAttributeConstraints": {"MinLength": "0", "MaxLength": "32"},
            },
            {"Name": "seats", "AttributeDataType": "String", "Mutable": True},
        ],
    )["UserPool"]["Id"]
    client_id = admin.create_user_pool_client(UserPoolId=pool_id, ClientName="web", WriteAttributes=["email"])[
        "UserPoolClient"
    ]["ClientId"]
    status, report = check(pool_id, client_id, cognito_endpoint, capsys)
    assert status == 1
    for expected in (
        "username: the declaration says 'email', the pool signs in with username",
        "password_policy.minimum_length: the declaration says 8, the pool says 12",
        "password_policy.require_symbols: the declaration says True, the pool says False",
        "custom:plan: the pool has no such attribute",
        "custom:company: the form allows 64 characters, the pool at most 32",
        "custom:seats: declared as number, but the pool holds String",
        "family_name: the pool requires it, but the form does not ask for it",
        "app client: it has no secret",
        "app client: EnablePropagateAdditionalUserContextData is off",
        "given_name: the app client may not write it",
    ):
        assert expected in report, report


def test_an_invalid_declaration_or_an_unknown_pool_exits_1(
    admin: Any, cognito_endpoint: str, tmp_path: Any, capsys: Any
) -> None:
    bad = tmp_path / "signup.toml"
    bad.write_text('[[attributes]]\nname = "shoe_size"\n')
    assert (
        poolcheck.main(["--config", str(bad), "--pool", "us-east-1_x", "--client", "c", "--region", "us-east-1"]) == 1
    )
    assert "'shoe_size' is not a standard Cognito attribute" in capsys.readouterr().out
    status, report = check("us-east-1_Missing1", "nope", cognito_endpoint, capsys)
    assert status == 1 and "cannot read user pool" in report


def test_it_runs_as_a_command(cognito_endpoint: str) -> None:
    pool = emulator.provision(cognito_endpoint, load_declaration(SAMPLE), name="command")
    env = {
        **os.environ,
        **pool.environment(),
        "SIGNUP_CONFIG": str(SAMPLE),
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }
    result = subprocess.run(
        [sys.executable, "-m", "app.poolcheck"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
