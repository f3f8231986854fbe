"""What site owners ask for first: consent to their documents, where people came from, invitation
links that fix the email address, and links that fill the form in; stored as Cognito stores them."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from app import create_app, invite
from app.config.declaration import load_declaration
from local import emulator

from .browser import chromium, enter_code, expect
from .conftest import ROOT, SECRET_KEY, StrictStubber, base_env, submit, text
from .servers import RecordingProxy, gunicorn, page, serve

OWNERS = ROOT / "tests" / "declarations" / "owners.toml"
INVITED = ROOT / "tests" / "declarations" / "invited.toml"
PERSON = {
    "username": "owner@example.com",
    "password": "Correct-Horse-9",
    "password_confirm": "Correct-Horse-9",
    "given_name": "Ola",
    "consent_terms": "y",
}


@pytest.fixture
def owners_pool(cognito_endpoint: str) -> emulator.LocalPool:
    return emulator.provision(cognito_endpoint, load_declaration(OWNERS), name=f"o{secrets.token_hex(3)}")


@pytest.fixture
def recorded(owners_pool: emulator.LocalPool) -> Iterator[RecordingProxy]:
    proxy = RecordingProxy(owners_pool.endpoint)
    with serve(proxy) as port:
        proxy.endpoint = f"http://127.0.0.1:{port}"
        yield proxy


def owners_app(pool: emulator.LocalPool, proxy: RecordingProxy | None = None, declaration: Path = OWNERS) -> Any:
    cognito = {**pool.environment(), **({"COGNITO_ENDPOINT_URL": proxy.endpoint} if proxy else {})}
    return create_app(base_env(**cognito, SIGNUP_CONFIG=str(declaration)))


def stored(pool: emulator.LocalPool, email: str) -> dict[str, str]:
    user = emulator.admin_client(pool.endpoint).admin_get_user(UserPoolId=pool.pool_id, Username=email)
    return {"status": user["UserStatus"], **{a["Name"]: a["Value"] for a in user["UserAttributes"]}}


def recorded_time(value: str, version: str) -> datetime:
    recorded_version, moment = value.split(" ")
    assert recorded_version == version
    return datetime.strptime(moment, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


# Consent -----------------------------------------------------------------------------------------


def test_the_consent_box_links_to_its_document_in_every_language(owners_pool: emulator.LocalPool) -> None:
    client = owners_app(owners_pool).test_client()
    for lang, words in (("en", "terms of service"), ("de", "Nutzungsbedingungen"), ("es", "condiciones de uso")):
        page_text = client.get(f"/signup?lang={lang}").get_data(as_text=True)
        link = f'<a href="https://shop.example.com/terms" target="_blank" rel="noopener">{words}</a>'
        assert link in page_text
        assert re.search(r'<input[^>]*name="consent_terms"[^>]*type="checkbox"', page_text)


def test_a_required_consent_left_unticked_names_itself_and_nothing_is_sent(owners_pool: emulator.LocalPool) -> None:
    answer = submit(owners_app(owners_pool).test_client(), "/signup", {**PERSON, "consent_terms": ""})
    assert answer.status_code == 422
    assert '<a href="#consent_terms">Tick “I accept the terms of service” to continue.</a>' in text(answer)


def test_a_ticked_box_is_recorded_with_its_version_and_time_and_an_unticked_one_never(
    owners_pool: emulator.LocalPool,
) -> None:
    client = owners_app(owners_pool).test_client()
    before = datetime.now(UTC).replace(microsecond=0)
    code_page = submit(client, "/signup", PERSON).headers["Location"]
    assert submit(client, code_page, {"code": emulator.LOCAL_CODE}).status_code == 302
    user = stored(owners_pool, "owner@example.com")
    assert before <= recorded_time(user["custom:terms"], "2026-05") <= datetime.now(UTC)
    assert "custom:news" not in user  # not ticked: not a consent


# Attribution -------------------------------------------------------------------------------------


def test_where_people_came_from_is_kept_through_the_flow_and_sent(
    owners_pool: emulator.LocalPool, recorded: RecordingProxy
) -> None:
    client = owners_app(owners_pool, recorded).test_client()
    hostile = "news\u0000letter\u202e" + "x" * 100
    typo = submit(client, f"/signup?utm_source={hostile}&ref=friend&other=ignored", {**PERSON, "given_name": ""})
    assert typo.status_code == 422  # the form comes back, still carrying them
    action = urlsplit(re.search(r'<form method="post" action="([^"]+)"', text(typo)).group(1))
    query = parse_qs(action.query)
    assert query["utm_source"] == [("newsletter" + "x" * 100)[:40]] and query["ref"] == ["friend"]
    assert "other" not in query
    code_page = submit(client, f"/signup?{action.query}", PERSON).headers["Location"]
    assert "utm_source=" in code_page and "ref=friend" in code_page
    submit(client, code_page, {"code": emulator.LOCAL_CODE})
    (sign_up,) = recorded.sent("SignUp")
    assert {"Name": "custom:utm_source", "Value": ("newsletter" + "x" * 100)[:40]} in sign_up["UserAttributes"]
    assert sign_up["ClientMetadata"]["ref"] == "friend"
    (confirm,) = recorded.sent("ConfirmSignUp")
    assert confirm["ClientMetadata"]["ref"] == "friend"  # and on the later calls too, for their triggers
    assert stored(owners_pool, "owner@example.com")["custom:utm_source"] == ("newsletter" + "x" * 100)[:40]


def test_the_embedding_page_hands_on_its_parameters(
    playwright: Any, owners_pool: emulator.LocalPool, tmp_path: Path
) -> None:
    demo = (ROOT / "local" / "demo.html").read_text()
    parent_port = emulator.free_port()
    env = base_env(
        **owners_pool.environment(), SIGNUP_CONFIG=str(OWNERS), SIGNUP_FRAME_ANCESTORS=f"http://127.0.0.1:{parent_port}"
    )
    with gunicorn(env, tmp_path / "app.log") as port, chromium(playwright, tmp_path / "profile") as browser:
        app = f"http://localhost:{port}"
        html = demo.replace("{app}", app).replace("{parent}", f"http://127.0.0.1:{parent_port}")
        with serve(page(html), port=parent_port):
            tab = browser.new_page()
            tab.goto(f"http://127.0.0.1:{parent_port}/?utm_source=spring-mail&token=secret-of-the-site")
            frame = tab.frame_locator("#cognito-signup")
            frame.locator("[name=username]").fill("framed-owner@example.com")
            frame.locator("[name=password]").fill(PERSON["password"])
            frame.locator("[name=given_name]").fill("Ola")
            frame.locator("[name=consent_terms]").check()
            frame.locator("form button[type=submit]").first.click()
            enter_code(frame, emulator.LOCAL_CODE)
            expect(frame.get_by_role("heading", name="Your account is ready")).to_be_visible()
    user = stored(owners_pool, "framed-owner@example.com")
    assert user["custom:utm_source"] == "spring-mail"
    assert "secret-of-the-site" not in (tmp_path / "app.log").read_text()


# Invitations and prefill -------------------------------------------------------------------------


def invitation_link(email: str, expires: str = "7d", *data: str) -> str:
    args = ["--email", email, "--expires", expires, "--url", "http://localhost"]
    for pair in data:
        args += ["--data", pair]
    env = {"SECRET_KEY": SECRET_KEY}
    lines: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("builtins.print", lambda *a, **_: lines.append(" ".join(map(str, a))))
        assert invite.main(args, env) == 0
    (link,) = lines
    return link.removeprefix("http://localhost")


def test_an_invitation_fills_in_and_fixes_the_address_and_tells_the_trigger(
    owners_pool: emulator.LocalPool, recorded: RecordingProxy
) -> None:
    client = owners_app(owners_pool, recorded, INVITED).test_client()
    link = invitation_link("invitee@example.com", "7d", "team=blue")
    page_text = text(client.get(link))
    assert "You were invited to create an account with this email address." in page_text
    field = re.search(r'<input[^>]*name="username"[^>]*>', page_text).group(0)
    assert 'value="invitee@example.com"' in field and "readonly" in field
    code_page = submit(client, link, {**PERSON, "username": "invitee@example.com"}).headers["Location"]
    done = submit(client, code_page, {"code": emulator.LOCAL_CODE}).headers["Location"]
    # The readable invitation stays with the form: never beside the sealed flow, nor in any later link.
    assert "invite=" not in code_page and "invite=" not in done
    assert "invite=" not in client.get(code_page).get_data(as_text=True)
    (sign_up,) = recorded.sent("SignUp")
    validation = {item["Name"]: item["Value"] for item in sign_up["ValidationData"]}
    assert validation["team"] == "blue" and re.fullmatch(r"[0-9a-f]{16}", validation["invitation"])
    assert stored(owners_pool, "invitee@example.com")["status"] == "CONFIRMED"


def test_an_invitation_used_for_another_address_is_refused(owners_pool: emulator.LocalPool) -> None:
    client = owners_app(owners_pool, declaration=INVITED).test_client()
    link = invitation_link("invitee@example.com")
    answer = submit(client, link, {**PERSON, "username": "someone-else@example.com"})
    assert answer.status_code == 422
    assert "This invitation is for another email address." in text(answer)


def test_an_invitation_is_not_taken_for_a_lookalike_domain(stubber: StrictStubber) -> None:
    """groß.example is another domain than gross.example (xn--gro-7ka): case folding would make them one."""
    app = create_app(base_env(SIGNUP_CONFIG=str(INVITED)), cognito_client=stubber.client)
    link = f"/signup?invite={invite.Invitations(SECRET_KEY).make('anna@gross.example', 3600)}"
    answer = submit(app.test_client(), link, {**PERSON, "username": "anna@groß.example"})
    assert answer.status_code == 422  # and no SignUp: the Stubber has no answer for one
    assert "This invitation is for another email address." in text(answer)


@pytest.mark.parametrize("kind", ["tampered", "expired", "another-key"])
def test_a_link_that_cannot_be_used_gets_a_clear_page_never_a_500(owners_pool: emulator.LocalPool, kind: str) -> None:
    link = invitation_link("invitee@example.com")
    if kind == "tampered":
        link = link[:-6] + "AAAAAA"
    elif kind == "expired":
        eight_days_ago = time.time() - 8 * 86400
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(invite.time, "time", lambda: eight_days_ago)
            link = invitation_link("invitee@example.com")
    else:
        token = invite.Invitations("another-key-" + "x" * 40).make("invitee@example.com", 3600)
        link = f"/signup?invite={token}"
    open_form = owners_app(owners_pool).test_client().get(link)
    assert open_form.status_code == 200
    expected = "has expired" if kind == "expired" else "We could not read this invitation link."
    assert expected in text(open_form) and 'name="username"' in text(open_form)  # and the plain form
    assert "readonly" not in text(open_form)
    closed = owners_app(owners_pool, declaration=INVITED).test_client().get(link)
    assert closed.status_code == 200 and expected in text(closed) and 'name="username"' not in text(closed)


def test_where_invitations_are_required_a_sign_up_without_one_is_refused(owners_pool: emulator.LocalPool) -> None:
    client = owners_app(owners_pool, declaration=INVITED).test_client()
    page_text = text(client.get("/signup"))
    assert "You need an invitation to sign up here." in page_text and 'name="password"' not in page_text
    token = client.get("/signup/confirm").get_data(as_text=True)  # any genuine form token of the app
    forged = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', token).group(1)
    answer = client.post("/signup", data={**PERSON, "csrf_token": forged})
    assert answer.status_code in (400, 403)  # never a sign-up


def test_the_invite_command_checks_what_it_is_given() -> None:
    assert invite.main(["--email", "a@example.com", "--url", "http://x"], {}) == 1  # no SECRET_KEY
    env = {"SECRET_KEY": SECRET_KEY}
    assert invite.main(["--email", "a@example.com", "--url", "http://x", "--expires", "soon"], env) == 1
    assert invite.main(["--email", "a@example.com", "--url", "http://x", "--data", "invitation=x"], env) == 1


def test_a_link_may_fill_in_the_email_address_only_where_the_declaration_allows(
    owners_pool: emulator.LocalPool, local_pool: emulator.LocalPool
) -> None:
    allowed = text(owners_app(owners_pool).test_client().get("/signup?email=pre@example.com"))
    assert re.search(r'<input[^>]*name="username"[^>]*value="pre@example.com"', allowed)
    sample = text(create_app(base_env(**local_pool.environment())).test_client().get("/signup?email=pre@example.com"))
    assert "pre@example.com" not in sample
