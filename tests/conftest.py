"""Shared fixtures and helpers: settings, a Cognito client under botocore's Stubber, what a browser
does with a page, the local emulator and real browsers.

Tests run in tiers. Those that need the local Cognito are marked `emulator` by the fixture they
use (below); those that drive a real browser are marked `browser`, those that start servers
(gunicorn, nginx, Redis) `servers`. `make test-fast` runs the rest (39 s on an idle 2-core
machine); `make test` runs everything. The emulator and the browsers are imported only by the fixtures that start them.
"""

from __future__ import annotations

import html
import re
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from botocore.stub import Stubber
from flask.testing import FlaskClient

from app import create_app
from app.aws.cognito import create_client, secret_hash
from app.config.declaration import load_declaration
from app.config.settings import load_settings

if TYPE_CHECKING:
    from local.emulator import LocalPool

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "config" / "signup.toml"
CLIENT_SECRET = "canary-client-secret-" + "s3cr3t" * 8
SECRET_KEY = "canary-secret-key-" + "k" * 40


def base_env(**overrides: str) -> dict[str, str]:
    """Valid settings for a pool that only the Stubber answers for."""
    env = {
        "COGNITO_REGION": "eu-west-1",
        "COGNITO_USER_POOL_ID": "eu-west-1_TestPool1",
        "COGNITO_CLIENT_ID": "testclientid123",
        "COGNITO_CLIENT_SECRET": CLIENT_SECRET,
        "COGNITO_ENDPOINT_URL": "https://cognito.invalid",
        "SECRET_KEY": SECRET_KEY,
        "SIGNUP_CONFIG": str(SAMPLE),
        # Tests post a form the instant they fetch it and ask for a new code at once; the bot and
        # rate-limit tests put these checks back to their defaults.
        "SIGNUP_MIN_FILL_SECONDS": "0",
        "SIGNUP_RATELIMIT_RESEND_PER_USER": "5/hour",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


class StrictStubber(Stubber):
    """A Stubber that also fails the test when a prepared answer was never asked for."""

    def __exit__(self, *exc: Any) -> None:
        super().__exit__(*exc)
        if exc[0] is None:
            self.assert_no_pending_responses()


@pytest.fixture
def stubber() -> Iterator[StrictStubber]:
    client = create_client(load_settings(base_env()))
    with StrictStubber(client) as stub:
        yield stub


@pytest.fixture
def stub_app(stubber: StrictStubber) -> Any:
    app = create_app(base_env(), cognito_client=stubber.client)
    app.config["TESTING"] = True
    return app


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, "page has no CSRF token"
    return match.group(1)


def form_action(page: str, resend: bool = False) -> str:
    """Where the page's form posts to: its action, or the 'Send a new code' button's formaction."""
    match = re.search(r'formaction="([^"]+/resend[^"]*)"' if resend else r'<form method="post" action="([^"]+)"', page)
    assert match, "page has no such form"
    return html.unescape(match.group(1))


def submit(client: Any, page: str, data: dict[str, str], *, resend: bool = False) -> Any:
    """What a browser does: open the page, then post its form where the form says, with the token it was given."""
    opened = client.get(page).get_data(as_text=True)
    return client.post(form_action(opened, resend), data={"csrf_token": csrf_token(opened), **data})


@pytest.fixture(autouse=True, scope="session")
def clients_open_a_refused_form_as_a_browser_does() -> Iterator[None]:
    """A refused post answers 303 See Other to its own page, with the draft (app.signup.drafts); the tests'
    clients, like a browser, open that page, so what a test sees is what the person sees: the form
    again, with its 4xx status and its messages."""
    post_only = FlaskClient.open

    def open_as_a_browser(self: FlaskClient, *args: Any, **kwargs: Any) -> Any:
        response = post_only(self, *args, **kwargs)
        location = response.headers.get("Location", "")
        if response.status_code == 303 and "draft=" in location and not kwargs.get("follow_redirects"):
            response.close()  # the browser asks again, with the same headers and from the same address
            same = {name: kwargs[name] for name in ("headers", "environ_base") if kwargs.get(name)}
            return post_only(self, location, **same)
        return response

    FlaskClient.open = open_as_a_browser  # type: ignore[method-assign]
    yield
    FlaskClient.open = post_only  # type: ignore[method-assign]


def text(response: Any) -> str:
    """A response's page, with HTML entities read."""
    return html.unescape(response.get_data(as_text=True))


def app_with(stubber: StrictStubber, **env: str) -> Any:
    """The app with the sample declaration, settings changed by `env`, Cognito answered by the Stubber."""
    return create_app(base_env(**env), cognito_client=stubber.client)


def without_tokens(page: str) -> str:
    """A page without what differs between any two requests: form tokens, sealed flows and drafts."""
    page = re.sub(r'name="csrf_token" type="hidden" value="[^"]*"', "", page)
    return re.sub(r"(flow|draft)=[\w=%-]+", r"\1=…", page)


SIGNUP = {
    "username": "ann@example.com",
    "password": "Correct-Horse-9",
    "password_confirm": "Correct-Horse-9",
    "given_name": "Ann",
    "custom_company": "Example Ltd",
    "custom_seats": "3",
    "custom_plan": "team",
}


BROWSER_DRIVERS = ("playwright", "selenium")
# Filled in when collection ends: the browser drivers some test module imported while it was collected.
drivers_imported_by_collection: list[str] = []


def pytest_collection_finish(session: pytest.Session) -> None:
    drivers_imported_by_collection[:] = [name for name in BROWSER_DRIVERS if name in sys.modules]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses the local Cognito, however indirectly, is in the `emulator` tier."""
    for item in items:
        if "cognito_endpoint" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.emulator)


@pytest.fixture(scope="session")
def cognito_endpoint() -> Iterator[str]:
    """ministack with AUTH=true, for the whole test session."""
    from local import emulator  # noqa: PLC0415 - only the tests that use the emulator start it

    port = emulator.free_port()
    process = emulator.start(port)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def local_pool(cognito_endpoint: str) -> LocalPool:
    """A fresh pool shaped like the sample declaration."""
    from local import emulator  # noqa: PLC0415

    return emulator.provision(cognito_endpoint, load_declaration(SAMPLE), name=f"t{secrets.token_hex(4)}")


@pytest.fixture
def flow_app(local_pool: LocalPool) -> Any:
    app = create_app(base_env(**local_pool.environment()))
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only the browser tests need it

    with sync_playwright() as driver:
        yield driver


def password_opens(pool: LocalPool, username: str, password: str) -> bool:
    """Whether this password signs in to the account (the way an attacker, or the site's sign-in, would try it)."""
    return sign_in_with_password(pool, username, password) is not None


def sign_in_with_password(pool: LocalPool, username: str, password: str) -> dict[str, str] | None:
    """The tokens of a sign-in with this password, or None where it does not open the account."""
    from local.emulator import admin_client  # noqa: PLC0415 - only tests that run the emulator call this

    admin = admin_client(pool.endpoint)
    try:
        answer = admin.admin_initiate_auth(
            UserPoolId=pool.pool_id,
            ClientId=pool.client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={
                "USERNAME": username,
                "PASSWORD": password,
                "SECRET_HASH": secret_hash(pool.client_secret, username, pool.client_id),
            },
        )
    except admin.exceptions.ClientError:
        return None
    return dict(answer["AuthenticationResult"])
