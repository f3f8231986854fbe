"""Pages nobody has posted are rendered once per language; what differs per visitor is still per visitor."""

from __future__ import annotations

import html
import re
from typing import Any

from .conftest import csrf_token


def stamp(page: str) -> str:
    return re.search(r'name="started" type="hidden" value="([^"]+)"', page).group(1)


def test_every_visitor_gets_their_own_token_and_a_fresh_time_stamp(stub_app: Any) -> None:
    first = stub_app.test_client().get("/signup").get_data(as_text=True)
    second = stub_app.test_client().get("/signup").get_data(as_text=True)
    assert csrf_token(first) != csrf_token(second)
    guard = stub_app.extensions["signup"].guard
    assert guard._seconds_since(stamp(second)) < 5  # signed now (to the second), not when first rendered
    assert "__csrf_token__" not in first and "__form_shown_at__" not in first
    assert first.replace(csrf_token(first), "").replace(stamp(first), "") == second.replace(
        csrf_token(second), ""
    ).replace(stamp(second), "")


def test_each_language_has_its_own_page(stub_app: Any) -> None:
    english = stub_app.test_client().get("/signup").get_data(as_text=True)
    german = stub_app.test_client().get("/signup?lang=de").get_data(as_text=True)
    assert "Create your account" in english and "Konto erstellen" in german


def test_where_the_code_went_is_escaped_and_per_visitor(stub_app: Any) -> None:
    pages = []
    for destination in ("a***@e***", "<script>alert(1)</script>"):
        client = stub_app.test_client()
        with client.session_transaction() as session:
            session["pending"] = {"username": "u", "destination": destination, "medium": "EMAIL"}
        pages.append(client.get("/signup/confirm").get_data(as_text=True))
    assert "We sent a code by email to a***@e***." in html.unescape(pages[0])
    assert "<script>alert(1)</script>" not in pages[1]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[1]


def test_a_notice_is_shown_on_the_next_page(stub_app: Any) -> None:
    client = stub_app.test_client()
    with client.session_transaction() as session:
        session["pending"] = {"username": "u", "destination": "a***@e***", "medium": "SMS"}
        session["_flashes"] = [("message", "We sent you a new code.")]
    page = html.unescape(client.get("/signup/confirm").get_data(as_text=True))
    assert "We sent you a new code." in page
    assert "We sent a code by text message to a***@e***." in page
    assert "We sent you a new code." not in client.get("/signup/confirm").get_data(as_text=True)
