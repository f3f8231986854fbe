"""Fast on a slow phone: pages and files compressed, files kept for a year under hashed names, a
favicon, pages the browser may keep and restore on Back, and nothing that moves once drawn.

How fast it is, the bench measures (docs/performance.md); these tests check the behaviour.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import brotli
import pytest

from app.aws.cognito import Medium
from app.signup.flow import Event, Flow, FlowSeal, Kind
from app.web.assets import minified

from .browser import chromium, expect, served_by
from .conftest import ROOT, SECRET_KEY, SIGNUP, StrictStubber, app_with, base_env, csrf_token, without_tokens
from .servers import gunicorn

BROWSER_ACCEPTS = "gzip, deflate, br, zstd"  # what Chromium and Firefox send


def assets(page: str) -> list[str]:
    """The static files a page links to."""
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', page)


def flow_address(app: Any, page: str, flow: Flow) -> str:
    return f"/signup/{page}?flow={quote(app.extensions['signup'].flows.seal(flow))}"


@pytest.mark.parametrize(
    ("accept", "encoding"),
    [
        (BROWSER_ACCEPTS, "br"),
        ("gzip", "gzip"),
        ("br;q=0.5, gzip", "gzip"),
        ("*", "br"),
        ("br;q=0, gzip;q=0", None),
        ("identity", None),
        ("", None),
    ],
)
def test_pages_are_sent_compressed_as_the_browser_prefers(
    stubber: StrictStubber, accept: str, encoding: str | None
) -> None:
    client = app_with(stubber).test_client()
    plain = client.get("/signup/confirm").get_data(as_text=True)  # a page rendered for each visit
    answer = client.get("/signup/confirm", headers={"Accept-Encoding": accept})
    assert answer.headers.get("Content-Encoding") == encoding
    assert answer.headers["Vary"] == "Accept-Encoding"  # whatever was chosen, caches keep them apart
    assert int(answer.headers["Content-Length"]) == len(answer.get_data())
    assert without_tokens(decoded(answer).decode()) == without_tokens(plain)
    if encoding:
        assert len(answer.get_data()) < len(plain) / 2


@pytest.mark.parametrize("accept", [BROWSER_ACCEPTS, "gzip", "br", ""])
def test_the_kept_sign_up_page_comes_in_gzip_made_once_with_each_visits_own_token(
    stubber: StrictStubber, accept: str
) -> None:
    """Its gzip is made once around the token's place (app.web.compression.KeptPage): a browser that
    takes gzip gets it; one that takes only brotli gets the page compressed for it."""
    client = app_with(stubber).test_client()
    plain = client.get("/signup").get_data(as_text=True)
    pages = [client.get("/signup", headers={"Accept-Encoding": accept}) for _ in range(3)]
    expected = {BROWSER_ACCEPTS: "gzip", "gzip": "gzip", "br": "br", "": None}[accept]
    bodies = []
    for answer in pages:
        assert answer.headers.get("Content-Encoding") == expected and answer.headers["Vary"] == "Accept-Encoding"
        bodies.append(decoded(answer).decode())  # gzip.decompress checks the CRC and the length
    assert all(csrf_token(body).startswith("WyJzaWdudXAi") for body in bodies)  # ["signup", ...
    assert {without_tokens(body) for body in bodies} == {without_tokens(plain)}
    assert len(pages[0].get_data()) < len(plain) / 2 or expected is None


def decoded(answer: Any) -> bytes:
    decode = {"br": brotli.decompress, "gzip": gzip.decompress}.get(answer.headers.get("Content-Encoding", ""), bytes)
    return decode(answer.get_data())


def test_every_page_of_the_flow_and_the_error_pages_are_compressed(stubber: StrictStubber) -> None:
    app = app_with(stubber)
    client = app.test_client()
    flow = Flow("ann@example.com", "ann@example.com", Medium.EMAIL, kind=Kind.CREATED)
    for address, status in [
        (flow_address(app, "confirm", flow), 200),
        (flow_address(app, "done", flow.but(kind=Kind.READY)), 200),
        ("/signup/confirm", 200),
        ("/no-such-page", 404),
    ]:
        answer = client.get(address, headers={"Accept-Encoding": BROWSER_ACCEPTS})
        assert (answer.status_code, answer.headers.get("Content-Encoding")) == (status, "br"), address
    # A post without its form token: the form comes back with what was typed.
    failed = client.post("/signup", data=SIGNUP, headers={"Accept-Encoding": "gzip"})
    assert (failed.status_code, failed.headers["Content-Encoding"]) == (400, "gzip")


def test_tiny_bodies_are_sent_as_they_are(stubber: StrictStubber) -> None:
    client = app_with(stubber).test_client()
    for address in ("/", "/healthz"):  # a redirect, a health check: a few bytes each
        answer = client.get(address, headers={"Accept-Encoding": BROWSER_ACCEPTS})
        assert "Content-Encoding" not in answer.headers and "Vary" not in answer.headers


def test_static_files_have_hashed_names_and_are_kept_for_a_year(stubber: StrictStubber) -> None:
    client = app_with(stubber).test_client()
    page = client.get("/signup").get_data(as_text=True)
    linked = assets(page)
    assert [Path(url).name.split(".")[-1] for url in linked] == ["js"]  # the styles are in the page
    for url in linked:
        stem, digest, extension = Path(url).name.split(".")
        source = minified(f"{stem}.{extension}", (ROOT / "static" / f"{stem}.{extension}").read_bytes())
        assert digest == hashlib.sha256(source).hexdigest()[:12]
        for accept, decode in (("br", brotli.decompress), ("gzip", gzip.decompress), ("", bytes)):
            answer = client.get(url, headers={"Accept-Encoding": accept})
            assert answer.status_code == 200
            assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
            assert answer.headers["X-Content-Type-Options"] == "nosniff"
            assert answer.headers["Vary"] == "Accept-Encoding"
            assert answer.headers.get("Content-Encoding", "") == accept
            assert decode(answer.get_data()) == source
            answer.close()


def test_script_and_styles_are_sent_without_their_comments_and_indentation(stubber: StrictStubber) -> None:
    client = app_with(stubber).test_client()
    for name in ("app.css", "app.js"):
        url = f"/static/{name}"
        source = (ROOT / "static" / name).read_bytes()
        answer = client.get(url, headers={"Accept-Encoding": ""})
        served = answer.get_data()
        answer.close()
        assert len(served) < 0.85 * len(source), url
        assert b"/*" not in served and b"\n  " not in served, url


def test_the_styles_are_written_into_every_page_and_allowed_by_their_hash_alone(stubber: StrictStubber) -> None:
    """One request before the first paint, not two: the styles come in the page, as served minified."""
    client = app_with(stubber).test_client()
    styles = minified("app.css", (ROOT / "static" / "app.css").read_bytes())
    allowed = f"'sha256-{base64.b64encode(hashlib.sha256(styles).digest()).decode()}'"
    for address in ("/signup", "/signup/confirm", "/signup/forgot", "/nowhere"):
        answer = client.get(address)
        assert f"<style>{styles.decode()}</style>" in answer.get_data(as_text=True), address
        policy = answer.headers["Content-Security-Policy"]
        assert f"style-src 'self' {allowed};" in policy and "unsafe-inline" not in policy, address


def test_plain_names_and_another_versions_names_answer_but_are_not_kept(stubber: StrictStubber) -> None:
    """A rolling deploy: pages of one version may ask an instance of the other for their files."""
    client = app_with(stubber).test_client()
    source = minified("app.css", (ROOT / "static" / "app.css").read_bytes())
    for url in ("/static/app.css", "/static/app.0123456789ab.css"):
        answer = client.get(url)
        assert (answer.status_code, answer.get_data()) == (200, source), url
        assert answer.headers["Cache-Control"] == "no-cache"
        etag = answer.headers["ETag"]
        answer.close()
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/static/nothing.0123456789ab.css").status_code == 404
    assert client.get("/static/app.0123456789ab.css/x").status_code == 404


def test_every_page_has_a_favicon_the_site_may_choose(stubber: StrictStubber) -> None:
    client = app_with(stubber).test_client()
    page = client.get("/signup").get_data(as_text=True)
    (icon,) = re.findall(r'<link rel="icon" href="([^"]+)">', page)
    # The neutral one is in the page itself: no request, nothing to wait for on a slow network.
    assert icon.startswith("data:image/svg+xml,")
    assert unquote(icon.removeprefix("data:image/svg+xml,")) == (ROOT / "static" / "favicon.svg").read_text().strip()
    ours = app_with(stubber, SIGNUP_FAVICON_URL="https://cdn.example.com/icon.png").test_client().get("/signup")
    assert '<link rel="icon" href="https://cdn.example.com/icon.png">' in ours.get_data(as_text=True)
    assert "img-src 'self' data: https://cdn.example.com;" in ours.headers["Content-Security-Policy"]


def test_pages_may_be_kept_by_the_browser_alone_and_restored_by_back(stubber: StrictStubber) -> None:
    """Never `no-store` (which keeps a page out of the back/forward cache), never a shared cache:
    each holds a form token of its own and what the person typed."""
    app = app_with(stubber)
    client = app.test_client()
    flow = Flow("ann@example.com", "ann@example.com", Medium.EMAIL, kind=Kind.CREATED)
    done = flow_address(app, "done", flow.but(kind=Kind.READY))
    for address in ("/signup", flow_address(app, "confirm", flow), done, "/nowhere"):
        assert client.get(address).headers["Cache-Control"] == "private, no-cache", address
    assert client.post("/signup", data=SIGNUP | {"username": ""}).headers["Cache-Control"] == "private, no-cache"


# In a real browser.


def layout_shifts(page: Any) -> list[float]:
    """Chromium's layout shifts so far, not caused by input (read through CDP: no page script needed)."""
    session = page.context.new_cdp_session(page)
    shifts: list[float] = []
    session.on(
        "PerformanceTimeline.timelineEventAdded",
        lambda event: (
            shifts.append(event["event"]["layoutShiftDetails"]["value"])
            if not event["event"]["layoutShiftDetails"]["hadRecentInput"]
            else None
        ),
    )
    session.send("PerformanceTimeline.enable", {"eventTypes": ["layout-shift"]})  # reports the buffered ones
    session.detach()
    return shifts


@pytest.mark.browser
@pytest.mark.parametrize(
    "browser",
    [(size, scripts) for size in ((360, 740), (1280, 900)) for scripts in (True, False)],
    ids=["phone", "phone-no-javascript", "desktop", "desktop-no-javascript"],
)
@pytest.mark.parametrize(
    "case",
    [
        ("config/signup.toml", "form"),  # the password checklist and show/hide buttons
        ("config/signup.toml", "errors"),  # and the error summary, focused
        ("tests/declarations/phone.toml", "form"),  # the country list beside a phone number
        ("tests/declarations/phone.toml", "errors"),
        ("config/signup.toml", "code"),  # the resend countdown
        ("tests/declarations/providers.toml", "form"),  # the identity providers' buttons and their icons
    ],
    ids=["form", "errors", "phone-form", "phone-errors", "code", "providers"],
)
def test_nothing_moves_once_drawn_even_when_the_script_comes_late(
    playwright: Any, stubber: StrictStubber, tmp_path: Path, browser: Any, case: Any
) -> None:
    (width, height), scripts = browser
    declaration, state = case
    # The providers' buttons show where the hand-off to Managed Login is set up.
    hand_off = {"COGNITO_DOMAIN": "https://auth.example.com", "SIGNUP_SIGN_IN_REDIRECT_URI": "https://example.com/cb"}
    app = app_with(
        stubber,
        SIGNUP_CONFIG=str(ROOT / declaration),
        SIGNUP_RATELIMIT_RESEND_PER_USER="1/minute",
        **(hand_off if "providers" in declaration else {}),
    )
    base = "https://app.test"
    screen = {"width": width, "height": height}
    with chromium(playwright, tmp_path / "profile", java_script_enabled=scripts, viewport=screen) as context:
        page = context.new_page()
        served_by(page, base, app)

        def late(route: Any) -> None:  # the script arrives well after the page is drawn, as on slow 4G
            time.sleep(0.4)
            route.fallback()

        page.route(f"{base}/static/*.js", late)
        if state == "code":
            flow = Flow(
                "ann@example.com", "ann@example.com", Medium.EMAIL, Event.SIGNED_UP, "code_sent", kind=Kind.CREATED
            )
            app.extensions["signup"].steps.limiter.count("resend_per_user", "ann@example.com")  # a code went
            page.goto(base + flow_address(app, "confirm", flow))
        else:
            page.goto(f"{base}/signup")
        if state == "errors":
            page.get_by_role("button", name="Create account").click()  # nothing filled in: every error
            page.wait_for_url(f"{base}/signup")
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)
        if scripts:
            expect_enhanced(page, declaration, state)
        assert sum(layout_shifts(page)) == 0


def expect_enhanced(page: Any, declaration: str, state: str) -> None:
    """The script did run: what it shows is there."""
    if state == "code":
        expect(page.locator("#resend-wait")).to_be_visible()
    elif "phone" in declaration:
        expect(page.get_by_label("Country or region")).to_be_visible()
    else:
        expect(page.locator("#password-checklist")).to_be_visible()
        expect(page.get_by_role("button", name="Show password").first).to_be_visible()
    if state == "errors":
        expect(page.locator("#error-summary")).to_be_focused()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app under gunicorn (the browser's own cache and back/forward cache see real responses)."""
    with gunicorn(base_env(), tmp_path_factory.mktemp("fast") / "app.log") as port:
        yield f"http://localhost:{port}"


def sealed(flow: Flow) -> str:
    return quote(FlowSeal(SECRET_KEY).seal(flow))


@pytest.mark.browser
@pytest.mark.servers
def test_back_restores_every_page_from_the_browsers_memory_without_an_error(
    playwright: Any, served: str, tmp_path: Path
) -> None:
    flow = Flow("ann@example.com", "ann@example.com", Medium.EMAIL, kind=Kind.CREATED)
    pages = {
        "sign-up": "/signup",
        "code": f"/signup/confirm?flow={sealed(flow)}",
        "done": f"/signup/done?flow={sealed(flow.but(kind=Kind.READY))}",
        "returning person's form": "/signup/confirm",
    }
    # Playwright turns the back/forward cache off by default; a person's Chromium has it on.
    with chromium(playwright, tmp_path / "profile", ignore_default_args=["--disable-back-forward-cache"]) as context:
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        for name, address in pages.items():
            page.goto(served + address)
            page.evaluate("window.stillHere = true")
            page.goto(f"{served}/signup?lang=de")
            page.go_back(wait_until="commit")  # a page restored from memory fires no load event
            expect(page).to_have_url(served + address)
            assert page.evaluate("window.stillHere === true"), (name, not_restored(page))
        assert problems == []


@pytest.mark.browser
@pytest.mark.servers
def test_a_form_sent_then_brought_back_by_back_can_be_sent_again(playwright: Any, served: str, tmp_path: Path) -> None:
    """Firefox and Safari keep a page that sent a form in memory; Chromium does not (seen:
    BrowsingInstanceNotSwapped), so the restore is played here as those browsers fire it."""
    with chromium(playwright, tmp_path / "profile") as context:
        page = context.new_page()
        page.goto(f"{served}/signup")
        # Sent, as far as the page script knows; the browser does not leave the page.
        page.evaluate("document.querySelector('form').addEventListener('submit', e => e.preventDefault())")
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_role("button", name="Create account")).to_be_disabled()
        page.evaluate("window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))")
        expect(page.get_by_role("button", name="Create account")).to_be_enabled()


def not_restored(page: Any) -> Any:
    """Why Chromium did not restore the page from its back/forward cache."""
    return page.evaluate("JSON.stringify(performance.getEntriesByType('navigation')[0].notRestoredReasons)")
