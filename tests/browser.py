"""Real headless Chromium (Debian's package) driven by Playwright."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
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
