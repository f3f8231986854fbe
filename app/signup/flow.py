"""What one step of the flow hands to the next, sealed into the pages themselves.

Browsers refuse more and more cookies inside other sites' iframes, so nothing here depends on
one: the state of a sign-up in progress (who is signing up, where their code went, what to tell
the embedding page) travels in the code page's address as a sealed token. Sealed means encrypted
and signed (Fernet: AES and HMAC-SHA256 with a time stamp): nobody can read the email address or
phone number in it from an address bar, a history or a proxy's log, nor change it. Any instance
that shares SECRET_KEY can open it, and keys in SECRET_KEY_FALLBACKS still open tokens sealed
before a rotation.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.aws.cognito import Medium

# A confirmation code lives 24 hours; so does the page that asks for it.
MAX_AGE = 24 * 3600
# A sealed token far longer than any real one is not worth decrypting.
MAX_TOKEN_LENGTH = 4096


class Event(StrEnum):
    """What the next page tells the embedding page, once (its message's `type`)."""

    SIGNED_UP = "signed-up"
    CONFIRMED = "confirmed"
    PASSWORD_RESET = "password-reset"  # noqa: S105 - a message type, not a password


class Kind(StrEnum):
    """How the person in front of a page stands to its account: what the page may do and say.

    Only a flow that created its account with the password the person typed (CREATED), or in which
    the person has since set a password of their own (FINISH, then READY), ever ends "ready": see
    SECURITY.md on unconfirmed accounts. The values are one letter each: every kind seals to the
    same length, so a hidden account's code page is as long as a new one's.
    """

    # A code page:
    CREATED = "c"  # this flow's SignUp made the account, with `sub`
    EXISTING = "e"  # hiding met an existing account: it looks new, but confirms and sends nothing
    RETURNING = "r"  # finishing a sign-up started elsewhere: confirming it asks for a new password next
    # A new-password page:
    FINISH = "f"  # just confirmed on the returning path: a password of the person's own, to finish
    RESET = "p"  # "Forgot your password?"
    HIDDEN_RESET = "h"  # hiding met an unknown or unfinished account: it looks like RESET, and sets nothing
    # An end page:
    READY = "d"  # confirmed by this flow, with the person's own password
    PASSWORD_SET = "s"  # noqa: S105 - a new password, set with a code sent to the account's address
    ALREADY_CONFIRMED = "a"  # confirmed before, by somebody: sign in


CODE_PAGES = frozenset({Kind.CREATED, Kind.EXISTING, Kind.RETURNING})
# The route that shows a Flow that waits for a code (app.web.views); the rest end on the done page.
ROUTE_OF_KIND = {
    Kind.CREATED: "signup.confirm",
    Kind.EXISTING: "signup.confirm",
    Kind.RETURNING: "signup.confirm",
    Kind.FINISH: "signup.password",
    Kind.RESET: "signup.password",
    Kind.HIDDEN_RESET: "signup.password",
}
PASSWORD_PAGES = frozenset({Kind.FINISH, Kind.RESET, Kind.HIDDEN_RESET})
END_PAGES = frozenset({Kind.READY, Kind.PASSWORD_SET, Kind.ALREADY_CONFIRMED})
# The ends where the account holds a password the person in front of the page chose: the only ones that
# hand off to the site's sign-in with the username filled in, or go on to the success address.
OWN_PASSWORD = frozenset({Kind.READY, Kind.PASSWORD_SET})


@dataclass(frozen=True)
class Flow:
    """A sign-up in progress, as the next page needs it. Never a password or a code."""

    username: str
    destination: str = ""  # where the code went, as the person typed it (empty when hidden)
    medium: Medium | None = None  # None when unknown
    event: Event | None = None  # what to tell the embedding page on the next page
    notice: str = ""  # a key of app.web.messages to show once on the next page, such as "code_sent"
    # Cognito's Session from SignUp, then from ConfirmSignUp: a credential that signs the new
    # account in (app.signup.signin), so it travels only sealed; and when Cognito stops accepting it.
    session: str = ""
    session_until: int = 0
    # A flow sealed before flows had kinds was made by a sign-up or by a returning person's new
    # code, which cannot be told apart: it is treated as the safe one of the two.
    kind: Kind = Kind.RETURNING
    sub: str = ""  # the account's `sub`, for a CREATED flow: a replaced account is not this one
    # What the sign-up form held (app.signup.drafts, no password): "Change your email address" brings it back.
    form: Mapping[str, list[str]] = field(default_factory=dict)
    started: int = field(default=0, compare=False)  # when the flow began; kept by every seal (not sealed itself)

    @property
    def live_session(self) -> str | None:
        """The Session, while Cognito still accepts it."""
        return self.session if self.session and time.time() < self.session_until else None

    def but(self, **changes: Any) -> Flow:
        return replace(self, **changes)


class FlowError(Exception):
    """A token that cannot be used. `flow` is set when it is genuine but too old (its details may
    still be shown to the person who sent it), and None when it is unreadable or forged."""

    def __init__(self, flow: Flow | None) -> None:
        super().__init__("expired" if flow else "unreadable")
        self.flow = flow


class FlowSeal:
    """Seals and opens Flow tokens with keys derived from SECRET_KEY and its fallbacks."""

    def __init__(
        self, secret_key: str, fallbacks: tuple[str, ...] = (), max_age: int = MAX_AGE, *, pad_to: int = 1
    ) -> None:
        # The first key seals; every key opens.
        self._fernet = MultiFernet([Fernet(fernet_key(key, b"flow v1")) for key in (secret_key, *fallbacks)])
        self.max_age = max_age
        # With existing accounts hidden, every token's length is a multiple of this: a Session
        # Cognito gave a new account is not told from a hidden account's stand-in by a few characters.
        self._pad_to = pad_to

    def seal(self, flow: Flow) -> str:
        """The Flow as a token, time-stamped with when the flow began: a page re-sealed on every
        visit still expires a day after its sign-up."""
        data = {key: value for key, value in vars(flow).items() if value and key != "started"}
        plain = json.dumps(data, separators=(",", ":")).encode()
        plain += b" " * (-len(plain) % self._pad_to)  # JSON ignores trailing white space
        return self._fernet.encrypt_at_time(unpadded(plain), flow.started or int(time.time())).decode()

    def open(self, token: str) -> Flow:
        """The Flow in a token; FlowError when it is forged, unreadable or older than max_age."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise FlowError(None)
        try:
            plain = self._fernet.decrypt(token.encode())
            sealed_at = sealed_time(token)
            flow = _flow(json.loads(plain), sealed_at)
        except (InvalidToken, ValueError, TypeError) as err:
            raise FlowError(None) from err
        if time.time() - sealed_at > self.max_age:
            raise FlowError(flow)
        return flow


def _flow(fields: Any, started: int) -> Flow:
    """The Flow a token's JSON holds, its words typed again; ValueError or TypeError when it holds none."""
    fields = dict(fields)
    for name, words in (("medium", Medium), ("event", Event), ("kind", Kind)):
        if name in fields:
            fields[name] = words(fields[name])
    fields.pop("started", None)
    return Flow(**fields, started=started)


def sealed_time(token: str) -> int:
    """When a Fernet token was sealed: bytes 1 to 8 of the token, read as Fernet reads them. Only for
    a token that has just decrypted, so it is genuine; MultiFernet.extract_timestamp would check its
    signature a second time, which was a third of what opening a token cost."""
    return int.from_bytes(base64.urlsafe_b64decode(token)[1:9], "big")


def unpadded(plain: bytes) -> bytes:
    """`plain` with the trailing spaces (which JSON ignores) that make its Fernet token need no
    base64 padding. Every "=" in a token is escaped in an address, and a value with one character to
    escape is quoted character by character: that was most of what building a page's links cost.

    A token is 57 bytes around the cipher text, whose 16-byte blocks number len // 16 + 1; with
    both multiples of 3, base64 needs no "=". Tokens of equal length stay of equal length.
    """
    blocks_short = -(len(plain) // 16 + 1) % 3
    return plain + b" " * ((len(plain) // 16 + blocks_short) * 16 - len(plain)) if blocks_short else plain


def fernet_key(secret_key: str, purpose: bytes) -> bytes:
    """A Fernet key of its own for each purpose, so a token made for something else never opens there."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"cognito-signup " + purpose)
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))
