"""Invitations: signed, expiring sign-up links for one email address.

`python -m app.invite --email a@b.example [--expires 7d] [--data team=blue]` prints a link to the
sign-up form that fills in and fixes that email address, and sends a pre sign-up trigger
`ValidationData` to check: the invitation's id and the --data pairs. The link is signed with
SECRET_KEY (an HMAC, itsdangerous), so nobody can change it, and any key in SECRET_KEY_FALLBACKS
still opens links made before a rotation. A declaration with `invitation_required = true` accepts
sign-ups through such links only.

The command runs from app/invite/__main__.py: the app's own package imports this module (its
views open invitations), so running this very file as `-m` would load it twice.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

from email_validator import EmailNotValidError, validate_email
from itsdangerous import BadData, URLSafeSerializer

from app.config.settings import MIN_SECRET_KEY_LENGTH

MAX_TOKEN_LENGTH = 2000
_DURATION = re.compile(r"(\d+)([mhd])")
_UNITS = {"m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Invitation:
    """Who may sign up with a link, until when, and what their pre sign-up trigger is told."""

    email: str
    id: str
    expires: int  # seconds since the epoch
    data: Mapping[str, str] = field(default_factory=dict)

    @property
    def validation_data(self) -> dict[str, str]:
        return {**self.data, "invitation": self.id}


class InvitationError(Exception):
    """A link that cannot be used: `reason` is "expired" or "invalid" (forged, cut, another key)."""

    def __init__(self, reason: Literal["expired", "invalid"]) -> None:
        super().__init__(reason)
        self.reason = reason


class Invitations:
    """Makes and opens invitation tokens with SECRET_KEY and its fallbacks."""

    def __init__(self, secret_key: str, fallbacks: tuple[str, ...] = ()) -> None:
        # itsdangerous signs with the last key and accepts any of them.
        self._serializer = URLSafeSerializer([*fallbacks, secret_key], salt="invitation")

    def make(self, email: str, lifetime_s: int, data: Mapping[str, str] | None = None) -> str:
        payload = {"e": email, "i": secrets.token_hex(8), "x": int(time.time()) + lifetime_s, "d": dict(data or {})}
        return str(self._serializer.dumps(payload))

    def open(self, token: str) -> Invitation:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvitationError("invalid")
        try:
            payload: Any = self._serializer.loads(token)
            invitation = Invitation(str(payload["e"]), str(payload["i"]), int(payload["x"]), dict(payload["d"]))
        except (BadData, KeyError, TypeError, ValueError) as err:
            raise InvitationError("invalid") from err
        if time.time() > invitation.expires:
            raise InvitationError("expired")
        return invitation


def parse_duration(text: str) -> int:
    """Seconds in "90m", "12h" or "7d"."""
    match = _DURATION.fullmatch(text.strip())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration such as 90m, 12h or 7d")
    return int(match.group(1)) * _UNITS[match.group(2)]


def main(argv: list[str] | None = None, env: Mapping[str, str] = os.environ) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.invite", description=__doc__.split("\n")[0])
    parser.add_argument("--email", required=True, help="the address the invitation is for (it cannot be changed)")
    parser.add_argument("--expires", default="7d", help="how long the link works: 90m, 12h, 7d (default 7d)")
    parser.add_argument("--data", action="append", default=[], metavar="KEY=VALUE", help="for the pre sign-up trigger")
    parser.add_argument(
        "--url", default=env.get("SIGNUP_PUBLIC_URL"), help="the app's public address (SIGNUP_PUBLIC_URL)"
    )
    args = parser.parse_args(argv)
    secret_key = env.get("SECRET_KEY", "")
    problems = []
    if len(secret_key) < MIN_SECRET_KEY_LENGTH:
        problems.append(f"SECRET_KEY must be set, as the app's ({MIN_SECRET_KEY_LENGTH}+ characters)")
    if not args.url:
        problems.append(
            "--url or SIGNUP_PUBLIC_URL must give the app's public address, such as https://signup.example.com"
        )
    try:
        lifetime = parse_duration(args.expires)
    except ValueError as err:
        problems.append(str(err))
    try:  # as the form will have it once checked: the invited address must match it exactly
        email = validate_email(args.email, check_deliverability=False).normalized
    except EmailNotValidError:
        problems.append(f"--email {args.email!r} is not an email address")
    data = dict(pair.split("=", 1) for pair in args.data if "=" in pair)
    if len(data) != len(args.data) or "invitation" in data:
        problems.append("--data takes KEY=VALUE pairs (and 'invitation' is the invitation's own id)")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    token = Invitations(secret_key, tuple(env.get("SECRET_KEY_FALLBACKS", "").split())).make(email, lifetime, data)
    print(f"{args.url.rstrip('/')}/signup?{urlencode({'invite': token})}")
    return 0
