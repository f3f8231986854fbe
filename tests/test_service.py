"""The service against botocore's Stubber: exact request shapes, and every Cognito error mapped."""

from __future__ import annotations

import logging
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError, StubAssertionError

from app.aws.cognito import CodeDelivery, CognitoSignup, RequestContext, secret_hash
from app.errors import (
    AlreadyConfirmed,
    InvalidInput,
    NotVerified,
    Refused,
    ServiceUnavailable,
    SignupError,
    TooManyAttempts,
    UsernameExists,
    UserNotFound,
)
from app.web.messages import MESSAGES

from .conftest import CLIENT_SECRET, StrictStubber

CLIENT_ID = "testclientid123"
USERNAME = "ann@example.com"
CONTEXT = RequestContext(ip_address="203.0.113.7", encoded_data="ENCODED-FROM-BROWSER")
METADATA = {"source": "web-signup"}


def service(stubber: StrictStubber, **overrides: Any) -> CognitoSignup:
    options: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "client_metadata": METADATA,
        "validation_data": {"campaign": "spring"},
        "analytics_endpoint_id": "endpoint-1",
    }
    options.update(overrides)
    return CognitoSignup(stubber.client, **options)


def shared_params() -> dict[str, Any]:
    return {
        "ClientId": CLIENT_ID,
        "Username": USERNAME,
        "SecretHash": secret_hash(CLIENT_SECRET, USERNAME, CLIENT_ID),
        "UserContextData": {"IpAddress": "203.0.113.7", "EncodedData": "ENCODED-FROM-BROWSER"},
        "ClientMetadata": METADATA,
        "AnalyticsMetadata": {"AnalyticsEndpointId": "endpoint-1"},
    }


def test_sign_up_sends_hash_context_attributes_and_metadata(stubber: StrictStubber) -> None:
    stubber.add_response(
        "sign_up",
        {
            "UserConfirmed": False,
            "UserSub": "sub-1",
            "CodeDeliveryDetails": {"Destination": "a***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"},
        },
        expected_params={
            **shared_params(),
            "Password": "Correct-Horse-9",
            "UserAttributes": [{"Name": "email", "Value": USERNAME}, {"Name": "custom:plan", "Value": "team"}],
            "ValidationData": [{"Name": "campaign", "Value": "spring"}],
        },
    )
    result = service(stubber).sign_up(USERNAME, "Correct-Horse-9", {"email": USERNAME, "custom:plan": "team"}, CONTEXT)
    assert result.confirmed is False
    assert result.user_sub == "sub-1"
    assert result.delivery == CodeDelivery("a***@e***", "EMAIL", "email")


SESSION_1 = "session-from-sign-up-" + "a" * 40
SESSION_2 = "session-from-confirm-sign-up-" + "b" * 40
SIGNED_IN = {
    "IdToken": "id.jwt",
    "AccessToken": "access.jwt",
    "RefreshToken": "refresh",
    "ExpiresIn": 3600,
    "TokenType": "Bearer",
}


def test_sign_up_without_a_password_sends_none_and_keeps_cognitos_session(stubber: StrictStubber) -> None:
    stubber.add_response(
        "sign_up",
        {"UserConfirmed": False, "UserSub": "sub-3", "Session": SESSION_1},
        expected_params={
            **shared_params(),
            "UserAttributes": [{"Name": "email", "Value": USERNAME}],
            "ValidationData": [{"Name": "campaign", "Value": "spring"}],
        },
    )
    result = service(stubber).sign_up(USERNAME, None, {"email": USERNAME}, CONTEXT)
    assert result.session == SESSION_1


def test_confirm_sign_up_passes_the_session_on_and_returns_the_next(stubber: StrictStubber) -> None:
    stubber.add_response(
        "confirm_sign_up",
        {"Session": SESSION_2},
        expected_params={**shared_params(), "ConfirmationCode": "123456", "Session": SESSION_1},
    )
    assert service(stubber).confirm_sign_up(USERNAME, "123456", CONTEXT, SESSION_1) == SESSION_2


def test_a_session_cognito_no_longer_accepts_confirms_without_it(stubber: StrictStubber) -> None:
    stubber.add_client_error(
        "confirm_sign_up",
        "NotAuthorizedException",
        "Invalid session for the user, session is expired.",
        expected_params={**shared_params(), "ConfirmationCode": "123456", "Session": SESSION_1},
    )
    stubber.add_response("confirm_sign_up", {}, expected_params={**shared_params(), "ConfirmationCode": "123456"})
    assert service(stubber).confirm_sign_up(USERNAME, "123456", CONTEXT, SESSION_1) is None


def test_sign_in_uses_user_auth_with_the_session_hash_and_context(stubber: StrictStubber) -> None:
    params = shared_params()
    del params["Username"], params["SecretHash"]
    stubber.add_response(
        "initiate_auth",
        {"AuthenticationResult": SIGNED_IN, "ChallengeParameters": {}},
        expected_params={
            **params,
            "AuthFlow": "USER_AUTH",
            "AuthParameters": {"USERNAME": USERNAME, "SECRET_HASH": secret_hash(CLIENT_SECRET, USERNAME, CLIENT_ID)},
            "Session": SESSION_2,
        },
    )
    tokens = service(stubber).sign_in(USERNAME, SESSION_2, CONTEXT)
    assert tokens is not None and (tokens.id_token, tokens.refresh_token, tokens.expires_in) == (
        "id.jwt",
        "refresh",
        3600,
    )
    assert "jwt" not in repr(tokens)  # a credential never printed


def test_sign_in_with_a_new_password_asks_for_the_password_challenge_without_a_session(
    stubber: StrictStubber,
) -> None:
    params = shared_params()
    del params["Username"], params["SecretHash"]
    auth = {"USERNAME": USERNAME, "SECRET_HASH": secret_hash(CLIENT_SECRET, USERNAME, CLIENT_ID)}
    stubber.add_response(
        "initiate_auth",
        {"AuthenticationResult": SIGNED_IN, "ChallengeParameters": {}},
        expected_params={
            **params,
            "AuthFlow": "USER_AUTH",
            "AuthParameters": {**auth, "PREFERRED_CHALLENGE": "PASSWORD", "PASSWORD": "Battery-Staple-7"},
        },
    )
    assert service(stubber).sign_in(USERNAME, None, CONTEXT, password="Battery-Staple-7") is not None


def test_sign_in_asked_for_more_gives_no_tokens(stubber: StrictStubber) -> None:
    stubber.add_response("initiate_auth", {"ChallengeName": "SELECT_CHALLENGE", "Session": SESSION_1})
    assert service(stubber).sign_in(USERNAME, SESSION_2, CONTEXT) is None


def test_sign_up_reports_an_account_a_trigger_confirmed(stubber: StrictStubber) -> None:
    stubber.add_response("sign_up", {"UserConfirmed": True, "UserSub": "sub-2"})
    result = service(stubber).sign_up(USERNAME, "Correct-Horse-9", {}, CONTEXT)
    assert result.confirmed and result.delivery is None


def test_confirm_sign_up_sends_code_with_the_same_hash_and_context(stubber: StrictStubber) -> None:
    stubber.add_response("confirm_sign_up", {}, expected_params={**shared_params(), "ConfirmationCode": "123456"})
    assert service(stubber).confirm_sign_up(USERNAME, "123456", CONTEXT) is None
    stubber.assert_no_pending_responses()  # the call was made, with exactly these parameters


def test_a_call_unlike_the_expected_one_fails_the_test_not_the_page(stubber: StrictStubber) -> None:
    # The Stubber's own errors are botocore errors too; they must not pass for Cognito being down.
    stubber.add_response("confirm_sign_up", {}, expected_params={**shared_params(), "ConfirmationCode": "999999"})
    with pytest.raises(StubAssertionError):
        service(stubber).confirm_sign_up(USERNAME, "123456", CONTEXT)
    service(stubber).confirm_sign_up(USERNAME, "999999", CONTEXT)  # the prepared answer, used up


def test_resend_confirmation_code_returns_where_the_code_went(stubber: StrictStubber) -> None:
    stubber.add_response(
        "resend_confirmation_code",
        {
            "CodeDeliveryDetails": {
                "Destination": "+*******0123",
                "DeliveryMedium": "SMS",
                "AttributeName": "phone_number",
            }
        },
        expected_params=shared_params(),
    )
    assert service(stubber).resend_confirmation_code(USERNAME, CONTEXT) == CodeDelivery(
        "+*******0123", "SMS", "phone_number"
    )


def test_a_password_reset_sends_the_same_hash_and_context_and_the_new_password(stubber: StrictStubber) -> None:
    delivery = {"Destination": "a***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}
    stubber.add_response("forgot_password", {"CodeDeliveryDetails": delivery}, expected_params=shared_params())
    new_password = {**shared_params(), "ConfirmationCode": "654321", "Password": "Battery-Staple-7"}
    stubber.add_response("confirm_forgot_password", {}, expected_params=new_password)
    svc = service(stubber)
    assert svc.forgot_password(USERNAME, CONTEXT) == CodeDelivery("a***@e***", "EMAIL", "email")
    assert svc.confirm_forgot_password(USERNAME, "654321", "Battery-Staple-7", CONTEXT) is None
    stubber.assert_no_pending_responses()


def test_client_without_secret_sends_no_hash_and_no_ip(stubber: StrictStubber) -> None:
    stubber.add_response(
        "confirm_sign_up",
        {},
        expected_params={"ClientId": CLIENT_ID, "Username": USERNAME, "ConfirmationCode": "1"},
    )
    plain = CognitoSignup(stubber.client, client_id=CLIENT_ID)
    assert plain.confirm_sign_up(USERNAME, "1", RequestContext(ip_address="203.0.113.7")) is None
    stubber.assert_no_pending_responses()


SIGN_UP_ERRORS = [
    ("InvalidPasswordException", "Password did not conform with policy", InvalidInput, "password"),
    ("UsernameExistsException", "User already exists", UsernameExists, "username"),
    ("InvalidParameterException", "Invalid phone number format.", InvalidInput, "phone_number"),
    ("InvalidParameterException", "Invalid email address format.", InvalidInput, "email"),
    ("InvalidParameterException", "Username should be an email.", InvalidInput, "username"),
    ("InvalidParameterException", "Attributes did not conform to the schema: custom:x", ServiceUnavailable, None),
    ("UserLambdaValidationException", "PreSignUp failed with error Only company addresses.", InvalidInput, None),
    ("TooManyRequestsException", "Rate exceeded", TooManyAttempts, None),
    ("LimitExceededException", "Exceeded daily email limit", TooManyAttempts, None),
    ("CodeDeliveryFailureException", "Unable to deliver", InvalidInput, None),
    ("ForbiddenException", "Blocked by WAF", Refused, None),
    ("NotAuthorizedException", "Unable to verify secret hash for client x", ServiceUnavailable, None),
    ("NotAuthorizedException", "A client attempted to write unauthorized attribute", ServiceUnavailable, None),
    ("NotAuthorizedException", "SignUp is not permitted for this user pool", ServiceUnavailable, None),
    ("ResourceNotFoundException", "User pool client x does not exist.", ServiceUnavailable, None),
    ("UnexpectedLambdaException", "boom", ServiceUnavailable, None),
    ("InvalidLambdaResponseException", "bad", ServiceUnavailable, None),
    ("InvalidSmsRoleAccessPolicyException", "role", ServiceUnavailable, None),
    ("InvalidSmsRoleTrustRelationshipException", "trust", ServiceUnavailable, None),
    ("InvalidEmailRoleAccessPolicyException", "ses", ServiceUnavailable, None),
    ("InternalErrorException", "internal", ServiceUnavailable, None),
    ("OperationNotEnabledException", "off", ServiceUnavailable, None),
]
# Errors that are the operator's to fix, whatever the call: the person reads "unavailable", the log says which.
FOR_THE_OPERATOR = [
    ("NotAuthorizedException", "Unable to verify secret hash for client x", ServiceUnavailable, None),
    ("ResourceNotFoundException", "gone", ServiceUnavailable, None),
    ("UnexpectedLambdaException", "boom", ServiceUnavailable, None),
    ("InvalidLambdaResponseException", "bad", ServiceUnavailable, None),
    ("InternalErrorException", "internal", ServiceUnavailable, None),
    ("OperationNotEnabledException", "off", ServiceUnavailable, None),
]
# The same, for the calls that send a code: the pool's SMS and email set-up.
SENDING_SET_UP = [
    ("InvalidSmsRoleAccessPolicyException", "role", ServiceUnavailable, None),
    ("InvalidSmsRoleTrustRelationshipException", "trust", ServiceUnavailable, None),
    ("InvalidEmailRoleAccessPolicyException", "ses", ServiceUnavailable, None),
]
CONFIRM_ERRORS = [
    ("CodeMismatchException", "Invalid verification code", InvalidInput, "code"),
    ("ExpiredCodeException", "Invalid code provided", InvalidInput, "code"),
    ("TooManyFailedAttemptsException", "Too many failed attempts", TooManyAttempts, "code"),
    ("AliasExistsException", "An account with the email already exists", InvalidInput, "username"),
    ("LimitExceededException", "Attempt limit exceeded", TooManyAttempts, None),
    ("TooManyRequestsException", "Rate exceeded", TooManyAttempts, None),
    ("UserNotFoundException", "Username/client id combination not found.", UserNotFound, "username"),
    ("UserLambdaValidationException", "PostConfirmation failed with error nope.", InvalidInput, None),
    ("ForbiddenException", "WAF", Refused, None),
    ("NotAuthorizedException", "User cannot be confirmed. Current status is CONFIRMED", AlreadyConfirmed, None),
    ("InvalidParameterException", "1 validation error detected", ServiceUnavailable, None),
    *FOR_THE_OPERATOR,
]
RESEND_ERRORS = [
    ("LimitExceededException", "Attempt limit exceeded", TooManyAttempts, None),
    ("TooManyRequestsException", "Rate exceeded", TooManyAttempts, None),
    ("CodeDeliveryFailureException", "Unable to deliver", InvalidInput, None),
    ("UserNotFoundException", "Username/client id combination not found.", UserNotFound, "username"),
    ("InvalidParameterException", "User is already confirmed.", AlreadyConfirmed, None),
    ("UserLambdaValidationException", "CustomMessage failed with error x.", InvalidInput, None),
    ("ForbiddenException", "WAF", Refused, None),
    *FOR_THE_OPERATOR,
    *SENDING_SET_UP,
]
FORGOT_ERRORS = [
    ("UserNotFoundException", "Username/client id combination not found.", UserNotFound, "username"),
    (
        "InvalidParameterException",
        "Cannot reset password for the user as there is no registered/verified email or phone_number",
        NotVerified,
        "username",
    ),
    ("LimitExceededException", "Attempt limit exceeded", TooManyAttempts, None),
    ("TooManyRequestsException", "Rate exceeded", TooManyAttempts, None),
    ("CodeDeliveryFailureException", "Unable to deliver", InvalidInput, None),
    ("UserLambdaValidationException", "CustomMessage failed with error x.", InvalidInput, None),
    ("ForbiddenException", "WAF", Refused, None),
    *FOR_THE_OPERATOR,
    *SENDING_SET_UP,
]
NEW_PASSWORD_ERRORS = [
    ("CodeMismatchException", "Invalid verification code provided, please try again.", InvalidInput, "code"),
    ("ExpiredCodeException", "Invalid code provided, please request a code again.", InvalidInput, "code"),
    ("TooManyFailedAttemptsException", "Too many failed attempts", TooManyAttempts, "code"),
    ("InvalidPasswordException", "Password did not conform with policy", InvalidInput, "password"),
    ("PasswordHistoryPolicyViolationException", "Password was used recently", InvalidInput, "password"),
    ("UserNotFoundException", "Username/client id combination not found.", UserNotFound, "username"),
    ("UserNotConfirmedException", "User is not confirmed.", NotVerified, "username"),
    ("LimitExceededException", "Attempt limit exceeded", TooManyAttempts, None),
    ("TooManyRequestsException", "Rate exceeded", TooManyAttempts, None),
    ("UserLambdaValidationException", "PostConfirmation failed with error nope.", InvalidInput, None),
    ("ForbiddenException", "WAF", Refused, None),
    ("InvalidParameterException", "1 validation error detected", ServiceUnavailable, None),
    *FOR_THE_OPERATOR,
]


def call(svc: CognitoSignup, method: str) -> Any:
    if method == "sign_up":
        return svc.sign_up(USERNAME, "Correct-Horse-9", {"email": USERNAME}, CONTEXT)
    if method == "confirm_sign_up":
        return svc.confirm_sign_up(USERNAME, "123456", CONTEXT)
    if method == "forgot_password":
        return svc.forgot_password(USERNAME, CONTEXT)
    if method == "confirm_forgot_password":
        return svc.confirm_forgot_password(USERNAME, "123456", "Battery-Staple-7", CONTEXT)
    return svc.resend_confirmation_code(USERNAME, CONTEXT)


CASES = (
    [("sign_up", *c) for c in SIGN_UP_ERRORS]
    + [("confirm_sign_up", *c) for c in CONFIRM_ERRORS]
    + [("resend_confirmation_code", *c) for c in RESEND_ERRORS]
    + [("forgot_password", *c) for c in FORGOT_ERRORS]
    + [("confirm_forgot_password", *c) for c in NEW_PASSWORD_ERRORS]
)


@pytest.mark.parametrize(("method", "code", "message", "error_class", "field"), CASES)
def test_every_cognito_error_becomes_the_apps_own(  # noqa: PLR0917 - one parameter per table column
    stubber: StrictStubber,
    caplog: pytest.LogCaptureFixture,
    method: str,
    code: str,
    message: str,
    error_class: type,
    field: str | None,
) -> None:
    caplog.set_level(logging.DEBUG)
    stubber.add_client_error(method, code, message, 400)
    with pytest.raises(SignupError) as caught:
        call(service(stubber), method)
    assert type(caught.value) is error_class
    assert caught.value.field == field
    assert caught.value.message in MESSAGES  # a message of the app's own, never Cognito's text
    assert CLIENT_SECRET not in caplog.text
    if error_class is ServiceUnavailable:
        assert code in caplog.text  # the operator sees which error it was


def test_every_error_the_model_lists_is_covered() -> None:
    model = botocore.session.get_session().get_service_model("cognito-idp")
    for operation, cases in (
        ("SignUp", SIGN_UP_ERRORS),
        ("ConfirmSignUp", CONFIRM_ERRORS),
        ("ResendConfirmationCode", RESEND_ERRORS),
        ("ForgotPassword", FORGOT_ERRORS),
        ("ConfirmForgotPassword", NEW_PASSWORD_ERRORS),
    ):
        listed = {shape.name for shape in model.operation_model(operation).error_shapes}
        assert listed <= {c[0] for c in cases}, operation


def test_lambda_message_is_shown_without_cognitos_wrapping(stubber: StrictStubber) -> None:
    stubber.add_client_error(
        "sign_up", "UserLambdaValidationException", "PreSignUp failed with error Only company addresses."
    )
    with pytest.raises(InvalidInput) as caught:
        call(service(stubber), "sign_up")
    assert caught.value.detail == "Only company addresses"


@pytest.mark.parametrize(
    "failure",
    [
        EndpointConnectionError(endpoint_url="https://cognito.invalid"),
        ConnectTimeoutError(endpoint_url="https://cognito.invalid"),
        ReadTimeoutError(endpoint_url="https://cognito.invalid"),
    ],
)
def test_unreachable_cognito_is_service_unavailable(failure: Exception) -> None:
    class Broken:
        def sign_up(self, **params: Any) -> None:
            raise failure

    with pytest.raises(ServiceUnavailable):
        CognitoSignup(Broken(), client_id=CLIENT_ID).sign_up(USERNAME, "pw", {}, CONTEXT)
