"""Screenshots of the main pages for the README: `make screenshots` writes docs/screenshots/.

Runs the app against the local Cognito, as `make run` does, and photographs each page in Debian's
Chromium on a desktop and a phone screen, in the light and the dark scheme.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from app.declaration import load_declaration
from local import emulator
from local.procfile import web_command

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--no-first-run"]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    cognito_port, app_port = emulator.free_port(), emulator.free_port()
    children = [emulator.start(cognito_port)]
    try:
        pool = emulator.provision(f"http://127.0.0.1:{cognito_port}", load_declaration(ROOT / "config" / "signup.toml"))
        env = {
            **os.environ,
            **pool.environment(),
            "SECRET_KEY": secrets.token_urlsafe(32),
            "SIGNUP_CONFIG": str(ROOT / "config" / "signup.toml"),
            "SIGNUP_BIND": f"127.0.0.1:{app_port}",
            "SIGNUP_MIN_FILL_SECONDS": "0",
        }
        children.append(subprocess.Popen(web_command(), cwd=ROOT, env=env))
        app = f"http://localhost:{app_port}"
        emulator.wait_until_up(f"{app}/healthz", children[-1])
        with sync_playwright() as playwright:
            for size, viewport in SIZES.items():
                for scheme in ("light", "dark"):
                    photograph(playwright, app, size, viewport, scheme)
    finally:
        for child in children:
            child.terminate()
            child.wait()


def photograph(playwright: object, app: str, size: str, viewport: dict[str, int], scheme: str) -> None:
    with tempfile.TemporaryDirectory() as profile:
        browser = playwright.chromium.launch_persistent_context(  # type: ignore[attr-defined]
            profile,
            executable_path="/usr/bin/chromium",
            headless=True,
            args=ARGS,
            viewport=viewport,
            color_scheme=scheme,
        )
        page = browser.new_page()

        def shot(name: str) -> None:
            page.screenshot(path=str(OUT / f"{name}-{size}-{scheme}.png"), full_page=True)

        page.goto(f"{app}/signup")
        shot("signup")
        page.get_by_label("Email address").fill("not an email")
        page.get_by_label("Password", exact=True).fill("short")
        page.get_by_role("button", name="Create account").click()
        shot("signup-errors")
        page.get_by_label("Email address").fill(f"{size}-{scheme}@example.com")
        page.get_by_label("Password", exact=True).fill("Correct-Horse-9")
        page.get_by_label("Confirm password").fill("Correct-Horse-9")
        page.get_by_label("First name").fill("Ann")
        page.get_by_role("button", name="Create account").click()
        page.get_by_label("Confirmation code").fill("123456")
        shot("confirm")
        page.get_by_role("button", name="Confirm account").click()
        shot("done")
        browser.close()


if __name__ == "__main__":
    main()
