"""Defences against forged posts that need no cookie (OWASP's CSRF prevention cheat sheet).

The app has no session to ride on, so a forged post could at most sign someone up, try a code or
send a code from a victim's browser and address. Two defences stop it:

1. Every POST must come from the app's own pages. Browsers say where a request comes from in
   Sec-Fetch-Site (Fetch Metadata, in every current engine) and Origin; a post from any other
   site, even one allowed to frame the app, is refused before anything else runs. An old browser
   that sends neither header, nor a Referer, falls back to the second defence alone.
2. Every form carries a signed, expiring token naming the form it was made for, so a post needs
   a page this app served recently. Its time stamp also tells how long the form was open (the bot
   check's time to fill). It is signed with SECRET_KEY; SECRET_KEY_FALLBACKS still verify tokens
   made before a rotation.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Request
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from wtforms import Field, Form
from wtforms.csrf.core import CSRF
from wtforms.validators import ValidationError

log = logging.getLogger(__name__)

# A confirmation code lives 24 hours, so a code page left open that long must still post.
FORM_MAX_AGE = 24 * 3600


class _Uncompressed(URLSafeTimedSerializer):
    """itsdangerous' URL-safe tokens without its attempt to compress them.

    A form token holds a few bytes, which never compress, and the attempt (zlib sets up a deflate
    state of a few hundred KiB a call) was most of what making a token cost. Reading is unchanged,
    so tokens made either way are read the same, by any instance.
    """

    def dump_payload(self, obj: Any) -> bytes:
        return base64_encode(self.serializer.dumps(obj, **self.serializer_kwargs))


class FormTokens:
    """Makes and checks the signed per-form tokens."""

    def __init__(self, secret_key: str, fallbacks: tuple[str, ...] = (), max_age: int = FORM_MAX_AGE) -> None:
        # itsdangerous signs with the last key and accepts any of them.
        self._serializer = _Uncompressed([*fallbacks, secret_key], salt="form-token")
        self.max_age = max_age

    def make(self, form_name: str) -> str:
        """A token for one page view of the form: its name, when it was made (the signature's own
        time stamp counts whole seconds; the bot check wants tenths) and a random name for the view."""
        return str(self._serializer.dumps([form_name, round(time.time(), 2), secrets.token_urlsafe(9)]))

    def read(self, token: str, form_name: str) -> FormToken:
        """What a genuine, recent token for this form says; TokenRefused for any other."""
        try:
            name, made_at, *view = self._serializer.loads(token, max_age=self.max_age)
        except SignatureExpired as err:
            raise TokenRefused("expired") from err
        except (BadData, TypeError, ValueError) as err:
            raise TokenRefused("invalid") from err
        if name != form_name or not isinstance(made_at, float) or len(view) > 1:
            raise TokenRefused("invalid")
        # A token made before page views were named (a rolling deploy) is named by its time.
        return FormToken(age=max(0.0, time.time() - made_at), page_view=str(view[0] if view else made_at))


@dataclass(frozen=True)
class FormToken:
    """A checked form token: how long ago its page was shown, and that page view's own name (which
    the signed payload holds, so no other spelling of the same token names another view)."""

    age: float
    page_view: str


class TokenRefused(ValidationError):
    """A missing, forged, expired or misplaced form token; `reason` says which, for the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SignedFormToken(CSRF):
    """WTForms' CSRF hook, backed by FormTokens instead of a session.

    The form class names its token maker and its own name in its Meta (see app.web.forms); after
    validation the token field's `age` says how long the form was open, and its `page_view`
    which page view of the form was sent.
    """

    def setup_form(self, form: Form) -> Any:
        self.tokens: FormTokens = form.meta.form_tokens
        self.form_name: str = form.meta.form_name
        return super().setup_form(form)

    def generate_csrf_token(self, csrf_token_field: Field) -> str:
        return self.tokens.make(self.form_name)

    def validate_csrf_token(self, form: Form, field: Field) -> None:
        field.age = field.page_view = None
        if not field.data or not isinstance(field.data, str):
            raise TokenRefused("missing")
        try:
            checked = self.tokens.read(field.data, self.form_name)
        except TokenRefused as err:
            log.info("Form refused: %s token", err.reason)
            raise
        field.age, field.page_view = checked.age, checked.page_view


def is_same_origin(request: Request, own: str | None = None) -> bool:
    """Whether a POST comes from one of the app's own pages, as far as the browser tells.

    Sec-Fetch-Site first (the browser's own verdict), then Origin, then Referer; a request with
    none of them comes from an old browser or a non-browser client, which the form token covers.
    `own` is the app's configured origin (SIGNUP_PUBLIC_URL); without it, the request's own scheme
    and Host, which a client may choose.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    own = own or origin_of(request.scheme, request.host)
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin.lower() == own  # "null" (a sandboxed frame, a privacy redirect) never matches
    referer = request.headers.get("Referer")
    if referer:
        parts = urlsplit(referer)
        return origin_of(parts.scheme, parts.netloc) == own
    return True


def is_own_host(request: Request, own: str | None) -> bool:
    """Whether a request names the app's own host (SIGNUP_PUBLIC_URL), when one is configured.

    A request for another host is a misrouted one or a DNS-rebinding page's: a browser that a
    hostile name resolved to this app sends that name as Host, and would read the answers.
    """
    return own is None or _host(request.host) == _host(urlsplit(own).netloc)


def origin_of(scheme: str, host: str) -> str:
    """`scheme://host[:port]` as browsers send it in Origin: lower case, without the scheme's default port."""
    scheme = scheme.lower()
    return f"{scheme}://{_host(host, scheme)}"


def _host(netloc: str, scheme: str = "") -> str:
    """A host and port, lower case, without a default port (either one, when the scheme is not known:
    behind a proxy that is not trusted, the app cannot tell the scheme the browser used)."""
    host = netloc.lower()
    defaults = {"https": (":443",), "http": (":80",)}.get(scheme, (":443", ":80"))
    for port in defaults:
        host = host.removesuffix(port)
    return host
