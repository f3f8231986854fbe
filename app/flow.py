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
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.cognito import Medium

# A confirmation code lives 24 hours; so does the page that asks for it.
MAX_AGE = 24 * 3600
# A sealed token far longer than any real one is not worth decrypting.
MAX_TOKEN_LENGTH = 4096


class Event(StrEnum):
    """What the next page tells the embedding page, once (its message's `type`)."""

    SIGNED_UP = "signed-up"
    CONFIRMED = "confirmed"


@dataclass(frozen=True)
class Flow:
    """A sign-up in progress, as the next page needs it. Never a password or a code."""

    username: str
    destination: str = ""  # where the code went, as the person typed it (empty when hidden)
    medium: Medium | None = None  # None when unknown
    event: Event | None = None  # what to tell the embedding page on the next page
    notice: str = ""  # a key of app.messages to show once on the next page, such as "code_sent"
    # Cognito's Session from SignUp, then from ConfirmSignUp: a credential that signs the new
    # account in (app.signin), so it travels only sealed; and when Cognito stops accepting it.
    session: str = ""
    session_until: int = 0

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

    def __init__(self, secret_key: str, fallbacks: tuple[str, ...] = (), max_age: int = MAX_AGE) -> None:
        # The first key seals; every key opens.
        self._fernet = MultiFernet([Fernet(_derive(key)) for key in (secret_key, *fallbacks)])
        self.max_age = max_age

    def seal(self, flow: Flow) -> str:
        data = {key: value for key, value in asdict(flow).items() if value}
        return self._fernet.encrypt(json.dumps(data, separators=(",", ":")).encode()).decode()

    def open(self, token: str) -> Flow:
        """The Flow in a token; FlowError when it is forged, unreadable or older than max_age."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise FlowError(None)
        try:
            plain = self._fernet.decrypt(token.encode())
            sealed_at = self._fernet.extract_timestamp(token.encode())
            flow = _flow(json.loads(plain))
        except (InvalidToken, ValueError, TypeError) as err:
            raise FlowError(None) from err
        if time.time() - sealed_at > self.max_age:
            raise FlowError(flow)
        return flow


def _flow(fields: Any) -> Flow:
    """The Flow a token's JSON holds, its words typed again; ValueError or TypeError when it holds none."""
    fields = dict(fields)
    for name, words in (("medium", Medium), ("event", Event)):
        if name in fields:
            fields[name] = words(fields[name])
    return Flow(**fields)


def _derive(secret_key: str) -> bytes:
    """A Fernet key of its own for this purpose, so a token made for something else never opens here."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"cognito-signup flow v1")
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))
