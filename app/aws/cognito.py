"""The sign-up service: Cognito's SignUp, ConfirmSignUp and ResendConfirmationCode, the password
reset that finishes a sign-up somebody else may have started, and the admin calls that replace an
unconfirmed account (when the operator allows them).

It takes plain values and returns plain results, so it knows nothing of Flask requests, forms
or languages. Every botocore failure leaves here as one of the app's own errors (app.errors),
naming a message safe to show; the operator-facing detail goes to the log, without any secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, StubResponseError

from app.config.settings import Settings
from app.errors import (
    AlreadyConfirmed,
    InvalidInput,
    NotVerified,
    Refused,
    ServiceUnavailable,
    SessionRefused,
    SignupError,
    TooManyAttempts,
    UsernameExists,
    UserNotFound,
)
from app.ops.metrics import COGNITO_IN_FLIGHT, COGNITO_LATENCY, COGNITO_MAX_IN_FLIGHT, COGNITO_REFUSED

log = logging.getLogger(__name__)

# The readiness check's usernames (CognitoSignup.check_client): recognisable in Cognito's logs.
CHECK_USERNAME_PREFIX = "signup-readiness-check-"


def secret_hash(client_secret: str, username: str, client_id: str) -> str:
    """Cognito's SecretHash: Base64(HMAC-SHA256(key=client secret, message=username + client id)).

    The username must be exactly the string sent as Username in the same call.
    """
    digest = hmac.new(client_secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@cache
def _session() -> boto3.session.Session:
    """One boto3 session a process. A session reads Cognito's service model and the endpoint rules
    from disk when it makes its first client (about 90 ms); clients made later reuse them."""
    return boto3.session.Session()


def create_client(settings: Settings) -> Any:
    """The one cognito-idp client of this process.

    The public operations need no AWS credentials, so the client is unsigned: nothing is looked up
    in the environment or the instance metadata service. Only SIGNUP_REPLACE_UNCONFIRMED needs the
    admin calls (AdminGetUser, AdminDeleteUser, AdminUserGlobalSignOut): then the client signs its
    requests with the usual credentials chain, which the public operations accept too. Timeouts are
    explicit and the retry budget is bounded (standard mode also caps retries across the process), so a slow
    Cognito costs a person seconds, not minutes. The connection pool holds a connection for each
    of the worker's threads and one for the readiness check (app.web.health), so none is thrown away.
    """
    config = Config(
        signature_version=None if settings.replace_unconfirmed else UNSIGNED,
        connect_timeout=settings.cognito.connect_timeout,
        read_timeout=settings.cognito.read_timeout,
        retries={"mode": "standard", "total_max_attempts": settings.cognito.max_attempts},
        max_pool_connections=settings.threads + 1,
        # The forms check every value first; Cognito's own InvalidParameterException (which the
        # app maps) is a better answer than botocore's client-side one, and it saves CPU.
        parameter_validation=False,
        user_agent_extra="cognito-signup",
    )
    return _session().client(
        "cognito-idp",
        region_name=settings.cognito.region,
        endpoint_url=settings.cognito.endpoint_url,
        config=config,
    )


@dataclass(frozen=True)
class RequestContext:
    """What Cognito learns about the person's visit: for its risk checks, and for the triggers."""

    ip_address: str
    encoded_data: str | None = None  # from Cognito's advanced-security script, when enabled
    client_metadata: Mapping[str, str] = field(default_factory=dict)  # where they came from (attribution)


class Medium(StrEnum):
    """How Cognito sent a code (its DeliveryMediumType)."""

    EMAIL = "EMAIL"
    SMS = "SMS"


@dataclass(frozen=True)
class CodeDelivery:
    """Where Cognito sent a confirmation code, as Cognito reports it (usually masked)."""

    destination: str
    medium: Medium
    attribute: str


@dataclass(frozen=True)
class Account:
    """An existing account, as AdminGetUser describes it."""

    status: str  # UNCONFIRMED, CONFIRMED, FORCE_CHANGE_PASSWORD, RESET_REQUIRED, EXTERNAL_PROVIDER, ...
    sub: str

    @property
    def unconfirmed(self) -> bool:
        return self.status == "UNCONFIRMED"


@dataclass(frozen=True)
class SignUpResult:
    confirmed: bool  # True when a pre sign-up trigger confirmed the account already
    user_sub: str
    delivery: CodeDelivery | None
    session: str | None = None  # for ConfirmSignUp, on the way to signing in at once


@dataclass(frozen=True)
class Tokens:
    """What Cognito gives a signed-in person. Credentials: never logged, never in an address."""

    id_token: str
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str

    def __repr__(self) -> str:
        return f"Tokens(expires_in={self.expires_in})"


@dataclass(frozen=True)
class ClientProblem:
    """Why Cognito would refuse every call of this app: for /readyz, the log and the pool check."""

    reason: str  # short, naming the setting: what /readyz answers
    detail: str  # what Cognito said, and what to do about it
    unreachable: bool = False  # Cognito did not answer (its address, the network), rather than refused

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}"


class CognitoSignup:
    """Signs people up in one user pool through one app client."""

    def __init__(
        self,
        client: Any,
        *,
        client_id: str,
        client_secret: str | None = None,
        client_metadata: Mapping[str, str] | None = None,
        validation_data: Mapping[str, str] | None = None,
        analytics_endpoint_id: str | None = None,
        max_in_flight: int = 24,
        user_pool_id: str = "",
        admin: bool = False,
    ) -> None:
        self._client = client
        self._user_pool_id = user_pool_id
        # Whether the operator gave the app IAM credentials for the admin calls (SIGNUP_REPLACE_UNCONFIRMED).
        self.admin = admin
        self._client_id = client_id
        self._client_secret = client_secret
        self._client_metadata = dict(client_metadata or {})
        self._validation_data = [{"Name": k, "Value": v} for k, v in (validation_data or {}).items()]
        self._analytics_endpoint_id = analytics_endpoint_id
        self._max_in_flight = max_in_flight
        self._in_flight = threading.BoundedSemaphore(max_in_flight)
        COGNITO_MAX_IN_FLIGHT.set(max_in_flight)

    def sign_up(
        self,
        username: str,
        password: str | None,
        attributes: Mapping[str, str],
        context: RequestContext,
        validation_data: Mapping[str, str] | None = None,
    ) -> SignUpResult:
        """Create the account; without a password for a pool with passwordless sign-in.

        `validation_data` is this sign-up's own (an invitation's), added to the declared pairs for
        a pre sign-up trigger. Raises a SignupError subclass on any failure.
        """
        params = self._params(username, context)
        if password is not None:
            params["Password"] = password
        params["UserAttributes"] = [{"Name": k, "Value": v} for k, v in attributes.items()]
        validation = self._validation_data + [{"Name": k, "Value": v} for k, v in (validation_data or {}).items()]
        if validation:
            params["ValidationData"] = validation
        answer = self._call("SignUp", params)
        return SignUpResult(
            confirmed=bool(answer.get("UserConfirmed")),
            user_sub=answer.get("UserSub", ""),
            delivery=_delivery(answer.get("CodeDeliveryDetails")),
            session=answer.get("Session") or None,
        )

    def confirm_sign_up(
        self, username: str, code: str, context: RequestContext, session: str | None = None
    ) -> str | None:
        """Confirm the account with the code the person received; returns Cognito's next Session.

        With SignUp's Session, Cognito answers with one that signs the account in (sign_in). A
        Session Cognito no longer accepts is not worth an error: the account is confirmed without
        it. Raises AlreadyConfirmed when there is nothing left to confirm.
        """
        params = self._params(username, context)
        params["ConfirmationCode"] = code
        if session:
            try:
                answer = self._call("ConfirmSignUp", {**params, "Session": session})
            except SessionRefused:
                answer = self._call("ConfirmSignUp", params)
        else:
            answer = self._call("ConfirmSignUp", params)
        return answer.get("Session") or None

    def sign_in(
        self, username: str, session: str | None, context: RequestContext, *, password: str = ""
    ) -> Tokens | None:
        """Sign an account in with USER_AUTH: a just-confirmed one with ConfirmSignUp's Session (no
        password), or one whose new password was just set, with that password.

        None when Cognito asks for more (a challenge, such as a second factor): the person signs in
        the usual way instead. Raises a SignupError subclass on a failure.
        """
        params = self._params(username, context)
        auth = {"USERNAME": params.pop("Username")}
        if "SecretHash" in params:
            auth["SECRET_HASH"] = params.pop("SecretHash")
        if password:
            auth.update(PREFERRED_CHALLENGE="PASSWORD", PASSWORD=password)
        params.update(AuthFlow="USER_AUTH", AuthParameters=auth, **({"Session": session} if session else {}))
        answer = self._call("InitiateAuth", params).get("AuthenticationResult")
        if not answer or not answer.get("IdToken"):
            return None
        return Tokens(
            id_token=answer["IdToken"],
            access_token=answer.get("AccessToken", ""),
            refresh_token=answer.get("RefreshToken", ""),
            expires_in=int(answer.get("ExpiresIn", 3600)),
            token_type=answer.get("TokenType", "Bearer"),
        )

    def resend_confirmation_code(self, username: str, context: RequestContext) -> CodeDelivery | None:
        """Send a new code; returns where it went."""
        answer = self._call("ResendConfirmationCode", self._params(username, context))
        return _delivery(answer.get("CodeDeliveryDetails"))

    def forgot_password(self, username: str, context: RequestContext) -> CodeDelivery | None:
        """Send a code to set a new password; returns where it went.

        Cognito sends it only to a verified address: for an unconfirmed account it answers
        NotVerified (or, with PreventUserExistenceErrors, as if it had sent one).
        """
        answer = self._call("ForgotPassword", self._params(username, context))
        return _delivery(answer.get("CodeDeliveryDetails"))

    def confirm_forgot_password(self, username: str, code: str, password: str, context: RequestContext) -> None:
        """Set the account's password with the code ForgotPassword sent."""
        params = {**self._params(username, context), "ConfirmationCode": code, "Password": password}
        self._call("ConfirmForgotPassword", params)

    def sign_out_everywhere(self, username: str, password: str, context: RequestContext) -> bool:
        """Revoke every session of the account but none (its refresh tokens included); False when
        neither way is open to this app.

        With the admin calls, AdminUserGlobalSignOut. Otherwise the person's own new password signs
        in (USER_PASSWORD_AUTH, which the app client must allow) and GlobalSignOut uses that
        session. A sign-in Cognito answers with a challenge (a second factor) signs nothing out.
        """
        if self.admin:
            self._call("AdminUserGlobalSignOut", {"UserPoolId": self._user_pool_id, "Username": username})
            return True
        params = self._params(username, context)
        auth = {"USERNAME": params.pop("Username"), "PASSWORD": password}
        if "SecretHash" in params:
            auth["SECRET_HASH"] = params.pop("SecretHash")
        params.update(AuthFlow="USER_PASSWORD_AUTH", AuthParameters=auth)
        try:
            result = self._call("InitiateAuth", params).get("AuthenticationResult") or {}
        except SignupError:
            return False
        if not result.get("AccessToken"):
            return False
        self._call("GlobalSignOut", {"AccessToken": result["AccessToken"]})
        return True

    def account(self, username: str) -> Account | None:
        """The account with this username, or None (AdminGetUser: the admin calls only)."""
        try:
            answer = self._call("AdminGetUser", {"UserPoolId": self._user_pool_id, "Username": username})
        except UserNotFound:
            return None
        sub = next((a["Value"] for a in answer.get("UserAttributes", []) if a.get("Name") == "sub"), "")
        return Account(status=str(answer.get("UserStatus", "")), sub=sub)

    def delete_account(self, username: str) -> None:
        """Delete the account with this username (AdminDeleteUser: the admin calls only)."""
        self._call("AdminDeleteUser", {"UserPoolId": self._user_pool_id, "Username": username})

    def use_client(self, client: Any, max_in_flight: int) -> None:
        """From now on, call Cognito through `client`, and let at most `max_in_flight` calls wait at once.

        For a worker that learns its real thread count only once it is forked (app.components.fit_to_threads).
        Call it before the worker's first request: a call in flight would release a cap it never took.
        """
        self._client = client
        self._max_in_flight = max_in_flight
        self._in_flight = threading.BoundedSemaphore(max_in_flight)
        COGNITO_MAX_IN_FLIGHT.set(max_in_flight)

    def check_client(self) -> ClientProblem | None:
        """What would make Cognito refuse every call (the app client, its secret, Cognito's address), or None.

        One ConfirmSignUp, for a username nobody has (random, 128 bits) with a code no code can be.
        It needs the SecretHash, so Cognito checks the client, then the secret, and only then looks
        for the user: UserNotFoundException (CodeMismatchException when the client hides which users
        exist) means the client and the secret are right. It cannot confirm anyone, sends no message,
        runs no trigger and counts against no person's limits; it is not made through the bulkhead
        and counts in no sign-up metric. Any other answer from Cognito (a throttle, its own error)
        says nothing against the settings and counts as right.
        """
        username = CHECK_USERNAME_PREFIX + secrets.token_hex(16)
        params = {"ClientId": self._client_id, "Username": username, "ConfirmationCode": "not-a-code"}
        if self._client_secret:
            params["SecretHash"] = secret_hash(self._client_secret, username, self._client_id)
        try:
            self._client.confirm_sign_up(**params)
        except ClientError as err:
            return _client_problem(err, self._client_id, self._client.meta.region_name)
        except BotoCoreError as err:
            where = self._client.meta.endpoint_url
            return ClientProblem(
                "Cognito unreachable",
                f"no answer from {where} ({type(err).__name__}): check COGNITO_REGION and COGNITO_ENDPOINT_URL, "
                "and that this host may reach it (DNS, routes, security groups, a proxy)",
                unreachable=True,
            )
        return ClientProblem(
            "COGNITO_ENDPOINT_URL is not Cognito",
            f"{self._client.meta.endpoint_url} confirmed an account that cannot exist",
        )

    def _params(self, username: str, context: RequestContext) -> dict[str, Any]:
        """The parameters the three calls share: client, username, hash, context and metadata."""
        params: dict[str, Any] = {"ClientId": self._client_id, "Username": username}
        if self._client_secret:
            params["SecretHash"] = secret_hash(self._client_secret, username, self._client_id)
        user_context: dict[str, str] = {}
        if self._client_secret:
            # Cognito takes IpAddress only from clients with a secret (and propagation enabled).
            user_context["IpAddress"] = context.ip_address
        if context.encoded_data:
            user_context["EncodedData"] = context.encoded_data
        if user_context:
            params["UserContextData"] = user_context
        metadata = {**self._client_metadata, **context.client_metadata}
        if metadata:
            params["ClientMetadata"] = metadata
        if self._analytics_endpoint_id:
            params["AnalyticsMetadata"] = {"AnalyticsEndpointId": self._analytics_endpoint_id}
        return params

    def _call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Make one call; log it and time it, whatever its outcome.

        A bulkhead: at most `max_in_flight` calls wait on Cognito at once in this process. When
        Cognito is slow, the rest of the worker's threads stay free for pages and health checks,
        and a call over the cap is refused at once (the person gets the 503 page with the form
        kept) rather than queueing behind the others.
        """
        if not self._in_flight.acquire(blocking=False):
            COGNITO_REFUSED.labels(operation).inc()
            log.warning("Cognito %s: refused, %d calls already waiting on Cognito", operation, self._max_in_flight)
            raise ServiceUnavailable("unavailable", code="Busy")
        method = getattr(self._client, _METHODS[operation])
        started = time.perf_counter()
        outcome, level = "ok", logging.INFO
        COGNITO_IN_FLIGHT.inc()
        try:
            return method(**params)
        except ClientError as err:
            error = translate_error(operation, err)
            outcome = error.code
            raise error from err
        except StubResponseError:
            # Only botocore's Stubber raises these, when a test's expected call is not the one
            # made: let the test fail on the real mismatch, not on a 503 page.
            outcome = "stub-mismatch"
            raise
        except BotoCoreError as err:
            # Connection refused, DNS, timeouts, closed connections: Cognito is out of reach.
            outcome, level = type(err).__name__, logging.WARNING
            raise ServiceUnavailable("unavailable", code=outcome) from err
        finally:
            self._in_flight.release()
            COGNITO_IN_FLIGHT.dec()
            seconds = time.perf_counter() - started
            COGNITO_LATENCY.labels(operation).observe(seconds)
            log.log(
                level,
                "Cognito %s: %s",
                operation,
                outcome,
                extra={"operation": operation, "outcome": outcome, "latency_ms": round(seconds * 1000, 1)},
            )


_METHODS = {
    "SignUp": "sign_up",
    "ConfirmSignUp": "confirm_sign_up",
    "ResendConfirmationCode": "resend_confirmation_code",
    "InitiateAuth": "initiate_auth",
    "ForgotPassword": "forgot_password",
    "ConfirmForgotPassword": "confirm_forgot_password",
    "GlobalSignOut": "global_sign_out",
    "AdminGetUser": "admin_get_user",
    "AdminDeleteUser": "admin_delete_user",
    "AdminUserGlobalSignOut": "admin_user_global_sign_out",
}

# Error codes a person can act on: (error class, field, message key of app.web.messages). Everything
# not here is the operator's to fix and is shown as the generic "unavailable" message.
# Cognito does not say how long its throttles last; these waits are its quotas' scale.
_WAITS = {"TooManyRequestsException": 60, "LimitExceededException": 900, "TooManyFailedAttemptsException": 900}
_USER_ERRORS: dict[str, tuple[type[SignupError], str | None, str]] = {
    "InvalidPasswordException": (InvalidInput, "password", "password_refused"),
    "PasswordHistoryPolicyViolationException": (InvalidInput, "password", "password_refused"),  # used recently
    "UserNotConfirmedException": (NotVerified, "username", "not_verified"),  # a new password, never confirmed
    "UsernameExistsException": (UsernameExists, "username", "username_exists"),
    "AliasExistsException": (InvalidInput, "username", "alias_exists"),
    "UserNotFoundException": (UserNotFound, "username", "user_not_found"),
    "CodeMismatchException": (InvalidInput, "code", "wrong_code"),
    "ExpiredCodeException": (InvalidInput, "code", "code_expired"),
    "CodeDeliveryFailureException": (InvalidInput, None, "code_not_delivered"),
    "TooManyFailedAttemptsException": (TooManyAttempts, "code", "too_many_wrong_codes"),
    "TooManyRequestsException": (TooManyAttempts, None, "too_many_requests"),
    "LimitExceededException": (TooManyAttempts, None, "asked_too_often"),
    "ForbiddenException": (Refused, None, "blocked"),
}
_LAMBDA_PREFIXES = (
    "PreSignUp failed with error ",
    "CustomMessage failed with error ",
    "PostConfirmation failed with error ",
)


def translate_error(operation: str, err: ClientError) -> SignupError:
    """Turn a Cognito error answer into the app's own error for that case."""
    error = err.response.get("Error", {})
    code = error.get("Code", "Unknown")
    message = str(error.get("Message", ""))

    if code == "NotAuthorizedException" and "Current status is CONFIRMED" in message:
        return AlreadyConfirmed("already_confirmed", code=code)
    if code in ("NotAuthorizedException", "InvalidParameterException", "CodeMismatchException") and (
        "session" in message.lower()
    ):
        # A Session that expired, was used, or belongs to another sign-up: not the person's doing.
        return SessionRefused("unavailable", code=code)
    if code == "InvalidParameterException":
        if "already confirmed" in message.lower():
            return AlreadyConfirmed("already_confirmed", code=code)
        if "registered/verified" in message.lower():
            # ForgotPassword for an account whose address was never confirmed.
            return NotVerified("not_verified", "username", code=code)
        field = _invalid_parameter_field(message)
        if field is not None:
            return InvalidInput("bad_format", field, code=code)
        refused = _SCHEMA_REFUSAL.search(message)
        if refused:
            # "Attributes did not conform to the schema: given_name: The attribute is required":
            # the field it names says so (a pool stricter than the declaration, or only spaces typed).
            name, reason = refused.groups()
            key = "attribute_required" if "required" in reason.lower() else "bad_format"
            return InvalidInput(key, name, code=code)
    if code == "UserLambdaValidationException":
        # The message comes from the site owner's own trigger, written for their users.
        return InvalidInput("not_accepted", code=code, detail=_lambda_message(message))
    if code in _USER_ERRORS:
        error_class, field, key = _USER_ERRORS[code]
        if code == "LimitExceededException" and operation == "SignUp":
            key = "sending_limit"
        if error_class is TooManyAttempts:
            return TooManyAttempts(key, field, code=code, retry_after=_WAITS[code])
        return error_class(key, field, code=code)

    # Everything else is for the operator: a drifted schema, a wrong secret, a missing
    # Lambda permission, an internal error. Cognito's messages name no secret.
    log.error(
        "Cognito %s refused the request: %s: %s (reason %s)",
        operation,
        code,
        message,
        err.response.get("reasonCode", "-"),
    )
    return ServiceUnavailable("unavailable", code=code)


# An attribute the pool refused, named in the message (not an attribute the pool lacks: that one is
# "Type for attribute {custom:x} could not be determined", the operator's to fix).
_SCHEMA_REFUSAL = re.compile(r"did not conform to the schema: ([\w:.-]{1,32}): (.{1,200})")


def _invalid_parameter_field(message: str) -> str | None:
    """The input an InvalidParameterException is about, when it is about one the person typed."""
    lowered = message.lower()
    if "phone number" in lowered and "format" in lowered:
        return "phone_number"
    if "email" in lowered and "format" in lowered:
        return "email"
    if lowered.startswith("username should be"):
        return "username"
    return None


def _lambda_message(message: str) -> str:
    for prefix in _LAMBDA_PREFIXES:
        if message.startswith(prefix):
            return message.removeprefix(prefix).rstrip(".").strip()[:300]
    return ""


def _delivery(details: Mapping[str, str] | None) -> CodeDelivery | None:
    if not details:
        return None
    return CodeDelivery(
        destination=details.get("Destination", ""),
        medium=Medium.SMS if details.get("DeliveryMedium") == Medium.SMS else Medium.EMAIL,
        attribute=details.get("AttributeName", ""),
    )


def _client_problem(err: ClientError, client_id: str, region: str) -> ClientProblem | None:
    """The readiness check's answer read: which setting is wrong, if any (CognitoSignup.check_client)."""
    code = err.response.get("Error", {}).get("Code", "")
    message = str(err.response.get("Error", {}).get("Message", ""))
    lowered = message.lower()
    if code == "ResourceNotFoundException":
        reason, advice = "COGNITO_CLIENT_ID unknown", f"no app client {client_id} in {region}: check both settings"
    elif "secret" in lowered and "not configured" in lowered:
        reason, advice = "COGNITO_CLIENT_SECRET set, but the app client has none", "unset it, or use a client with one"
    elif "secret_hash was not received" in lowered:
        reason, advice = "COGNITO_CLIENT_SECRET missing", f"app client {client_id} has a secret: set it to that"
    elif code == "NotAuthorizedException" and "secret hash" in lowered:
        reason, advice = "COGNITO_CLIENT_SECRET wrong", f"it is not app client {client_id}'s secret: copy it again"
    elif code == "NotAuthorizedException":
        reason, advice = "app client refused", f"check app client {client_id}'s settings"
    else:
        if code not in ("UserNotFoundException", "CodeMismatchException", "ExpiredCodeException"):
            log.warning("Readiness check: Cognito answered %s: %s", code, message)
        return None
    return ClientProblem(reason, f"{advice} (Cognito: {code}: {message})")
