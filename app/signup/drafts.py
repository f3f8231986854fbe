"""What a form that could not be accepted brings back, sealed into the address it is shown again at.

A post that fails answers with a redirect (303 See Other) to its own page, whose address carries
the draft: what was typed (never a password, a form token or the honeypot) and the step's error,
with when it stops holding. So Back and reload only ever meet pages fetched with GET: no browser
asks to send a form again ("Confirm Form Resubmission", "Document Expired"). The page's language
buttons send the form to its own address in another language, which answers the same way, so
switching language keeps what was typed and what was wrong (app.web.views).

Sealed like the flow (app.signup.flow: Fernet, with keys from SECRET_KEY), with a key of its own: nobody
reads what was typed from an address bar, a history or a log, nor changes it, and any instance
opens it. A draft lives as long as a form token (24 hours).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from app.errors import SignupError, TooManyAttempts
from app.signup.csrf import FORM_MAX_AGE
from app.signup.flow import fernet_key, unpadded

# A draft longer than this is not put in an address (with the flow and the carried values it would
# near the 4,094 bytes of gunicorn's request line): the page is answered at once instead.
MAX_DRAFT_LENGTH = 3000


@dataclass(frozen=True)
class Draft:
    """A form as it was sent: its values, whether it was refused, and why."""

    values: Mapping[str, list[str]] = field(default_factory=dict)  # by field name, as posted
    failed: bool = False  # refused: its checks run again when it is shown, in the page's language
    # What was wrong with the password, as app.web.forms.password_problems names it: said again, never kept.
    password: tuple[str, ...] = ()
    error: Mapping[str, Any] | None = None  # the step's error (app.errors.SignupError), with `until`

    @classmethod
    def of(
        cls,
        posted: Mapping[str, list[str]],
        keep: Iterable[str],
        *,
        failed: bool,
        password: tuple[str, ...] = (),
        error: SignupError | None = None,
    ) -> Draft:
        """The draft of a post: the `keep` fields' values (the form's own, secrets aside)."""
        values = {name: posted[name] for name in keep if name in posted}  # "" too: a field emptied on purpose
        return cls(values, failed, password, _error_data(error) if error is not None else None)

    @property
    def empty(self) -> bool:
        """Nothing typed, nothing wrong: the page is shown as new."""
        return not (any(any(values) for values in self.values.values()) or self.failed or self.error)

    def but_values(self, posted: Mapping[str, list[str]], keep: Iterable[str]) -> Draft:
        """This draft's verdict with what was typed since (a language switched on a refused form)."""
        return replace(Draft.of(posted, keep, failed=self.failed, password=self.password), error=self.error)

    def step_error(self) -> SignupError | None:
        """The step's error, while it still holds: a limit whose wait is over says nothing any more."""
        if not self.error:
            return None
        data = self.error
        if data.get("until"):
            left = int(data["until"] - time.time())
            if left <= 0:
                return None
            error: SignupError = TooManyAttempts(
                data["message"], data.get("field"), code=data["code"], retry_after=left
            )
        else:
            error = SignupError(data["message"], data.get("field"), code=data["code"], detail=data.get("detail", ""))
        error.status = int(data["status"])
        return error


class DraftSeal:
    """Seals and opens drafts with keys derived from SECRET_KEY and its fallbacks."""

    def __init__(self, secret_key: str, fallbacks: tuple[str, ...] = (), max_age: int = FORM_MAX_AGE) -> None:
        self._fernet = MultiFernet([Fernet(fernet_key(key, b"draft v1")) for key in (secret_key, *fallbacks)])
        self.max_age = max_age

    def seal(self, draft: Draft) -> str:
        data = {"v": draft.values, "f": draft.failed, "p": list(draft.password), "e": draft.error}
        return self._fernet.encrypt(unpadded(json.dumps(data, separators=(",", ":")).encode())).decode()

    def open(self, token: str | None) -> Draft | None:
        """The draft in a token; None for a missing, forged, cut or day-old one (the page is shown fresh)."""
        if not token or len(token) > MAX_DRAFT_LENGTH:
            return None
        try:
            data = json.loads(self._fernet.decrypt(token.encode(), ttl=self.max_age))
            values = {str(k): [str(v) for v in vs] for k, vs in dict(data["v"]).items()}
            error = dict(data["e"]) if data["e"] else None
            return Draft(values, bool(data["f"]), tuple(str(p) for p in data["p"]), error)
        except (InvalidToken, ValueError, TypeError, KeyError):
            return None


def _error_data(error: SignupError) -> dict[str, Any]:
    retry_after = getattr(error, "retry_after", None)
    return {
        "message": error.message,
        "field": error.field,
        "code": error.code,
        "detail": error.detail,
        "status": error.status,
        "until": time.time() + retry_after if retry_after else 0,
    }
