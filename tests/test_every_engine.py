"""The whole sign-up flow in three browser engines, at the top level and inside another site's iframe.

Real https (a certificate the test makes for the loopback names), the app under gunicorn as in
production, the local Cognito emulator behind it. In the iframe case the embedding page is another
site (127.0.0.1 against localhost), so the app's cookie there is a third-party one.

Some browsers keep no cookie for the app: this WebKit inside a cross-site iframe (as Safari before
18.4 does), and any browser set to block every cookie. The flow needs none, so they pass like the rest.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from local import emulator

from .conftest import base_env, password_opens
from .engines import Engine, open_page
from .servers import PARENT, Tls, gunicorn, page, serve

pytestmark = [pytest.mark.browser, pytest.mark.engines]

# What the pages say: every text the test expects is here.
CONFIRM_HEADING = "Confirm your account"
WRONG_CODE_ERROR = "That code is not right"
NEW_CODE_NOTICE = "We sent you a new code."
DONE_HEADING = "Your account is ready"
RESET_HEADING = "Choose a new password"
PASSWORD_SET_HEADING = "Your new password is set"

# Where the flow goes, and where the pages show things.
SIGNUP_PATH = "/signup"
CONFIRM_PATH = "/signup/confirm"
DONE_PATH = "/signup/done"
HEADING = "h1"
USERNAME = "input[name=username]"
PASSWORD = "input[name=password]"
GIVEN_NAME = "input[name=given_name]"
PLAN = "select[name=custom_plan]"
SIGNUP_SUBMIT = "form button[type=submit]"  # the form's first submit button
CODE = "input[name=code]"
CONFIRM_SUBMIT = "main button[type=submit]:not([formaction])"
RESEND = "button[formaction*='/resend']"
CODE_ERROR = "#code-error-1"
NOTICE = ".notice"
FRAME = "iframe#signup"
FORGOT_LINK = "a[href^='/signup/forgot']"

# What the person types.
PASSWORD_VALUE = "Correct-Horse-9"
NEW_PASSWORD_VALUE = "Battery-Staple-7"
GIVEN_NAME_VALUE = "Ann"
PLAN_VALUE = "team"
WRONG_CODE = "000000"


@dataclass(frozen=True)
class Case:
    engine: Engine
    framed: bool
    no_cookies: bool = False

    def __str__(self) -> str:
        return f"{self.engine}{'-no-cookies' if self.no_cookies else ''}-{'iframe' if self.framed else 'top'}"


CASES = [
    *(Case(engine, framed) for engine in ("chromium", "firefox", "webkit") for framed in (False, True)),
    Case("chromium", framed=False, no_cookies=True),
    Case("chromium", framed=True, no_cookies=True),
]


@dataclass(frozen=True)
class Site:
    start: str  # the page the person opens: the app's, or the embedding site's
    app: str  # the app's origin, https://localhost:<port>
    log: Path  # the app's log


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return Tls.make(tmp_path_factory.mktemp("tls"))


@contextmanager
def site(pool: emulator.LocalPool, tls: Tls, workdir: Path, *, framed: bool) -> Iterator[Site]:
    """The app over https; in a frame, also the embedding site, which the app lets frame it."""
    log = workdir / "app.log"
    if not framed:
        with gunicorn(base_env(**pool.environment()), log, tls=tls) as port:
            yield Site(f"https://localhost:{port}{SIGNUP_PATH}", f"https://localhost:{port}", log)
        return
    parent_port = emulator.free_port()
    env = base_env(**pool.environment(), SIGNUP_FRAME_ANCESTORS=f"https://127.0.0.1:{parent_port}")
    with gunicorn(env, log, tls=tls) as port:
        app = f"https://localhost:{port}"
        with serve(page(PARENT.format(app=app, resize="false")), port=parent_port, tls=tls):
            yield Site(f"https://127.0.0.1:{parent_port}/", app, log)


def csrf_lines(log: Path) -> str:
    """What the app logged about the CSRF check: why a form was refused."""
    return "\n".join(line for line in log.read_text(errors="replace").splitlines() if "CSRF" in line)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_the_whole_flow(
    case: Case, local_pool: emulator.LocalPool, tls: Tls, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Sign up, a wrong code, a new code, the right code: a confirmed user, and the parent told.
    Then "Forgot your password?" from the form: the new password signs in, the old one no more."""
    playwright: Any = request.getfixturevalue("playwright") if case.engine == "chromium" else None
    email = f"{case}-{uuid.uuid4().hex[:12]}@example.com"
    started = time.monotonic()
    with (
        site(local_pool, tls, tmp_path, framed=case.framed) as where,
        open_page(case.engine, tmp_path, playwright=playwright, no_cookies=case.no_cookies) as tab,
    ):
        ready = time.monotonic()

        def expect(css: str, text: str) -> None:
            try:
                tab.wait_for(css, text)
            except AssertionError as err:
                raise AssertionError(f"{err}\napp log on CSRF: {csrf_lines(where.log) or 'nothing'}") from None

        tab.goto(where.start)
        if case.framed:
            tab.enter_frame(FRAME)
        assert tab.path() == SIGNUP_PATH

        tab.fill(USERNAME, email)
        tab.fill(PASSWORD, PASSWORD_VALUE)
        tab.fill(GIVEN_NAME, GIVEN_NAME_VALUE)
        tab.select(PLAN, PLAN_VALUE)
        tab.click(SIGNUP_SUBMIT)
        expect(HEADING, CONFIRM_HEADING)
        assert tab.path() == CONFIRM_PATH

        tab.fill(CODE, WRONG_CODE)
        tab.click(CONFIRM_SUBMIT)
        expect(CODE_ERROR, WRONG_CODE_ERROR)
        assert tab.path() == CONFIRM_PATH

        tab.click(RESEND)
        expect(NOTICE, NEW_CODE_NOTICE)
        assert tab.path() == CONFIRM_PATH

        tab.fill(CODE, emulator.LOCAL_CODE)
        tab.click(CONFIRM_SUBMIT)
        expect(HEADING, DONE_HEADING)
        assert tab.path() == DONE_PATH

        messages = tab.evaluate("window.received") if case.framed else []
        tab.goto(where.start)  # a new page: the embedding page's messages start again
        if case.framed:
            tab.enter_frame(FRAME)
        tab.click(FORGOT_LINK)
        expect(HEADING, RESET_HEADING)
        tab.fill(USERNAME, email)
        tab.click(SIGNUP_SUBMIT)
        expect(HEADING, RESET_HEADING)
        tab.fill(CODE, emulator.LOCAL_RESET_CODE)
        tab.fill(PASSWORD, NEW_PASSWORD_VALUE)
        tab.click(CONFIRM_SUBMIT)
        expect(HEADING, PASSWORD_SET_HEADING)
        assert tab.path() == DONE_PATH

        messages += tab.evaluate("window.received") if case.framed else []
        finished = time.monotonic()

    user = emulator.admin_client(local_pool.endpoint).admin_get_user(UserPoolId=local_pool.pool_id, Username=email)
    assert user["UserStatus"] == "CONFIRMED"
    assert password_opens(local_pool, email, NEW_PASSWORD_VALUE) and not password_opens(
        local_pool, email, PASSWORD_VALUE
    )
    if case.framed:
        ours = [m["data"].get("type") for m in messages if m["origin"] == where.app and isinstance(m["data"], dict)]
        assert "signed-up" in ours
        assert "confirmed" in ours
        assert ours.index("signed-up") < ours.index("confirmed") < ours.index("password-reset")
    print(f"{case}: browser and app up in {ready - started:.1f} s, flow {finished - ready:.1f} s")


# Sets one cookie from its header and one from its script; the second page only shows them.
COOKIE_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Cookies</title></head>
<body><script>document.cookie = "script=1; Secure; SameSite=Lax; Path=/";</script></body></html>
"""


def cookie_pages(request: BaseHTTPRequestHandler) -> None:
    body = (COOKIE_PAGE if request.path == "/" else "<!doctype html><title>Kept</title>").encode()
    request.send_response(200)
    if request.path == "/":
        request.send_header("Set-Cookie", "header=1; Secure; SameSite=Lax; Path=/")
    request.send_header("Content-Type", "text/html; charset=utf-8")
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    request.wfile.write(body)


@pytest.mark.parametrize("no_cookies", [False, True], ids=["chromium", "chromium-no-cookies"])
def test_the_profile_without_cookies_keeps_none_even_first_party(
    no_cookies: bool, tls: Tls, tmp_path: Path, playwright: Any
) -> None:
    """What the no-cookies cases rest on: the profile preference blocks every cookie, first-party too.

    Checked on a page of its own, not the app's, which may stop setting cookies at all.
    """
    with (
        serve(cookie_pages, tls=tls) as port,
        open_page("chromium", tmp_path, playwright=playwright, no_cookies=no_cookies) as tab,
    ):
        tab.goto(f"https://127.0.0.1:{port}/")
        tab.goto(f"https://127.0.0.1:{port}/kept")
        kept = tab.evaluate("document.cookie")
    assert sorted(filter(None, kept.split("; "))) == ([] if no_cookies else ["header=1", "script=1"])
