"""Real headless Chromium (Debian's package) driven by Playwright, and what a person does on the code page.

Playwright is imported when a browser test runs, never when the suite is collected: the fast tier
(`make test-fast`) imports no browser driver (tests/test_tiers.py).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WRONG_CODE = "000000"  # the local Cognito accepts only emulator.LOCAL_CODE
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@contextmanager
def chromium(
    playwright: Any, profile: Path, *, third_party_cookies: bool = False, no_cookies: bool = False, **options: Any
) -> Iterator[Any]:
    """A fresh Chromium profile; third-party cookies blocked (the browser's default) unless asked.

    `no_cookies` blocks every cookie, first-party too, as the setting "Don't allow sites to save
    data" does: a person who chose it, or a browser that keeps nothing, must still get through.
    """
    (profile / "Default").mkdir(parents=True, exist_ok=True)
    preferences: dict[str, Any] = {"profile": {"cookie_controls_mode": 0 if third_party_cookies else 1}}
    if no_cookies:
        preferences["profile"]["default_content_setting_values"] = {"cookies": 2}  # 2: block
    (profile / "Default" / "Preferences").write_text(json.dumps(preferences))
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, **options
    )
    try:
        yield context
    finally:
        context.close()


def served_by(page: Any, base: str, app: Any) -> None:
    """Let the Flask app itself answer the browser's requests to `base` (https://app.test), through
    Playwright's routing: any state of any declaration in a real browser, with no server to start."""
    client = app.test_client()

    def answer(route: Any, request: Any) -> None:
        path = request.url.removeprefix(base)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        response = client.open(
            path, method=request.method, headers=headers, data=request.post_data_buffer, base_url=base
        )
        body = response.get_data()
        response.close()  # a static file is streamed from an open file
        route.fulfill(status=response.status_code, headers=dict(response.headers), body=body)

    page.route(f"{base}/**", answer)


def expect(target: Any) -> Any:
    """Playwright's `expect`, imported on a browser test's first check rather than when its module is collected."""
    from playwright.sync_api import expect as playwright_expect  # noqa: PLC0415

    return playwright_expect(target)


def enter_code(where: Any, code: str) -> None:
    """Type a code on the code page (a page, or a frame of one) and send it."""
    where.get_by_label("Confirmation code").fill(code)
    where.get_by_role("button", name="Confirm account").click()


def through_the_code_page(
    where: Any, right_code: str, *, new_code: bool, seen: Callable[[str], None] = lambda state: None
) -> None:
    """The code page as a person meets it: a wrong code, refused in place; a new code, when
    `new_code`; then the right code, and the account is ready. `seen(state)` is called with the
    wrong code's page shown ("confirm-error") and with the done page ("done")."""
    enter_code(where, WRONG_CODE)
    expect(where.locator("#code-error-1")).to_be_visible()
    expect(where.locator("#code-error-1")).to_contain_text("That code is not right.")
    seen("confirm-error")
    if new_code:
        where.get_by_role("button", name="Send a new code").click()
        expect(where.get_by_text("We sent you a new code.")).to_be_visible()
    enter_code(where, right_code)
    expect(where.get_by_role("heading", name="Your account is ready")).to_be_visible()
    seen("done")
