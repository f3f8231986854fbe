"""The pool check against the local Cognito: a pool made from the declaration, and a drifted one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from app import poolcheck
from app.aws.pool import create_user_pool_client_request, create_user_pool_request
from app.config.declaration import Declaration, load_declaration
from local import emulator

from .conftest import ROOT, SAMPLE, StrictStubber

PHONE = ROOT / "tests" / "declarations" / "phone.toml"
RULES = ("RequireUppercase", "RequireLowercase", "RequireNumbers", "RequireSymbols")


@pytest.fixture
def admin(cognito_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """IAM credentials as the emulator wants them (the check runs with the operator's own)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    return emulator.admin_client(cognito_endpoint)


def check(
    pool_id: str, client_id: str, endpoint: str, capsys: pytest.CaptureFixture[str], config: Path = SAMPLE
) -> tuple[int, str]:
    status = poolcheck.main(
        [
            "--config",
            str(config),
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
    # The local pool sends email through Cognito's own sender: a warning, which leaves the status at 0.
    assert "with 1 warning(s) to read before launch" in report


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
        "given_name: the app client may not write it, so SignUp fails with 'A client attempted to write "
        "unauthorized attribute'; add it to the client's attribute write permissions, or remove it",
        "⚠ app client: it has no secret",
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
    assert status == 1 and "user pool us-east-1_Missing1 was not found in us-east-1" in report


def wrong(local: emulator.LocalPool, **changed: str) -> list[str]:
    """The pool check's arguments for the local pool, with some of them changed."""
    given = {
        "pool": local.pool_id,
        "client": local.client_id,
        "region": emulator.REGION,
        "endpoint-url": local.endpoint,
    }
    given |= {name.replace("_", "-"): value for name, value in changed.items()}
    return ["--config", str(SAMPLE)] + [word for name, value in given.items() for word in (f"--{name}", value)]


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        (
            {"pool": "us-east-1_Missing1"},
            "✗ user pool us-east-1_Missing1 was not found in us-east-1 (--pool, COGNITO_USER_POOL_ID): check the id",
        ),
        ({"client": "nosuchclient"}, "✗ app client nosuchclient was not found in user pool {pool} (--client, "),
        (
            {"sign_in_client": "nosuchsite"},
            "✗ app client nosuchsite was not found in user pool {pool} (--sign-in-client",
        ),
        (
            {"pool": "eu-west-1_AbC123"},
            "✗ user pool eu-west-1_AbC123 is in eu-west-1, but the region is us-east-1 (--region, COGNITO_REGION): "
            "set it to eu-west-1",
        ),
        (
            {"endpoint_url": "http://127.0.0.1:9"},
            "✗ cannot reach http://127.0.0.1:9 (EndpointConnectionError): check --region (COGNITO_REGION), "
            "--endpoint-url (COGNITO_ENDPOINT_URL) and the network",
        ),
    ],
)
def test_the_check_says_exactly_what_was_not_found(
    admin: Any, local_pool: emulator.LocalPool, capsys: pytest.CaptureFixture[str], changed: dict, expected: str
) -> None:
    status = poolcheck.main(wrong(local_pool, **changed), env={})
    report = capsys.readouterr().out
    assert status == 1
    assert expected.format(pool=local_pool.pool_id) in report, report
    words = report.replace(local_pool.pool_id, "<pool>")  # a random pool id may spell "IAM" or "None"
    assert "IAM" not in words and "None" not in words


def test_credentials_that_are_missing_or_refused_are_named_as_such(
    local_pool: emulator.LocalPool, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIANOTAKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret")
    assert poolcheck.main(wrong(local_pool), env={}) == 1
    assert "✗ AWS refused the credentials (UnrecognizedClientException: " in capsys.readouterr().out
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert poolcheck.main(wrong(local_pool), env={}) == 1
    assert "✗ no AWS credentials found: the check needs IAM credentials allowed cognito-idp:DescribeUserPool" in (
        capsys.readouterr().out
    )


def test_a_policy_that_denies_the_describe_calls_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    cognito = boto3.client("cognito-idp", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with StrictStubber(cognito) as stub:
        stub.add_client_error(
            "describe_user_pool", "AccessDeniedException", "User: arn:aws:iam::1:user/ci is not authorized"
        )
        argv = ["--config", str(SAMPLE), "--pool", "eu-west-1_Pool1", "--client", "c", "--region", "eu-west-1"]
        assert poolcheck.main(argv, env={}, cognito=cognito) == 1
    assert "✗ AWS refused the credentials (AccessDeniedException: User: arn:aws:iam::1:user/ci is not" in (
        capsys.readouterr().out
    )


def test_missing_arguments_are_named_with_their_environment_variables(capsys: pytest.CaptureFixture[str]) -> None:
    assert poolcheck.main([], env={}) == 1
    assert capsys.readouterr().err == (
        "Missing: --config (SIGNUP_CONFIG), --pool (COGNITO_USER_POOL_ID), --client (COGNITO_CLIENT_ID), "
        "--region (COGNITO_REGION): give the argument or set the variable\n"
    )


@pytest.mark.parametrize(
    ("secret", "status", "expected"),
    [
        ("right", 0, "✓ user pool"),
        (None, 0, "· COGNITO_CLIENT_SECRET is not set here, so the secret was not checked"),
        ("w" * 52, 1, "✗ COGNITO_CLIENT_SECRET wrong: it is not app client {client}'s secret: copy it again"),
    ],
)
def test_the_client_secret_is_checked_as_the_app_checks_it_at_start_up(
    admin: Any,
    local_pool: emulator.LocalPool,
    capsys: pytest.CaptureFixture[str],
    *,
    secret: str | None,
    status: int,
    expected: str,
) -> None:
    env = {"COGNITO_CLIENT_SECRET": local_pool.client_secret if secret == "right" else secret or ""}
    assert poolcheck.main(wrong(local_pool), env=env) == status
    report = capsys.readouterr().out
    assert expected.format(client=local_pool.client_id) in report, report
    assert ("secret was not checked" in report) is (secret is None)


def test_a_secret_for_a_client_without_one_is_a_difference(
    admin: Any, local_pool: emulator.LocalPool, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = admin.create_user_pool_client(UserPoolId=local_pool.pool_id, ClientName="bare")["UserPoolClient"]
    argv = wrong(local_pool, client=bare["ClientId"])
    assert poolcheck.main(argv, env={"COGNITO_CLIENT_SECRET": "s" * 52}) == 1
    assert "✗ COGNITO_CLIENT_SECRET set, but the app client has none: unset it" in capsys.readouterr().out


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


def traps_of(admin: Any, endpoint: str, capsys: pytest.CaptureFixture[str], declaration: Path, **pool: Any) -> str:
    """The warnings the check prints for a pool made from `declaration` with `pool` settings on top."""
    request = {**create_user_pool_request(load_declaration(declaration), "traps"), **pool}
    pool_id = admin.create_user_pool(**request)["UserPool"]["Id"]
    client_id = admin.create_user_pool_client(**create_user_pool_client_request(pool_id, "web"))["UserPoolClient"][
        "ClientId"
    ]
    status, report = check(pool_id, client_id, endpoint, capsys, config=declaration)
    assert status == 0, report  # warnings never change the exit status
    return "\n".join(line for line in report.splitlines() if line.startswith("⚠"))


SES = {
    "EmailSendingAccount": "DEVELOPER",
    "SourceArn": "arn:aws:ses:us-east-1:000000000000:identity/signup@example.com",
    "From": "signup@example.com",
}
SMS_ROLE = {"SnsCallerArn": "arn:aws:iam::000000000000:role/cognito-sms", "ExternalId": "signup"}


def test_cognitos_own_email_sender_is_named_with_its_daily_quota_and_ses_as_the_fix(
    admin: Any, cognito_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    warnings = traps_of(admin, cognito_endpoint, capsys, SAMPLE)
    assert (
        "⚠ email: the pool sends its codes through Cognito's default email sender, which allows 50 emails" in warnings
    )
    assert "verify a sender in Amazon SES" in warnings
    assert traps_of(admin, cognito_endpoint, capsys, SAMPLE, EmailConfiguration=SES) == ""


def test_sms_without_a_role_and_the_sns_sandbox_are_named(
    admin: Any, cognito_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    without_role = traps_of(admin, cognito_endpoint, capsys, PHONE)
    assert "⚠ SMS: the pool verifies phone numbers or signs in with them, but has no SMS role" in without_role
    assert "SMS sandbox" in without_role
    with_role = traps_of(admin, cognito_endpoint, capsys, PHONE, SmsConfiguration=SMS_ROLE)
    assert with_role.startswith("⚠ SMS: Cognito's API cannot tell whether the account's Amazon SNS is still in the")
    assert "no SMS role" not in with_role and "email" not in with_role


def test_a_client_that_drops_the_persons_ip_address_is_named(
    admin: Any, cognito_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = emulator.provision(cognito_endpoint, load_declaration(SAMPLE), name="ip")
    secret_only = admin.create_user_pool_client(UserPoolId=pool.pool_id, ClientName="web", GenerateSecret=True)
    _, report = check(pool.pool_id, secret_only["UserPoolClient"]["ClientId"], cognito_endpoint, capsys)
    assert "⚠ app client: EnablePropagateAdditionalUserContextData is off, so Cognito ignores the IP address" in report
    assert "UpdateUserPoolClient resets every setting it is not given" in report


def test_a_pool_without_any_email_configuration_counts_as_cognitos_own_sender(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # ministack always answers EmailSendingAccount COGNITO_DEFAULT; older real pools answer nothing.
    cognito = boto3.client("cognito-idp", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    pool = {
        "Id": "eu-west-1_Old1",
        "UsernameAttributes": ["email"],
        "AutoVerifiedAttributes": ["email"],
        "Policies": {"PasswordPolicy": dict.fromkeys(RULES, True) | {"MinimumLength": 8}},
        "SchemaAttributes": [{"Name": "email", "AttributeDataType": "String", "Required": True}],
    }
    client = {"ClientId": "old", "ClientSecret": "x" * 52, "EnablePropagateAdditionalUserContextData": True}
    bare = tmp_path / "signup.toml"
    bare.write_text('username = "email"\n', encoding="utf-8")
    with StrictStubber(cognito) as stub:
        stub.add_response("describe_user_pool", {"UserPool": pool}, {"UserPoolId": "eu-west-1_Old1"})
        stub.add_response(
            "describe_user_pool_client", {"UserPoolClient": client}, {"UserPoolId": "eu-west-1_Old1", "ClientId": "old"}
        )
        status = poolcheck.main(
            ["--config", str(bare), "--pool", "eu-west-1_Old1", "--client", "old", "--region", "eu-west-1"],
            env={},
            cognito=cognito,
        )
    report = capsys.readouterr().out
    assert status == 0, report
    assert "⚠ email: the pool sends its codes through Cognito's default email sender" in report


def test_a_pool_that_tells_letter_case_apart_is_named(
    admin: Any, cognito_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sensitive = traps_of(
        admin, cognito_endpoint, capsys, SAMPLE, EmailConfiguration=SES, UsernameConfiguration={"CaseSensitive": True}
    )
    assert sensitive.startswith("⚠ usernames: the pool tells letter case apart")
    assert "AWS advises case-insensitive pools" in sensitive


def test_a_client_that_cannot_sign_out_the_first_passwords_sessions_is_named(
    admin: Any, cognito_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = emulator.provision(cognito_endpoint, load_declaration(SAMPLE), name="sessions")
    srp_only = admin.create_user_pool_client(
        UserPoolId=pool.pool_id,
        ClientName="web",
        GenerateSecret=True,
        EnablePropagateAdditionalUserContextData=True,
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    _, report = check(pool.pool_id, srp_only, cognito_endpoint, capsys)
    assert "⚠ sessions: after a person finishes a sign-up started elsewhere" in report
    _, report = check(pool.pool_id, pool.client_id, cognito_endpoint, capsys)  # it allows ALLOW_USER_PASSWORD_AUTH
    assert "sessions:" not in report


def test_replacing_unconfirmed_accounts_is_checked_for_each_admin_call_it_needs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    cognito = boto3.client("cognito-idp", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    argv = ["--config", str(SAMPLE), "--pool", "eu-west-1_Pool1", "--client", "c", "--region", "eu-west-1"]
    request = create_user_pool_request(load_declaration(SAMPLE), "replace")
    described = {
        "Id": "eu-west-1_Pool1",
        **{key: request[key] for key in ("Policies", "UsernameAttributes", "AutoVerifiedAttributes")},
        "SchemaAttributes": request["Schema"],
        "UsernameConfiguration": request["UsernameConfiguration"],
    }
    client = {"ClientId": "c", "ClientSecret": "x" * 52, "EnablePropagateAdditionalUserContextData": True}
    with StrictStubber(cognito) as stub:
        stub.add_response("describe_user_pool", {"UserPool": described})
        stub.add_response("describe_user_pool_client", {"UserPoolClient": client})
        stub.add_client_error("admin_get_user", "UserNotFoundException", "User does not exist.")
        stub.add_client_error("admin_delete_user", "AccessDeniedException", "not authorized to perform AdminDeleteUser")
        stub.add_client_error("admin_user_global_sign_out", "UserNotFoundException", "User does not exist.")
        status = poolcheck.main([*argv, "--replace-unconfirmed"], env={}, cognito=cognito)
    report = capsys.readouterr().out
    assert status == 1
    assert (
        "✗ SIGNUP_REPLACE_UNCONFIRMED needs cognito-idp:AdminDeleteUser on the pool, and these credentials were "
        "refused it (AccessDeniedException)" in report
    )
    assert "AdminGetUser" not in report and "AdminUserGlobalSignOut" not in report
    assert "sessions:" not in report  # the admin sign-out serves instead


def test_replacing_unconfirmed_accounts_passes_with_the_emulators_admin_credentials(
    admin: Any, cognito_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = emulator.provision(cognito_endpoint, load_declaration(SAMPLE), name="replacing")
    status = poolcheck.main(
        [
            *("--config", str(SAMPLE), "--pool", pool.pool_id, "--client", pool.client_id),
            *("--region", emulator.REGION, "--endpoint-url", cognito_endpoint),
        ],
        env={"SIGNUP_REPLACE_UNCONFIRMED": "1"},
    )
    report = capsys.readouterr().out
    assert status == 0, report
    assert "SIGNUP_REPLACE_UNCONFIRMED" not in report


PASSWORDLESS = Declaration(password=False)
WITH_PASSWORD = load_declaration(SAMPLE)
ESSENTIALS = {"UserPoolTier": "ESSENTIALS"}
OAUTH = {"ClientId": "site", "AllowedOAuthFlows": ["code"], "CallbackURLs": ["https://www.example.com/cb"]}


@pytest.mark.parametrize(
    ("mode", "declaration", "pool", "client", "expected"),
    [
        ("immediate", WITH_PASSWORD, ESSENTIALS, {"ExplicitAuthFlows": ["ALLOW_USER_AUTH"]}, []),
        ("immediate", WITH_PASSWORD, ESSENTIALS, {"ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH"]}, ["ALLOW_USER_AUTH"]),
        ("immediate", WITH_PASSWORD, {"UserPoolTier": "LITE"}, {"ExplicitAuthFlows": ["ALLOW_USER_AUTH"]}, ["Lite"]),
        ("none", PASSWORDLESS, {}, {}, ["passwordless sign-in"]),
        (
            "none",
            PASSWORDLESS,
            {"Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}}},
            {},
            [],
        ),
    ],
)
def test_the_pool_is_checked_for_the_chosen_way_to_finish_signed_in(
    mode: str, declaration: Any, pool: dict[str, Any], client: dict[str, Any], expected: list[str]
) -> None:
    problems = poolcheck.sign_in_problems(
        mode, declaration, pool=pool, client=client, sign_in_client=client, redirect_uri=None
    )
    assert len(problems) == len(expected)
    for problem, words in zip(problems, expected, strict=True):
        assert words in problem


@pytest.mark.parametrize(
    ("sign_in_client", "redirect_uri", "found"),
    [
        (OAUTH, "https://www.example.com/cb", []),
        (OAUTH, "https://evil.example/cb", ["is not among app client site's callback URLs"]),
        (OAUTH, None, ["SIGNUP_SIGN_IN_REDIRECT_URI (--redirect-uri) is not set: the hand-off needs the site's"]),
        ({**OAUTH, "AllowedOAuthFlows": ["implicit"]}, "https://www.example.com/cb", ["authorization code grant"]),
    ],
)
def test_the_hand_off_needs_the_code_flow_and_the_callback_on_the_sign_in_client(
    sign_in_client: dict[str, Any], redirect_uri: str | None, found: list[str]
) -> None:
    problems = poolcheck.sign_in_problems(
        "hand-off", WITH_PASSWORD, pool={}, client={}, sign_in_client=sign_in_client, redirect_uri=redirect_uri
    )
    assert [any(words in p for p in problems) for words in found] == [True] * len(found)
    assert len(problems) == len(found)
    assert not [p for p in problems if "None" in p]


def test_the_command_checks_the_sign_in_client_the_site_uses(
    admin: Any, cognito_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = emulator.provision(cognito_endpoint, load_declaration(SAMPLE), name="handoff")
    site = admin.create_user_pool_client(
        UserPoolId=pool.pool_id,
        ClientName="site",
        AllowedOAuthFlows=["code"],
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthScopes=["openid", "email"],
        CallbackURLs=["https://www.example.com/cb"],
    )["UserPoolClient"]["ClientId"]
    base = ["--config", str(SAMPLE), "--pool", pool.pool_id, "--client", pool.client_id, "--region", emulator.REGION]
    base += ["--endpoint-url", cognito_endpoint, "--sign-in", "hand-off", "--sign-in-client", site]
    assert poolcheck.main([*base, "--redirect-uri", "https://www.example.com/cb"]) == 0
    assert poolcheck.main([*base, "--redirect-uri", "https://www.example.com/other"]) == 1
    assert "is not among app client" in capsys.readouterr().out


PROVIDERS = ROOT / "tests" / "declarations" / "providers.toml"  # Google, SignInWithApple, CompanyIdP
WITH_PROVIDERS = load_declaration(PROVIDERS)


@pytest.mark.parametrize(
    ("in_pool", "supported", "found"),
    [
        (["Google", "SignInWithApple", "CompanyIdP"], ["COGNITO", "Google", "SignInWithApple", "CompanyIdP"], []),
        (
            ["Google", "CompanyIdP"],
            ["COGNITO", "Google", "CompanyIdP"],
            ["identity provider 'SignInWithApple': the pool has no identity provider of that name"],
        ),
        (
            ["Google", "SignInWithApple", "CompanyIdP"],
            ["COGNITO", "Google", "SignInWithApple"],
            ["identity provider 'CompanyIdP': app client site, which the site signs in with, does not list it in "],
        ),
    ],
)
def test_a_declared_provider_the_pool_or_the_sign_in_client_lacks_is_a_difference(
    in_pool: list[str], supported: list[str], found: list[str]
) -> None:
    providers = [{"ProviderName": name, "ProviderType": "OIDC"} for name in in_pool]
    client = {"ClientId": "site", "SupportedIdentityProviders": supported}
    problems = poolcheck.identity_provider_problems(WITH_PROVIDERS, providers, client)
    assert len(problems) == len(found) and all(words in p for words, p in zip(found, problems, strict=True))


def test_the_pools_providers_are_read_page_after_page_only_for_a_declaration_that_lists_some(
    capsys: pytest.CaptureFixture[str],
) -> None:
    cognito = boto3.client("cognito-idp", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    request = create_user_pool_request(WITH_PROVIDERS, "providers")
    pool = {
        "Id": "eu-west-1_Pool1",
        **{key: request[key] for key in ("Policies", "UsernameAttributes", "AutoVerifiedAttributes")},
        "SchemaAttributes": request["Schema"],
    }
    client = {
        "ClientId": "c",
        "SupportedIdentityProviders": ["COGNITO", "Google", "SignInWithApple", "CompanyIdP"],
        "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH"],
    }
    first = [
        {"ProviderName": "Google", "ProviderType": "Google"},
        {"ProviderName": "CompanyIdP", "ProviderType": "SAML"},
    ]
    listing = {"UserPoolId": "eu-west-1_Pool1", "MaxResults": 60}
    argv = ["--config", str(PROVIDERS), "--pool", "eu-west-1_Pool1", "--client", "c", "--region", "eu-west-1"]
    with StrictStubber(cognito) as stub:
        stub.add_response("describe_user_pool", {"UserPool": pool}, {"UserPoolId": "eu-west-1_Pool1"})
        stub.add_response("describe_user_pool_client", {"UserPoolClient": client})
        stub.add_response("list_identity_providers", {"Providers": first, "NextToken": "2"}, listing)
        stub.add_response(
            "list_identity_providers",
            {"Providers": [{"ProviderName": "SignInWithApple", "ProviderType": "SignInWithApple"}]},
            {**listing, "NextToken": "2"},
        )
        status = poolcheck.main(argv, env={}, cognito=cognito)
    report = capsys.readouterr().out
    assert status == 0, report
    assert "· the pool's identity providers: Google (Google), CompanyIdP (SAML), SignInWithApple (SignInWithApple)" in (
        report
    )


def test_the_command_names_a_declared_provider_the_local_pool_does_not_have(
    admin: Any, cognito_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = emulator.provision(cognito_endpoint, WITH_PROVIDERS, name="providers")
    admin.create_identity_provider(
        UserPoolId=pool.pool_id,
        ProviderName="CompanyIdP",
        ProviderType="OIDC",
        ProviderDetails={
            "client_id": "idp-client",
            "client_secret": "idp-secret",
            "authorize_scopes": "openid email",
            "attributes_request_method": "GET",
            "oidc_issuer": "https://idp.example.com",
            "authorize_url": "https://idp.example.com/authorize",
            "token_url": "https://idp.example.com/token",
            "attributes_url": "https://idp.example.com/userinfo",
            "jwks_uri": "https://idp.example.com/jwks",
        },
        AttributeMapping={"email": "email"},
    )
    site = admin.create_user_pool_client(
        UserPoolId=pool.pool_id, ClientName="site", SupportedIdentityProviders=["COGNITO", "CompanyIdP"]
    )["UserPoolClient"]["ClientId"]
    base = ["--config", str(PROVIDERS), "--pool", pool.pool_id, "--client", pool.client_id, "--region", emulator.REGION]
    assert poolcheck.main([*base, "--endpoint-url", cognito_endpoint, "--sign-in-client", site]) == 1
    report = capsys.readouterr().out
    assert "· the pool's identity providers: CompanyIdP (OIDC)" in report
    for name in ("Google", "SignInWithApple"):
        assert f"✗ identity provider {name!r}: the pool has no identity provider of that name" in report
    assert "'CompanyIdP'" not in report.replace("CompanyIdP (OIDC)", "")
    assert "2 difference(s)" in report
