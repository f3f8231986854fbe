"""Property-based fuzzing of every POST route: whatever arrives, the answer is never a 5xx and never a secret.

A real botocore client does the Cognito calls (so its parameter checks and parsing run too); only the
network is replaced, by an answer chosen from the request: success or any of Cognito's error codes.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from botocore.awsrequest import AWSResponse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import create_app
from app.aws.cognito import Medium, create_client
from app.config.settings import load_settings
from app.signup.flow import Flow, Kind

from .conftest import CLIENT_SECRET, SECRET_KEY, SIGNUP, base_env, csrf_token

# 6,000 requests in the full suite (make test), which keeps CI within its time on a slow machine;
# the fast tier (make test-fast) sets a few hundred a route; SIGNUP_FUZZ_EXAMPLES=20000 for a long soak.
EXAMPLES = int(os.environ.get("SIGNUP_FUZZ_EXAMPLES", "1000"))
# Each POST route, and the page whose form (token and flow) a browser would send to it.
POST_ROUTES = {
    "/signup": "/signup",
    "/signup/confirm": "/signup/confirm",
    "/signup/confirm/resend": "/signup/confirm",
    "/signup/password": "/signup/password",
    "/signup/password/resend": "/signup/password",
    "/signup/forgot": "/signup/forgot",
}
COGNITO_ERRORS = [
    "InvalidPasswordException",
    "UsernameExistsException",
    "InvalidParameterException",
    "CodeMismatchException",
    "ExpiredCodeException",
    "UserNotFoundException",
    "NotAuthorizedException",
    "TooManyRequestsException",
    "LimitExceededException",
    "UserLambdaValidationException",
    "InternalErrorException",
    "ResourceNotFoundException",
]
FIELDS = [*SIGNUP, "code", "csrf_token", "flow", "homepage", "encoded_data", "return_to", "lang", "password_confirm"]


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


_calls = itertools.count()


def answer_from_request(request: Any, **_: Any) -> AWSResponse:
    """Cognito's answer, in turn success and each of its errors, so that every kind occurs."""
    pick = next(_calls) * 7919
    operation = request.headers["X-Amz-Target"].decode().rsplit(".", 1)[-1]
    if pick % 3:
        code = COGNITO_ERRORS[pick % len(COGNITO_ERRORS)]
        status = 500 if code == "InternalErrorException" else 400
        data = {"__type": code, "message": "Current status is CONFIRMED" if pick % 7 == 0 else "refused"}
    else:
        status = 200
        details = {"Destination": "a***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}
        data = {"SignUp": {"UserConfirmed": pick % 5 == 0, "UserSub": "s", "CodeDeliveryDetails": details}}.get(
            operation, {"CodeDeliveryDetails": details}
        )
    headers = {"Content-Type": "application/x-amz-json-1.1"}
    return AWSResponse(request.url, status, headers, _Body(json.dumps(data).encode()))


@pytest.fixture(scope="module")
def fuzz_app() -> Any:
    # Our own rate limits are off so that the fuzzing keeps reaching Cognito (they have their own tests).
    env = base_env(
        COGNITO_MAX_ATTEMPTS="1", SIGNUP_FRAME_ANCESTORS="https://shop.example.com", SIGNUP_RATELIMIT_ENABLED="0"
    )
    client = create_client(load_settings(env))
    client.meta.events.register("before-send.cognito-identity-provider.*", answer_from_request)
    return create_app(env, cognito_client=client)


@pytest.fixture(scope="module")
def browser(fuzz_app: Any) -> dict[str, Any]:
    """A browser with a genuine flow for each page that has one, and a valid token for each form."""
    client = fuzz_app.test_client()
    seal = fuzz_app.extensions["signup"].flows.seal
    flows = {
        "/signup/confirm": seal(Flow("ann@example.com", "ann@example.com", Medium.EMAIL, kind=Kind.CREATED)),
        "/signup/password": seal(Flow("ann@example.com", "ann@example.com", Medium.EMAIL, kind=Kind.FINISH)),
    }
    tokens = {}
    for page in set(POST_ROUTES.values()):
        address = f"{page}?flow={flows[page]}" if page in flows else page
        tokens[page] = csrf_token(client.get(address).get_data(as_text=True))
    return {"client": client, "tokens": tokens, "flows": flows}


text = st.one_of(
    st.text(max_size=40),
    st.text(min_size=1, max_size=20).map(lambda s: s * 200),  # long, cheaply
    st.just(""),
    st.sampled_from(["ann@example.com", "+447400123456", "Correct-Horse-9", "123456", "team", "3", "x" * 70_000]),
)
form_fields = st.lists(st.tuples(st.one_of(st.sampled_from(FIELDS), st.text(max_size=20)), text), max_size=14)


@st.composite
def requests(draw: Any) -> dict[str, Any]:
    """One hostile request: its form, its token, its content type and its body."""
    pairs = draw(form_fields)
    if draw(st.booleans()):  # start from a valid form, then change a few fields
        pairs = [*SIGNUP.items(), ("code", "123456"), *pairs]
    token = draw(st.sampled_from(["valid", "missing", "forged", "twice"]))
    kind = draw(st.sampled_from(["form", "form", "form", "multipart", "json", "text", "none", "bad-utf8"]))
    return {
        "pairs": pairs,
        "token": token,
        "kind": kind,
        "raw": draw(st.binary(max_size=300)),
        "forged": draw(st.text(max_size=120)),
        "ip": str(draw(st.ip_addresses())),
        "flow": draw(st.sampled_from(["none", "genuine", "genuine", "forged"])),
        "query": draw(st.text(max_size=60)),
        "site": draw(st.sampled_from([None, "same-origin", "same-origin", "cross-site", "none"])),
        "origin": draw(st.sampled_from([None, None, "http://localhost", "null", "https://evil.example"])),
    }


def send(browser: dict[str, Any], route: str, request: dict[str, Any]) -> Any:
    client = browser["client"]
    page = POST_ROUTES[route]
    token = browser["tokens"][page]
    pairs = list(request["pairs"])
    if request["token"] in ("valid", "twice"):
        pairs.append(("csrf_token", token))
    if request["token"] == "twice":
        pairs.append(("csrf_token", request["forged"]))
    if request["token"] == "forged":
        pairs.append(("csrf_token", request["forged"]))
    environ = {"REMOTE_ADDR": request["ip"]}
    for header, value in (("HTTP_SEC_FETCH_SITE", request["site"]), ("HTTP_ORIGIN", request["origin"])):
        if value is not None:
            environ[header] = value
    genuine = {"flow": browser["flows"][page]} if page in browser["flows"] else {}
    query = {"genuine": genuine, "forged": {"flow": request["forged"]}}.get(request["flow"], {})
    route = f"{route}?{urlencode({**query, 'lang': request['query']})}"
    kind = request["kind"]
    if kind == "form":
        body = urlencode(pairs).encode()
        return client.post(route, data=body, content_type="application/x-www-form-urlencoded", environ_base=environ)
    if kind == "multipart":
        return client.post(route, data=dict(pairs), content_type="multipart/form-data", environ_base=environ)
    if kind == "json":
        return client.post(route, json=dict(pairs), environ_base=environ)
    if kind == "text":
        return client.post(route, data=request["raw"], content_type="text/plain", environ_base=environ)
    if kind == "bad-utf8":
        body = b"username=\xff\xfe\xfa&csrf_token=" + token.encode() + b"&code=\xc3\x28" + request["raw"]
        return client.post(route, data=body, content_type="application/x-www-form-urlencoded", environ_base=environ)
    return client.post(route, data=request["raw"], environ_base=environ)


SECRETS = (CLIENT_SECRET, SECRET_KEY)


@pytest.mark.parametrize("route", POST_ROUTES)
def test_no_request_to_a_post_route_gets_a_5xx_or_a_secret(fuzz_app: Any, browser: Any, route: str) -> None:
    counted = {"requests": 0, "statuses": set()}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(request=requests())
    def check(request: dict[str, Any]) -> None:
        response = send(browser, route, request)
        counted["requests"] += 1
        counted["statuses"].add(response.status_code)
        body = response.get_data()
        assert response.status_code < 500 or (response.status_code == 503 and b"try again in a minute" in body)
        for secret in SECRETS:
            assert secret.encode() not in body

    check()
    assert counted["requests"] >= EXAMPLES
    # The fuzzing reached the deep paths too: redirects, refusals and Cognito's errors.
    assert {302, 400, 403, 422} <= counted["statuses"], counted["statuses"]
