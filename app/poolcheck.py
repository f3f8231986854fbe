"""`python -m app.poolcheck`: does the form's declaration match the real user pool and app client?

Most sign-up failures in the field come from drift between the two: an attribute the pool does
not have (or has with another type or limit), a different password policy or username mode, an
app client without write permission on an attribute. This reads the declaration (SIGNUP_CONFIG),
then the pool and client (DescribeUserPool, DescribeUserPoolClient, with the caller's IAM
credentials), and reports every difference. Exit status: 0 when they match, 1 otherwise.

It also warns about settings that work in a test but fail at launch (Cognito's own email sender,
SMS without a role, a client that cannot pass the person's IP address, usernames that tell
letter case apart); warnings do not change the exit status, since a pool may rightly be set up
that way. With `--replace-unconfirmed` (SIGNUP_REPLACE_UNCONFIRMED) it checks that the
credentials may make the admin calls that setting needs. When the declaration lists identity
providers, it reads the pool's (ListIdentityProviders), prints them, and reports a declared one the
pool does not have, or that the sign-in client does not support.

`--write FILE` first writes a declaration from the pool and client (see app.aws.pool), then checks it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from app.aws.cognito import CognitoSignup
from app.aws.pool_declaration import declaration_from_pool
from app.config.declaration import load_declaration
from app.config.kinds import COGNITO_MANAGED, TYPES, AttributeType
from app.config.model import Declaration
from app.config.settings import SignInMode, switch
from app.errors import ConfigError
from app.web.i18n import available_languages

TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def compare(declaration: Declaration, pool: Mapping[str, Any], client: Mapping[str, Any]) -> list[str]:
    """Every way the declaration and the pool or client disagree, as sentences for the operator."""
    problems = _username_mode(declaration, pool) + _password_policy(declaration, pool)
    schema = {a["Name"]: a for a in pool.get("SchemaAttributes", [])}
    for attribute in declaration.written_attributes:
        found = schema.get(attribute.name)
        if found is None:
            problems.append(
                f"{attribute.name}: the pool has no such attribute; "
                "SignUp fails with 'Attributes did not conform to the schema'"
            )
            continue
        problems += _attribute(attribute, found)
    declared_required = {a.name for a in declaration.attributes if a.required or a.name == declaration.username}
    for name, entry in schema.items():
        if entry.get("Required") and name not in COGNITO_MANAGED and name not in declared_required:
            problems.append(f"{name}: the pool requires it, but the form does not ask for it (or not as required)")
    return problems + _client(declaration, client)


def _username_mode(declaration: Declaration, pool: Mapping[str, Any]) -> list[str]:
    modes = set(pool.get("UsernameAttributes") or []) or {"username"}
    if declaration.username in modes:
        return []
    return [
        f"username: the declaration says {declaration.username!r}, the pool signs in with {', '.join(sorted(modes))}"
    ]


def _password_policy(declaration: Declaration, pool: Mapping[str, Any]) -> list[str]:
    actual = pool.get("Policies", {}).get("PasswordPolicy", {})
    declared = declaration.password_policy
    pairs = {
        "minimum_length": ("MinimumLength", declared.minimum_length),
        "require_uppercase": ("RequireUppercase", declared.require_uppercase),
        "require_lowercase": ("RequireLowercase", declared.require_lowercase),
        "require_numbers": ("RequireNumbers", declared.require_numbers),
        "require_symbols": ("RequireSymbols", declared.require_symbols),
    }
    return [
        f"password_policy.{key}: the declaration says {mine!r}, the pool says {actual.get(theirs)!r}"
        for key, (theirs, mine) in pairs.items()
        if actual.get(theirs) != mine
    ]


def _attribute(attribute: Any, entry: Mapping[str, Any]) -> list[str]:
    name, problems = attribute.name, []
    if entry.get("AttributeDataType") != TYPES[attribute.type].cognito:
        problems.append(f"{name}: declared as {attribute.type}, but the pool holds {entry.get('AttributeDataType')}")
        return problems
    if entry.get("DeveloperOnlyAttribute"):
        problems.append(f"{name}: the pool makes it developer-only, so no app client may write it")
    strings = entry.get("StringAttributeConstraints") or {}
    if (
        attribute.type == AttributeType.STRING
        and strings.get("MaxLength")
        and attribute.max_length > int(strings["MaxLength"])
    ):
        problems.append(
            f"{name}: the form allows {attribute.max_length} characters, the pool at most {strings['MaxLength']}"
        )
    if attribute.type == AttributeType.STRING and int(strings.get("MinLength") or 0) > (attribute.min_length or 0):
        problems.append(f"{name}: the pool needs at least {strings['MinLength']} characters, the form asks for fewer")
    numbers = entry.get("NumberAttributeConstraints") or {}
    if attribute.type == AttributeType.NUMBER:
        low, high = numbers.get("MinValue"), numbers.get("MaxValue")
        if low not in (None, "") and (attribute.min_value is None or attribute.min_value < int(low)):
            problems.append(f"{name}: the pool's smallest value is {low}, the form allows less")
        if high not in (None, "") and (attribute.max_value is None or attribute.max_value > int(high)):
            problems.append(f"{name}: the pool's largest value is {high}, the form allows more")
    return problems


def _client(declaration: Declaration, client: Mapping[str, Any]) -> list[str]:
    # A difference, not a warning: every sign-up that sends the attribute fails.
    problems = []
    writable = set(client.get("WriteAttributes") or [])
    if writable:  # an empty list means every attribute may be written
        for attribute in declaration.written_attributes:
            if attribute.name not in writable:
                problems.append(
                    f"{attribute.name}: the app client may not write it, so SignUp fails with 'A client attempted "
                    "to write unauthorized attribute'; add it to the client's attribute write permissions, "
                    "or remove it from the declaration"
                )
    return problems


def production_traps(declaration: Declaration, pool: Mapping[str, Any], client: Mapping[str, Any]) -> list[str]:
    """Settings that pass every test but hurt at launch, each with what to do about it.

    They are warnings, not differences: each can be a deliberate choice (a pool for a few testers,
    a client without a secret), so none of them changes the exit status.
    """
    traps = []
    verified = set(pool.get("AutoVerifiedAttributes") or [])
    sign_in = set(pool.get("UsernameAttributes") or [])
    # Only DEVELOPER sends through the customer's SES; anything else, or nothing (older pools), is Cognito's own.
    through_ses = (pool.get("EmailConfiguration") or {}).get("EmailSendingAccount") == "DEVELOPER"
    if not through_ses and ("email" in verified or declaration.code_attribute == "email"):
        traps.append(
            "email: the pool sends its codes through Cognito's default email sender, which allows 50 emails "
            "a day for the whole AWS account (beyond that SignUp fails with LimitExceededException, the account "
            "created but no code sent); before launch, verify a sender in Amazon SES and have the pool send "
            "through it (EmailConfiguration: EmailSendingAccount DEVELOPER with the SES identity's SourceArn)"
        )
    if "phone_number" in verified | sign_in or declaration.code_attribute == "phone_number":
        sandbox = (
            "Cognito's API cannot tell whether the account's Amazon SNS is still in the SMS sandbox, where "
            "texts reach only verified numbers: check it in the SNS console (Text messaging (SMS), in the "
            "pool's region), ask AWS to move it to production, and raise the monthly SMS spending limit"
        )
        if not (pool.get("SmsConfiguration") or {}).get("SnsCallerArn"):
            traps.append(
                "SMS: the pool verifies phone numbers or signs in with them, but has no SMS role "
                "(SmsConfiguration.SnsCallerArn), so Cognito cannot text a code; give the pool an IAM role "
                f"that may publish to Amazon SNS. Then: {sandbox}"
            )
        else:
            traps.append(f"SMS: {sandbox}")
    if (pool.get("UsernameConfiguration") or {}).get("CaseSensitive") is not False:
        traps.append(
            "usernames: the pool tells letter case apart (UsernameConfiguration.CaseSensitive is not false), so "
            '"Ann" and "ann" can be two accounts; the app sends email addresses in lower case, but a username '
            "typed in another case is another person. The setting is fixed when a pool is made: AWS advises "
            "case-insensitive pools"
        )
    if not client.get("ClientSecret"):
        traps.append(
            "app client: it has no secret, so the app cannot pass the person's IP address "
            "(UserContextData.IpAddress) and Cognito sees every sign-up come from the app's own address; "
            "for Cognito's threat protection, use an app client with a secret and "
            "EnablePropagateAdditionalUserContextData, and set COGNITO_CLIENT_SECRET"
        )
    elif not client.get("EnablePropagateAdditionalUserContextData"):
        traps.append(
            "app client: EnablePropagateAdditionalUserContextData is off, so Cognito ignores the IP address the "
            "app sends and sees every sign-up come from the app's own address; turn it on in the app client's "
            "settings (UpdateUserPoolClient resets every setting it is not given, so pass them all)"
        )
    return traps


# The calls SIGNUP_REPLACE_UNCONFIRMED needs (app.aws.cognito): read an account's status, delete an
# unconfirmed one, and sign out every session after a new password.
_ADMIN_CALLS = ("AdminGetUser", "AdminDeleteUser", "AdminUserGlobalSignOut")


def admin_problems(cognito: Any, pool_id: str) -> list[str]:
    """The admin calls these credentials may not make on the pool (SIGNUP_REPLACE_UNCONFIRMED needs them all).

    Each is made for a username no account can have: Cognito answers UserNotFoundException only to a
    caller it allowed, and nothing is read or changed.
    """
    username = f"signup-permission-check-{secrets.token_hex(8)}"
    problems = []
    for call in _ADMIN_CALLS:
        try:
            getattr(cognito, _snake(call))(UserPoolId=pool_id, Username=username)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            if code != "UserNotFoundException":
                problems.append(
                    f"SIGNUP_REPLACE_UNCONFIRMED needs cognito-idp:{call} on the pool, and these credentials were "
                    f"refused it ({code}): give the app's role, and these credentials, the policy in "
                    "docs/protection.md#unfinished-sign-ups"
                )
        except BotoCoreError as err:
            problems.append(
                f"SIGNUP_REPLACE_UNCONFIRMED: cognito-idp:{call} could not be checked ({type(err).__name__})"
            )
    return problems


def session_warnings(replace_unconfirmed: bool, client: Mapping[str, Any]) -> list[str]:
    """Whether a person who sets their own password on a sign-up started elsewhere can have every
    other session signed out: through the admin calls, or a password sign-in of the app client."""
    if replace_unconfirmed or "ALLOW_USER_PASSWORD_AUTH" in (client.get("ExplicitAuthFlows") or []):
        return []
    return [
        "sessions: after a person finishes a sign-up started elsewhere and sets their own password, the app "
        "cannot sign out the sessions of whoever chose the first one: allow ALLOW_USER_PASSWORD_AUTH in the "
        "app client's ExplicitAuthFlows, or set SIGNUP_REPLACE_UNCONFIRMED (which uses AdminUserGlobalSignOut)"
    ]


def _snake(call: str) -> str:
    """boto3's method name for an API call: AdminGetUser → admin_get_user."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in call).lstrip("_")


def sign_in_problems(
    mode: str,
    declaration: Declaration,
    *,
    pool: Mapping[str, Any],
    client: Mapping[str, Any],
    sign_in_client: Mapping[str, Any],
    redirect_uri: str | None,
) -> list[str]:
    """What keeps the chosen way of finishing signed in (SIGNUP_SIGN_IN) from working with this pool."""
    problems = []
    if mode == SignInMode.IMMEDIATE:
        if "ALLOW_USER_AUTH" not in (client.get("ExplicitAuthFlows") or []):
            problems.append(
                "sign-in: SIGNUP_SIGN_IN=immediate needs ALLOW_USER_AUTH in the app client's ExplicitAuthFlows; "
                "without it every sign-up ends without being signed in"
            )
        if pool.get("UserPoolTier") == "LITE":
            problems.append("sign-in: SIGNUP_SIGN_IN=immediate needs the Essentials or Plus plan; the pool is on Lite")
    if not declaration.password:
        factors = set((pool.get("Policies") or {}).get("SignInPolicy", {}).get("AllowedFirstAuthFactors") or [])
        if not factors & {"EMAIL_OTP", "SMS_OTP"}:
            problems.append(
                "password = false: the pool does not allow passwordless sign-in (SignInPolicy's "
                "AllowedFirstAuthFactors has neither EMAIL_OTP nor SMS_OTP), so SignUp without a password fails"
            )
    if mode == SignInMode.HAND_OFF or (mode == SignInMode.IMMEDIATE and redirect_uri):
        name = f"app client {sign_in_client.get('ClientId', '')}"
        if "code" not in (sign_in_client.get("AllowedOAuthFlows") or []):
            problems.append(f"sign-in: the hand-off needs the authorization code grant in {name}'s OAuth flows")
        if not redirect_uri:
            problems.append(
                "sign-in: SIGNUP_SIGN_IN_REDIRECT_URI (--redirect-uri) is not set: the hand-off needs the site's "
                f"callback, one of {name}'s callback URLs"
            )
        elif redirect_uri not in (sign_in_client.get("CallbackURLs") or []):
            problems.append(
                f"sign-in: SIGNUP_SIGN_IN_REDIRECT_URI {redirect_uri!r} is not among {name}'s callback URLs, "
                "so Managed Login refuses the hand-off"
            )
    return problems


def identity_provider_problems(
    declaration: Declaration, providers: Sequence[Mapping[str, Any]], sign_in_client: Mapping[str, Any]
) -> list[str]:
    """Each declared provider whose button Managed Login would refuse: the pool does not have it, or
    the client the site signs in with does not support it (SupportedIdentityProviders)."""
    in_pool = {p["ProviderName"] for p in providers}
    supported = set(sign_in_client.get("SupportedIdentityProviders") or [])
    client = f"app client {sign_in_client.get('ClientId', '')}"
    problems = []
    for provider in declaration.identity_providers:
        if provider.name not in in_pool:
            problems.append(
                f"identity provider {provider.name!r}: the pool has no identity provider of that name "
                "(ProviderName; the names are case-sensitive), so its button ends on Managed Login's error page"
            )
        elif provider.name not in supported:
            problems.append(
                f"identity provider {provider.name!r}: {client}, which the site signs in with, does not list it "
                "in SupportedIdentityProviders, so Managed Login refuses its button; add it to the client"
            )
    return problems


# Each argument, and the environment variable it defaults to.
_SOURCES = {
    "config": "SIGNUP_CONFIG",
    "pool": "COGNITO_USER_POOL_ID",
    "client": "COGNITO_CLIENT_ID",
    "region": "COGNITO_REGION",
    "endpoint_url": "COGNITO_ENDPOINT_URL",
    "redirect_uri": "SIGNUP_SIGN_IN_REDIRECT_URI",
    "sign_in_client": "SIGNUP_SIGN_IN_CLIENT_ID",
}
_CREDENTIALS = (
    "IAM credentials allowed cognito-idp:DescribeUserPool and cognito-idp:DescribeUserPoolClient "
    "(and cognito-idp:ListIdentityProviders for a declaration with identity providers) "
    "(AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a role)"
)
_REFUSED_CREDENTIALS = {
    "AccessDeniedException",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredTokenException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
}


@dataclass(frozen=True)
class Found:
    """What the check reads from Cognito: the pool, the app client, and the client the site signs in
    with; the pool's identity providers when the declaration lists some (None: not read)."""

    pool: Mapping[str, Any]
    client: Mapping[str, Any]
    sign_in_client: Mapping[str, Any]
    identity_providers: Sequence[Mapping[str, Any]] | None = None


class NotFound(Exception):
    """Something the check could not read, said as what was not found and what to do about it."""


def main(argv: list[str] | None = None, env: Mapping[str, str] = os.environ, cognito: Any = None) -> int:
    """Check a declaration against the pool (or write one from it first); `cognito` is for tests."""
    args = parse(argv, env)
    if args is None:
        return 1
    path = args.write or args.config
    if args.write and not args.force and Path(path).exists():
        print(f"✗ {path} exists; pass --force to replace it")
        return 1
    declaration = None if args.write else _load(path)
    if declaration is None and not args.write:
        return 1
    if cognito is None:
        cognito = boto3.session.Session().client("cognito-idp", region_name=args.region, endpoint_url=args.endpoint_url)
    try:
        found = fetch(cognito, args, identity_providers=bool(declaration and declaration.identity_providers))
    except NotFound as err:
        print(f"✗ {err}")
        return 1
    if args.write:
        if not write(path, found, force=args.force):
            return 1
        print(f"✓ wrote {path} from user pool {args.pool} and app client {args.client}")
        declaration = _load(path)
    if declaration is None:
        return 1
    secret = env.get("COGNITO_CLIENT_SECRET")
    service = CognitoSignup(cognito, client_id=args.client, client_secret=secret) if secret else None
    admin = admin_problems(cognito, args.pool) if args.replace_unconfirmed else []
    return report(declaration, found, args, service, admin)


def parse(argv: list[str] | None, env: Mapping[str, str]) -> argparse.Namespace | None:
    """The arguments, each defaulting to its environment variable; None (and why) when one is missing."""
    parser = argparse.ArgumentParser(prog="python -m app.poolcheck", description=__doc__.split("\n")[0])
    helps = {"config": "the TOML declaration", "pool": "user pool id", "client": "app client id", "region": "region"}
    for name, variable in _SOURCES.items():
        flag = "--" + name.replace("_", "-")
        parser.add_argument(flag, default=env.get(variable) or None, help=f"{helps.get(name, '')} ({variable})".strip())
    parser.add_argument(
        "--write", metavar="FILE", help="first write a declaration from the pool and app client to FILE, then check it"
    )
    parser.add_argument("--force", action="store_true", help="with --write: replace FILE if it exists")
    parser.add_argument(
        "--replace-unconfirmed",
        action="store_true",
        default=bool(switch(env.get("SIGNUP_REPLACE_UNCONFIRMED", ""), False)),
        help="check the admin calls SIGNUP_REPLACE_UNCONFIRMED needs (SIGNUP_REPLACE_UNCONFIRMED)",
    )
    parser.add_argument(
        "--sign-in",
        default=env.get("SIGNUP_SIGN_IN")
        or SignInMode.default(env.get("COGNITO_DOMAIN"), env.get("SIGNUP_SIGN_IN_REDIRECT_URI")).value,
        choices=[mode.value for mode in SignInMode],
        help="how the flow ends (SIGNUP_SIGN_IN): also check the pool and clients allow it",
    )
    args = parser.parse_args(argv)
    needed = ("pool", "client", "region") if args.write else ("config", "pool", "client", "region")
    missing = [f"--{name} ({_SOURCES[name]})" for name in needed if not getattr(args, name)]
    if missing:
        print(f"Missing: {', '.join(missing)}: give the argument or set the variable", file=sys.stderr)
        return None
    return args


def fetch(cognito: Any, args: argparse.Namespace, *, identity_providers: bool = False) -> Found:
    """The pool and the app clients (and the pool's identity providers, when asked), or NotFound saying
    which of them was not found, or why none could be read."""
    pool_region = args.pool.split("_", 1)[0]
    if pool_region != args.region:
        raise NotFound(
            f"user pool {args.pool} is in {pool_region}, but the region is {args.region} "
            f"(--region, COGNITO_REGION): set it to {pool_region}"
        )
    pool = _read(cognito.describe_user_pool, args, "pool", UserPoolId=args.pool)["UserPool"]
    client = _read(cognito.describe_user_pool_client, args, "client", UserPoolId=args.pool, ClientId=args.client)
    sign_in_client = client
    if args.sign_in_client and args.sign_in_client != args.client:
        sign_in_client = _read(
            cognito.describe_user_pool_client,
            args,
            "sign_in_client",
            UserPoolId=args.pool,
            ClientId=args.sign_in_client,
        )
    providers = _identity_providers(cognito, args) if identity_providers else None
    return Found(pool, client["UserPoolClient"], sign_in_client["UserPoolClient"], providers)


def _identity_providers(cognito: Any, args: argparse.Namespace) -> list[Mapping[str, Any]]:
    """Every identity provider of the pool, page after page (ListIdentityProviders gives 60 at most)."""
    providers: list[Mapping[str, Any]] = []
    more: dict[str, str] = {}
    while True:
        page = _read(cognito.list_identity_providers, args, "pool", UserPoolId=args.pool, MaxResults=60, **more)
        providers += page.get("Providers", [])
        if not page.get("NextToken"):
            return providers
        more = {"NextToken": page["NextToken"]}


def _read(call: Callable[..., dict[str, Any]], args: argparse.Namespace, what: str, **params: Any) -> dict[str, Any]:
    """One read of Cognito, its failure said for the operator: what was not found, or why nothing could be read."""
    try:
        return call(**params)
    except NoCredentialsError as err:
        raise NotFound(f"no AWS credentials found: the check needs {_CREDENTIALS}") from err
    except BotoCoreError as err:  # connection refused, DNS, timeouts, TLS
        where = args.endpoint_url or f"Cognito in {args.region}"
        raise NotFound(
            f"cannot reach {where} ({type(err).__name__}): check --region (COGNITO_REGION), "
            "--endpoint-url (COGNITO_ENDPOINT_URL) and the network"
        ) from err
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        said = f"{code}: {err.response.get('Error', {}).get('Message', '')}"
        if code == "ResourceNotFoundException" and what == "pool":
            raise NotFound(
                f"user pool {args.pool} was not found in {args.region} (--pool, COGNITO_USER_POOL_ID): check the id, "
                f"and that these credentials belong to the pool's AWS account ({said})"
            ) from err
        if code == "ResourceNotFoundException":
            raise NotFound(
                f"app client {getattr(args, what)} was not found in user pool {args.pool} "
                f"(--{what.replace('_', '-')}, {_SOURCES[what]}): check the id among the pool's app clients ({said})"
            ) from err
        if code in _REFUSED_CREDENTIALS:
            raise NotFound(f"AWS refused the credentials ({said}): the check needs {_CREDENTIALS}") from err
        raise NotFound(f"cannot read user pool {args.pool} ({said})") from err


def write(path: str, found: Found, *, force: bool) -> bool:
    """A declaration written from the pool and app client; False (and why) when the file cannot be written."""
    text = declaration_from_pool(found.pool, found.client, available_languages(TRANSLATIONS))
    try:
        with open(path, "w" if force else "x", encoding="utf-8") as file:
            file.write(text)
    except OSError as err:  # an existing file included: "x" refuses it even if it appeared just now
        print(f"✗ cannot write {path}: {err.strerror}")
        return False
    return True


def _load(path: str) -> Declaration | None:
    try:
        declaration = load_declaration(path)
    except ConfigError as err:
        print(f"✗ {path} is not a valid declaration:\n" + "\n".join(f"  - {p}" for p in err.problems))
        return None
    print(f"✓ {path} is a valid declaration ({len(declaration.attributes)} attributes)")
    return declaration


def report(
    declaration: Declaration,
    found: Found,
    args: argparse.Namespace,
    service: CognitoSignup | None,
    admin: Sequence[str] = (),
) -> int:
    """Print the differences, then the warnings; the exit status counts the differences only.

    With COGNITO_CLIENT_SECRET set, `service` makes the check the app makes at start-up and for /readyz
    (CognitoSignup.check_client), in the same words; without it, the report says it was not made.
    """
    problems = (
        compare(declaration, found.pool, found.client)
        + sign_in_problems(
            args.sign_in,
            declaration,
            pool=found.pool,
            client=found.client,
            sign_in_client=found.sign_in_client,
            redirect_uri=args.redirect_uri,
        )
        + list(admin)
    )
    if found.identity_providers is not None:
        problems += identity_provider_problems(declaration, found.identity_providers, found.sign_in_client)
    if service is not None and (wrong := service.check_client()) is not None:
        problems.append(str(wrong))
    for problem in problems:
        print(f"✗ {problem}")
    traps = production_traps(declaration, found.pool, found.client) + session_warnings(
        args.replace_unconfirmed, found.client
    )
    for trap in traps:
        print(f"⚠ {trap}")
    if found.identity_providers is not None:
        listed = ", ".join(f"{p['ProviderName']} ({p['ProviderType']})" for p in found.identity_providers)
        print(f"· the pool's identity providers: {listed or 'none'}")
    if service is None and found.client.get("ClientSecret"):
        print("· COGNITO_CLIENT_SECRET is not set here, so the secret was not checked; set it to check it")
    pool_and_client = f"user pool {args.pool} and app client {args.client}"
    path = args.write or args.config
    if problems:
        print(f"{len(problems)} difference(s) between {path} and {pool_and_client}.")
        return 1
    warned = f", with {len(traps)} warning(s) to read before launch" if traps else ""
    print(f"✓ {pool_and_client} match the declaration {path}{warned}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
