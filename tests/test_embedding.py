"""The whole flow inside another site's iframe, in real Chromium, with third-party cookies blocked and allowed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local import emulator

from .browser import chromium, expect, through_the_code_page
from .conftest import base_env
from .servers import PARENT, gunicorn, page, serve

pytestmark = pytest.mark.browser


@dataclass
class Sites:
    app: str  # http://localhost:<port>: the sign-up app
    parent: str  # http://127.0.0.1:<port>: another site, allowed to frame it
    stranger: str  # http://127.0.0.1:<port>: another site, not allowed


@pytest.fixture
def sites(local_pool: emulator.LocalPool, tmp_path: Path) -> Iterator[Sites]:
    parent_port, stranger_port = emulator.free_port(), emulator.free_port()
    env = base_env(**local_pool.environment(), SIGNUP_FRAME_ANCESTORS=f"http://127.0.0.1:{parent_port}")
    with gunicorn(env, tmp_path / "app.log") as app_port:
        app = f"http://localhost:{app_port}"
        html = PARENT.format(app=app, resize="true")
        with serve(page(html), port=parent_port), serve(page(html), port=stranger_port):
            yield Sites(app, f"http://127.0.0.1:{parent_port}/", f"http://127.0.0.1:{stranger_port}/")


def sign_up_in_frame(frame: Any) -> None:
    frame.get_by_label("Email address").fill("framed@example.com")
    frame.get_by_label("Password", exact=True).fill("Correct-Horse-9")
    frame.get_by_label("First name").fill("Fran")
    frame.get_by_label("Plan").select_option("team")
    frame.get_by_role("button", name="Create account").click()


@pytest.mark.parametrize("third_party_cookies", [False, True], ids=["cookies-blocked", "cookies-allowed"])
def test_whole_flow_works_inside_a_cross_site_iframe(
    playwright: Any, sites: Sites, tmp_path: Path, third_party_cookies: bool
) -> None:
    with chromium(playwright, tmp_path / "profile", third_party_cookies=third_party_cookies) as browser:
        tab = browser.new_page()
        tab.goto(sites.parent)
        frame = tab.frame_locator("#signup")

        sign_up_in_frame(frame)
        expect(frame.get_by_role("heading", name="Confirm your account")).to_be_visible()
        expect(frame.get_by_text("We sent a code by email to framed@example.com.")).to_be_visible()

        through_the_code_page(frame, emulator.LOCAL_CODE, new_code=True)

        messages = tab.evaluate("window.received")
    ours = [m for m in messages if isinstance(m["data"], dict) and m["data"].get("source") == "cognito-signup"]
    assert {m["origin"] for m in ours} == {sites.app}
    kinds = [m["data"]["type"] for m in ours]
    assert "height" in kinds
    assert {"type": "signed-up", "deliveryMedium": "EMAIL", "source": "cognito-signup"} in [m["data"] for m in ours]
    assert kinds.index("signed-up") < kinds.index("confirmed")


def test_the_parent_sizes_the_frame_from_the_height_messages(playwright: Any, sites: Sites, tmp_path: Path) -> None:
    with chromium(playwright, tmp_path / "profile") as browser:
        tab = browser.new_page()
        tab.goto(sites.parent)
        frame = tab.frame_locator("#signup")
        expect(frame.get_by_role("button", name="Create account")).to_be_visible()
        tab.wait_for_function("window.received.some(m => m.data && m.data.type === 'height')")
        before = tab.evaluate("document.getElementById('signup').style.height")
        frame.get_by_role("button", name="Create account").click()  # errors make the page taller
        expect(frame.locator("#error-summary")).to_be_visible()
        tab.wait_for_function(f"document.getElementById('signup').style.height !== '{before}'")
        heights = [m["data"]["height"] for m in tab.evaluate("window.received") if m["data"].get("type") == "height"]
    assert heights[-1] > heights[0]


def test_a_site_that_is_not_allowed_cannot_frame_the_app(playwright: Any, sites: Sites, tmp_path: Path) -> None:
    with chromium(playwright, tmp_path / "profile") as browser:
        tab = browser.new_page()
        tab.goto(sites.stranger)
        tab.wait_for_timeout(1000)
        child = next(f for f in tab.frames if f is not tab.main_frame)
        assert child.url.startswith("chrome-error://")
        assert child.locator("form").count() == 0
        assert not [m for m in tab.evaluate("window.received") if isinstance(m["data"], dict)]


@pytest.mark.parametrize(("directive", "shown"), [("frame-src 'self'", False), ("frame-src {app}", True)])
def test_the_embedding_pages_own_csp_must_list_the_app_in_frame_src(
    playwright: Any, local_pool: emulator.LocalPool, tmp_path: Path, directive: str, shown: bool
) -> None:
    parent_port = emulator.free_port()
    env = base_env(**local_pool.environment(), SIGNUP_FRAME_ANCESTORS=f"http://127.0.0.1:{parent_port}")
    with gunicorn(env, tmp_path / "app.log") as app_port:
        app = f"http://localhost:{app_port}"
        html = PARENT.format(app=app, resize="true").encode()

        def with_csp(request: Any) -> None:
            request.send_response(200)
            request.send_header("Content-Type", "text/html; charset=utf-8")
            request.send_header("Content-Security-Policy", directive.format(app=app))
            request.send_header("Content-Length", str(len(html)))
            request.end_headers()
            request.wfile.write(html)

        with serve(with_csp, port=parent_port), chromium(playwright, tmp_path / "profile") as browser:
            tab = browser.new_page()
            tab.goto(f"http://127.0.0.1:{parent_port}/")
            button = tab.frame_locator("#signup").get_by_role("button", name="Create account")
            if shown:
                expect(button).to_be_visible()
            else:
                tab.wait_for_timeout(1500)
                assert button.count() == 0
