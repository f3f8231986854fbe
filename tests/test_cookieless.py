"""No step needs a cookie: the flow travels sealed in the pages, posts must come from the app's own
pages with a fresh signed token, and a page that cannot be tied to its flow says so and goes on."""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import quote, unquote

import pytest
from cryptography.fernet import Fernet, InvalidToken
from itsdangerous import URLSafeTimedSerializer

from app.errors import ConfigError
from app.signup import csrf, drafts, flow
from app.signup.flow import Flow, Kind

from .conftest import SECRET_KEY, SIGNUP, StrictStubber, app_with, csrf_token, form_action, submit, text

SIGNED_UP = {
    "UserConfirmed": False,
    "UserSub": "s",
    "CodeDeliveryDetails": {"Destination": "a***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"},
}
OLD_KEY = "an-old-secret-key-" + "o" * 40
NEW_KEY = "a-new-secret-key-" + "n" * 40


def sealed(app: Any, state: Flow, age: float = 0) -> str:
    """A Flow as the app would put it in an address `age` seconds ago."""
    then = time.time() - age
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(flow.time, "time", lambda: then)
        return quote(app.extensions["signup"].flows.seal(state))


def test_no_page_of_the_whole_flow_sets_a_cookie(stubber: StrictStubber) -> None:
    stubber.add_response("sign_up", SIGNED_UP)
    stubber.add_client_error("confirm_sign_up", "CodeMismatchException", "wrong")
    stubber.add_response("resend_confirmation_code", {"CodeDeliveryDetails": SIGNED_UP["CodeDeliveryDetails"]})
    stubber.add_response("confirm_sign_up", {})
    client = app_with(stubber).test_client()
    answers = [client.get("/signup"), submit(client, "/signup", SIGNUP)]
    code_page = answers[-1].headers["Location"]
    answers += [client.get(code_page), submit(client, code_page, {"code": "000000"})]
    answers.append(submit(client, code_page, {}, resend=True))
    answers.append(submit(client, answers[-1].headers["Location"], {"code": "123456"}))
    answers.append(client.get(answers[-1].headers["Location"]))
    assert [a.status_code for a in answers] == [200, 302, 200, 422, 302, 302, 200]
    assert "Your account is ready" in text(answers[-1])
    assert not [a for a in answers if "Set-Cookie" in a.headers]


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "same-site", "Origin": "https://signup.evil.localhost"},
        {"Sec-Fetch-Site": "none"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
    ],
    ids=["cross-site", "same-site", "typed-address", "old-browser-origin", "sandboxed", "referer-only"],
)
@pytest.mark.parametrize("path", ["/signup", "/signup/confirm", "/signup/confirm/resend"])
def test_a_post_from_another_site_is_refused_before_anything_reaches_cognito(
    stubber: StrictStubber, headers: dict[str, str], path: str
) -> None:
    client = app_with(stubber, SIGNUP_FRAME_ANCESTORS="https://evil.example").test_client()
    token = csrf_token(client.get(path if path != "/signup/confirm/resend" else "/signup/confirm").get_data(True))
    data = {**SIGNUP, "code": "123456", "csrf_token": token}
    refused = client.post(path, data=data, headers=headers)
    assert refused.status_code == 403
    assert "This form was sent from another website, so we did not accept it." in text(refused)
    assert 'href="/signup"' in text(refused)  # and a way on


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"},
        {"Origin": "http://localhost"},
        {"Referer": "http://localhost/signup"},
        {},
    ],
    ids=["fetch-metadata", "origin", "referer", "old-browser-sending-neither"],
)
def test_a_post_from_the_apps_own_page_goes_through(stubber: StrictStubber, headers: dict[str, str]) -> None:
    stubber.add_response("sign_up", SIGNED_UP)
    client = app_with(stubber).test_client()
    token = csrf_token(client.get("/signup").get_data(as_text=True))
    assert client.post("/signup", data={**SIGNUP, "csrf_token": token}, headers=headers).status_code == 302


def test_with_a_public_address_a_request_for_any_other_host_is_refused_before_anything_runs(
    stubber: StrictStubber,
) -> None:
    client = app_with(stubber, SIGNUP_PUBLIC_URL="https://signup.example.com").test_client()
    own = "https://signup.example.com"
    assert client.get("/signup", base_url=own).status_code == 200
    assert client.get("/signup", base_url="https://SIGNUP.example.com:443").status_code == 200
    assert client.get("/signup", base_url="http://signup.example.com").status_code == 200  # TLS ended before the app
    token = csrf_token(client.get("/signup", base_url=own).get_data(as_text=True))
    # DNS rebinding: a hostile name resolved to the app; its page posts with its own name as Host and Origin.
    for base_url in ("http://evil.example", "https://signup.example.com.evil.example", "http://127.0.0.1:8000"):
        rebound = client.post(
            "/signup", base_url=base_url, data={**SIGNUP, "csrf_token": token}, headers={"Origin": base_url}
        )
        assert rebound.status_code == 400, base_url
        assert client.get("/signup", base_url=base_url).status_code == 400
    # The balancer's health checks name an instance, not the public host.
    assert client.get("/healthz", base_url="http://10.0.0.5:8000").status_code == 200


def test_with_a_public_address_the_origin_of_a_post_is_compared_with_it(stubber: StrictStubber) -> None:
    stubber.add_response("sign_up", SIGNED_UP)
    client = app_with(stubber, SIGNUP_PUBLIC_URL="https://signup.example.com").test_client()
    own = "https://signup.example.com"
    token = csrf_token(client.get("/signup", base_url=own).get_data(as_text=True))
    data = {**SIGNUP, "csrf_token": token}
    # The app sees plain HTTP (no trusted proxy told it otherwise), the browser's page was HTTPS.
    plain = "http://signup.example.com"
    assert (
        client.post("/signup", base_url=plain, data=data, headers={"Origin": "http://signup.example.com"}).status_code
        == 403
    )
    assert client.post("/signup", base_url=plain, data=data, headers={"Origin": own}).status_code == 302


def test_a_public_address_with_a_path_is_refused_at_start_up(stubber: StrictStubber) -> None:
    with pytest.raises(ConfigError, match="SIGNUP_PUBLIC_URL must be the app's own address"):
        app_with(stubber, SIGNUP_PUBLIC_URL="https://www.example.com/signup")


def test_a_form_token_past_its_age_is_refused_and_the_form_comes_back_to_be_sent_again(
    stubber: StrictStubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app_with(stubber).test_client()
    then = time.time() - 25 * 3600
    with monkeypatch.context() as patch:  # a form opened 25 hours ago, then sent
        patch.setattr(csrf.time, "time", lambda: then)
        old = csrf_token(client.get("/signup").get_data(as_text=True))
    refused = client.post("/signup", data={**SIGNUP, "csrf_token": old})
    assert refused.status_code == 400
    page = text(refused)
    assert "This form was open for a long time, so we could not accept it." in page
    assert "cookie" not in page
    assert 'value="Example Ltd"' in page and SIGNUP["password"] not in page
    stubber.add_response("sign_up", SIGNED_UP)
    assert client.post("/signup", data={**SIGNUP, "csrf_token": csrf_token(page)}).status_code == 302


@pytest.mark.parametrize("form", ["signup", "confirm"])
def test_a_form_token_made_for_another_form_or_with_another_key_is_refused(stubber: StrictStubber, form: str) -> None:
    client = app_with(stubber).test_client()
    other_key = csrf.FormTokens("another-key-" + "x" * 40).make(form)
    wrong_form = csrf_token(client.get("/signup/confirm" if form == "signup" else "/signup").get_data(True))
    for token in (other_key, wrong_form):
        path = "/signup" if form == "signup" else "/signup/confirm"
        answer = client.post(path, data={**SIGNUP, "code": "123456", "csrf_token": token})
        assert answer.status_code == 400


def test_form_tokens_pass_both_ways_between_this_release_and_earlier_ones_during_a_rolling_deploy(
    stubber: StrictStubber,
) -> None:
    earlier = URLSafeTimedSerializer([SECRET_KEY], salt="form-token")  # as earlier releases made tokens
    token = earlier.dumps(["signup", round(time.time(), 2)])
    stubber.add_response("sign_up", SIGNED_UP)
    answer = app_with(stubber).test_client().post("/signup", data={**SIGNUP, "csrf_token": token})
    assert answer.status_code == 302
    made_now = csrf.FormTokens(SECRET_KEY).make("signup")
    assert earlier.loads(made_now)[0] == "signup"  # an instance not yet replaced reads this one's


def test_sealed_tokens_go_into_addresses_as_they_are_and_pass_both_ways_during_a_rolling_deploy() -> None:
    """A token with no "=" is quoted at C speed (an "=" made every link quote it character by
    character); it is still a plain Fernet token, so earlier releases open it, and this one opens theirs."""
    key = Fernet(flow.fernet_key(SECRET_KEY, b"flow v1"))
    seal = flow.FlowSeal(SECRET_KEY)
    earlier_tokens = []
    for length in range(1, 60):
        made = Flow("a" * length + "@example.com", form={"given_name": ["Ann"]})
        token = seal.seal(made)
        assert quote(token, safe="") == token and seal.open(token) == made
        assert json.loads(key.decrypt(token.encode()))["username"] == made.username  # as an earlier release reads it
        earlier_tokens.append(key.encrypt(json.dumps({"username": made.username}).encode()).decode())
        assert seal.open(earlier_tokens[-1]).username == made.username
    assert any("=" in token for token in earlier_tokens)
    draft = drafts.DraftSeal(SECRET_KEY).seal(drafts.Draft({"given_name": ["Ann"]}))
    assert quote(draft, safe="") == draft


def test_a_rotated_key_keeps_sign_ups_in_progress_going(stubber: StrictStubber) -> None:
    stubber.add_response("sign_up", SIGNED_UP)
    stubber.add_response("confirm_sign_up", {})
    before = app_with(stubber, SECRET_KEY=OLD_KEY).test_client()
    code_page = submit(before, "/signup", SIGNUP).headers["Location"]
    opened = before.get(code_page).get_data(as_text=True)  # the code page, open in a tab
    after = app_with(stubber, SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=OLD_KEY).test_client()
    done = after.post(form_action(opened), data={"csrf_token": csrf_token(opened), "code": "123456"})
    assert done.status_code == 302 and done.headers["Location"].startswith("/signup/done?flow=")
    forgotten = app_with(stubber, SECRET_KEY=NEW_KEY).test_client()  # the old key dropped
    assert forgotten.post(form_action(opened), data={"csrf_token": csrf_token(opened), "code": "1"}).status_code == 400


def test_a_flow_nobody_can_read_asks_who_it_was_for_and_never_reaches_cognito(stubber: StrictStubber) -> None:
    app = app_with(stubber)
    other = app_with(stubber, SECRET_KEY=NEW_KEY)
    genuine = sealed(app, Flow("ann@example.com", "ann@example.com", "EMAIL"))
    for token in (sealed(other, Flow("ann@example.com")), genuine[:-8] + "AAAAAAAA", "garbage", "x" * 5000):
        page = app.test_client().get(f"/signup/confirm?flow={token}")
        assert page.status_code == 200
        assert "We could not tell which account this page was for." in text(page)
        assert 'name="username"' in text(page) and "ann@example.com" not in text(page)
        posted = submit(app.test_client(), f"/signup/confirm?flow={token}", {"code": "123456"})
        assert posted.status_code == 422  # the email address is asked for; the code typed is kept
        assert 'value="123456"' in text(posted) and "flow=" not in form_action(text(posted))


def test_an_expired_flow_fills_in_nothing_and_the_person_goes_on_as_a_returning_one(stubber: StrictStubber) -> None:
    stubber.add_response("confirm_sign_up", {})
    delivery = {"Destination": "a***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}
    stubber.add_response("forgot_password", {"CodeDeliveryDetails": delivery})
    app = app_with(stubber)
    token = sealed(app, Flow("ann@example.com", "ann@example.com", "EMAIL"), age=25 * 3600)
    page = app.test_client().get(f"/signup/confirm?flow={token}")
    assert "This page was open for more than a day." in text(page)
    assert "ann@example.com" not in text(page)  # a day-old page fills in nothing: the person says who they are
    done = submit(app.test_client(), f"/signup/confirm?flow={token}", {"username": "ann@example.com", "code": "123456"})
    # Confirmed as a returning person: a password of their own comes next (SECURITY.md).
    assert done.status_code == 302 and done.headers["Location"].startswith("/signup/password?flow=")


def test_a_code_page_visited_every_day_still_expires_a_day_after_its_sign_up(stubber: StrictStubber) -> None:
    app = app_with(stubber)
    token = sealed(app, Flow("ann@example.com", "ann@example.com", "EMAIL", kind=Kind.CREATED), age=23 * 3600)
    page = app.test_client().get(f"/signup/confirm?flow={token}").get_data(as_text=True)
    resealed = unquote(re.search(r'action="/signup/confirm\?flow=([^"&]+)', page).group(1))
    later = time.time() + 2 * 3600  # the next day's visit, through the page's own links
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(flow.time, "time", lambda: later)
        with pytest.raises(flow.FlowError) as expired:
            app.extensions["signup"].flows.open(resealed)
    assert expired.value.flow is not None  # genuine, but 25 hours since the sign-up began


def test_a_token_is_as_old_as_fernet_says_whatever_characters_are_slipped_into_it() -> None:
    """Opening reads the sealed time itself (without checking the signature twice), the way Fernet
    reads it, so no character added to an old token's address makes it read as a fresh one."""
    key = Fernet(flow.fernet_key(SECRET_KEY, b"flow v1"))
    seal = flow.FlowSeal(SECRET_KEY, max_age=3600)
    old = seal.seal(Flow("ann@example.com", started=int(time.time()) - 7200))
    for tampered in (old, "\n" + old, old[:5] + "!*." + old[5:], " " + old[:12] + "\t" + old[12:]):
        try:
            fernet_says = key.extract_timestamp(tampered.encode())
        except InvalidToken:  # a token Fernet cannot read at all must not open either
            fernet_says = None
        if fernet_says is None:
            with pytest.raises(flow.FlowError):
                seal.open(tampered)
            continue
        assert flow.sealed_time(tampered) == fernet_says
        with pytest.raises(flow.FlowError) as expired:
            seal.open(tampered)
        assert expired.value.flow is not None  # genuine, and two hours old: expired


def test_where_the_code_went_is_escaped(stubber: StrictStubber) -> None:
    app = app_with(stubber)
    token = sealed(app, Flow("u", "<script>alert(1)</script>", "EMAIL"))
    page = app.test_client().get(f"/signup/confirm?flow={token}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_notice_and_a_message_to_the_parent_page_come_once(stubber: StrictStubber) -> None:
    app = app_with(stubber, SIGNUP_FRAME_ANCESTORS="https://shop.example.com")
    token = sealed(app, Flow("ann@example.com", "ann@example.com", "EMAIL", event="signed-up", notice="code_sent"))
    page = text(app.test_client().get(f"/signup/confirm?flow={token}"))
    assert "We sent you a new code." in page and "signed-up" in page
    stubber.add_client_error("confirm_sign_up", "CodeMismatchException", "wrong")
    again = text(app.test_client().post(form_action(page), data={"csrf_token": csrf_token(page), "code": "000000"}))
    assert "That code is not right." in again
    assert "We sent you a new code." not in again and "signed-up" not in again


def test_the_code_page_keeps_its_address_to_itself(stubber: StrictStubber) -> None:
    app = app_with(stubber)
    page = app.test_client().get(f"/signup/confirm?flow={sealed(app, Flow('ann@example.com'))}")
    # Links to other sites carry the app's origin at most, never the address with its sealed flow.
    assert page.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert page.headers["Cache-Control"] == "private, no-cache"  # no shared cache keeps it
