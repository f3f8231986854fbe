"""Settings from the environment.

Read once, by create_app, never at import time. Every problem is collected so that start-up
fails with one message that lists them all; a secret's value never appears in that message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit

from limits import RateLimitItem, parse_many

from app.errors import ConfigError
from app.signup.bots import CAPTCHA_PROVIDERS
from app.signup.csrf import origin_of
from app.signup.ratelimit import Rule
from app.web.theme import FONT_FAMILY, HEX_COLOUR, Theme

_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_POOL_ID = re.compile(r"([a-z]{2}(?:-[a-z]+)+-\d{1,2})_[0-9A-Za-z]{1,55}")
_CLIENT_ID = re.compile(r"[\w+]{1,128}")
# SECRET_KEY's shortest length; `python -m app.invite` asks the same of the key it signs with.
MIN_SECRET_KEY_LENGTH = 32
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
# Threads per worker process, unless SIGNUP_THREADS says otherwise: gunicorn.conf.py starts that many.
DEFAULT_THREADS = 32
# The stores that can keep a moving window (memcached cannot).
RATE_STORAGE_SCHEMES = ("memory", "redis", "rediss", "redis+sentinel", "redis+cluster")

# Rate limits, in the syntax of the `limits` library ("5/minute;20/hour"), each set by its rule's
# setting (Rule.setting). Per address, they must let an office or a mobile carrier's shared address
# through (django-allauth allows 20 sign-ups a minute per address) while stopping sign-ups in bulk.
DEFAULT_LIMITS: dict[Rule, str] = {
    Rule.SIGNUP: "20/minute;200/hour",
    Rule.CONFIRM: "30/minute;300/hour",
    Rule.CONFIRM_PER_USER: "15/hour",
    Rule.RESEND: "30/hour",
    Rule.RESEND_PER_USER: "1/minute;5/hour",
    Rule.CODES_PER_DESTINATION: "5/hour",
}


class SignInMode(StrEnum):
    """How the flow ends (SIGNUP_SIGN_IN, app.signup.signin): nothing, a hand-off to Managed Login, or
    signed in at once."""

    NONE = "none"
    HAND_OFF = "hand-off"
    IMMEDIATE = "immediate"

    @classmethod
    def default(cls, domain: str | None, redirect_uri: str | None) -> SignInMode:
        """The hand-off when Managed Login's domain and the site's callback are both set, else none.

        The app's settings and `python -m app.poolcheck` both take their default from here.
        """
        return cls.HAND_OFF if domain and redirect_uri else cls.NONE


@dataclass(frozen=True)
class Cognito:
    """The user pool and app client, and how the process's one boto3 client reaches them (app.aws.cognito)."""

    region: str
    user_pool_id: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    endpoint_url: str | None = None
    connect_timeout: float = 2.0
    read_timeout: float = 5.0
    max_attempts: int = 2


@dataclass(frozen=True)
class SignIn:
    """Signing in at the end of the flow (app.signup.signin)."""

    mode: SignInMode = SignInMode.NONE
    domain: str | None = None  # the Managed Login domain, https://auth.example.com (COGNITO_DOMAIN)
    redirect_uri: str | None = None  # the site's OAuth callback, for the hand-off
    client_id: str = ""  # the app client the site signs in with (default: COGNITO_CLIENT_ID)
    scope: str = "openid email"
    token_callback_url: str | None = None  # where immediate sign-in posts the tokens
    auth_session_seconds: int = 180  # how long Cognito keeps a sign-up's Session (the client's AuthSessionValidity)


@dataclass(frozen=True)
class RateLimits:
    """The limits of app.signup.ratelimit, by rule, and where their counts are kept."""

    enabled: bool = True
    storage_uri: str = "memory://"
    rules: Mapping[Rule, tuple[RateLimitItem, ...]] = field(default_factory=dict)
    ipv6_prefix: int = 64  # an IPv6 network this long counts as one address


@dataclass(frozen=True)
class Captcha:
    """The CAPTCHA service the sign-up form shows and the server asks (app.signup.bots)."""

    provider: str  # a key of app.signup.bots.CAPTCHA_PROVIDERS: "turnstile" or "recaptcha"
    site_key: str
    secret_key: str = field(repr=False)
    verify_url: str = ""  # the provider's own when empty


@dataclass(frozen=True)
class Settings:
    """What the operator configured, grouped by what it is for; field names follow the environment variables."""

    cognito: Cognito
    secret_key: str
    secret_key_fallbacks: tuple[str, ...] = ()  # earlier keys, still accepted after a rotation
    success_url: str | None = None
    sign_in_url: str | None = None  # the site's sign-in page, offered when an account exists or is ready
    sign_in: SignIn = field(default_factory=SignIn)
    allowed_return_urls: tuple[str, ...] = ()
    advanced_security: bool = False
    advanced_security_script_url: str = ""
    check_email_deliverability: bool = False
    threads: int = DEFAULT_THREADS  # per worker; gunicorn tells each its real count (components.fit_to_threads)
    cognito_max_in_flight: int | None = None  # per worker; None: three quarters of its threads (cognito_cap)
    frame_ancestors: tuple[str, ...] = ()  # origins allowed to embed the app; empty: not embeddable
    trusted_proxies: int = 0
    # The app's own origin (SIGNUP_PUBLIC_URL): requests for another host are refused, posts must come from it.
    public_origin: str | None = None
    rate_limits: RateLimits = field(default_factory=RateLimits)
    min_fill_seconds: float = 1.0
    captcha: Captcha | None = None
    hide_existing_users: bool = False
    # Delete an UNCONFIRMED account that blocks a new sign-up (needs IAM credentials for the admin calls).
    replace_unconfirmed: bool = False
    metrics_token: str = ""
    site_name: str = ""
    favicon_url: str | None = None  # the site's icon; unset, a neutral one (static/favicon.svg)
    theme: Theme = field(default_factory=Theme)

    def __repr__(self) -> str:
        # Keep secrets out of any traceback or debug print that shows this object.
        return f"Settings(pool={self.cognito.user_pool_id!r}, client={self.cognito.client_id!r})"


class _Reader:
    """Reads environment variables and collects what is wrong with them."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def text(self, name: str, *, required: bool = False, check: Callable[[str], str | None] | None = None) -> str:
        value = self.env.get(name, "").strip()
        if not value:
            if required:
                self.problems.append(f"{name} is not set")
            return ""
        if check is not None and (why := check(value)):
            self.problems.append(f"{name} {why}")
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        value = switch(self.env.get(name, ""), default)
        if value is None:
            self.problems.append(f"{name} must be 1 or 0")
            return False
        return value

    def number(self, name: str, default: float, *, whole: bool = False, zero: bool = False) -> float:
        raw = self.env.get(name, "").strip()
        if not raw:
            return default
        try:
            value = int(raw) if whole else float(raw)
        except ValueError:
            value = -1
        if value < 0 or (value == 0 and not zero):
            kind = "whole number" if whole else "number"
            self.problems.append(f"{name} must be a {'non-negative' if zero else 'positive'} {kind}")
            return default
        return value

    def prefix(self, name: str) -> int:
        """An IPv6 prefix length for grouping addresses: 32 (a whole provider's block) to 64 (one subscriber)."""
        value = int(self.number(name, 64, whole=True))
        if not 32 <= value <= 64:
            self.problems.append(f"{name} must be a prefix length from 32 to 64 (got {value})")
            return 64
        return value

    def limits(self, rule: Rule) -> tuple[RateLimitItem, ...]:
        raw = self.env.get(rule.setting, "").strip() or DEFAULT_LIMITS[rule]
        try:
            return tuple(parse_many(raw))
        except ValueError:
            self.problems.append(f"{rule.setting} must look like '5/minute;20/hour' (got {raw!r})")
            return tuple(parse_many(DEFAULT_LIMITS[rule]))


def load_settings(env: Mapping[str, str]) -> Settings:
    """Build Settings from environment variables; raise ConfigError listing every problem."""
    read = _Reader(env)
    region = read.text("COGNITO_REGION", required=True, check=_check_region)
    pool_id = read.text("COGNITO_USER_POOL_ID", required=True, check=_check_pool_id)
    if region and pool_id and (match := _POOL_ID.fullmatch(pool_id)) and match.group(1) != region:
        read.problems.append(f"COGNITO_USER_POOL_ID is a pool in {match.group(1)}, but COGNITO_REGION is {region}")
    provider = read.text("SIGNUP_CAPTCHA", check=_check_captcha).lower() or None
    site_key = read.text("SIGNUP_CAPTCHA_SITE_KEY", required=provider is not None)
    captcha_secret_key = read.text("SIGNUP_CAPTCHA_SECRET_KEY", required=provider is not None)
    client_id = read.text("COGNITO_CLIENT_ID", required=True, check=_check_client_id)
    sign_in = _sign_in_settings(read, client_id)
    client_secret = read.text("COGNITO_CLIENT_SECRET") or None
    endpoint_url = read.text("COGNITO_ENDPOINT_URL", check=_check_url) or None
    # Keyword arguments are read in the order they are written: the order of the problems.
    settings = Settings(
        secret_key=read.text("SECRET_KEY", required=True, check=_check_secret_key),
        secret_key_fallbacks=tuple(read.text("SECRET_KEY_FALLBACKS", check=_check_fallbacks).split()),
        success_url=read.text("SIGNUP_SUCCESS_URL", check=_check_url) or None,
        sign_in_url=read.text("SIGNUP_SIGN_IN_URL", check=_check_url) or None,
        sign_in=sign_in,
        allowed_return_urls=tuple(read.text("SIGNUP_ALLOWED_RETURN_URLS", check=_check_urls).split()),
        advanced_security=read.flag("SIGNUP_ADVANCED_SECURITY"),
        advanced_security_script_url=read.text("SIGNUP_ADVANCED_SECURITY_SCRIPT_URL", check=_check_url)
        or f"https://amazon-cognito-assets.{region}.amazoncognito.com/amazon-cognito-advanced-security-data.min.js",
        check_email_deliverability=read.flag("SIGNUP_EMAIL_CHECK_DELIVERABILITY"),
        cognito=Cognito(
            region=region,
            user_pool_id=pool_id,
            client_id=client_id,
            client_secret=client_secret,
            endpoint_url=endpoint_url,
            connect_timeout=read.number("COGNITO_CONNECT_TIMEOUT", 2.0),
            read_timeout=read.number("COGNITO_READ_TIMEOUT", 5.0),
            max_attempts=int(read.number("COGNITO_MAX_ATTEMPTS", 2, whole=True)),
        ),
        threads=int(read.number("SIGNUP_THREADS", DEFAULT_THREADS, whole=True)),
        cognito_max_in_flight=int(read.number("SIGNUP_COGNITO_MAX_IN_FLIGHT", 0, whole=True)) or None,
        frame_ancestors=tuple(read.text("SIGNUP_FRAME_ANCESTORS", check=_check_origins).split()),
        trusted_proxies=int(read.number("SIGNUP_TRUSTED_PROXIES", 0, whole=True, zero=True)),
        public_origin=public_origin(read.text("SIGNUP_PUBLIC_URL", check=_check_public_url)),
        rate_limits=RateLimits(
            enabled=read.flag("SIGNUP_RATELIMIT_ENABLED", default=True),
            storage_uri=read.text("SIGNUP_RATELIMIT_STORAGE_URI", check=_check_storage) or "memory://",
            rules={rule: read.limits(rule) for rule in Rule},
            ipv6_prefix=read.prefix("SIGNUP_RATELIMIT_IPV6_PREFIX"),
        ),
        min_fill_seconds=read.number("SIGNUP_MIN_FILL_SECONDS", 1.0, zero=True),
        captcha=_captcha(
            provider, site_key, captcha_secret_key, read.text("SIGNUP_CAPTCHA_VERIFY_URL", check=_check_url)
        ),
        hide_existing_users=read.flag("SIGNUP_HIDE_EXISTING_USERS"),
        replace_unconfirmed=read.flag("SIGNUP_REPLACE_UNCONFIRMED"),
        metrics_token=read.text("SIGNUP_METRICS_TOKEN", check=_check_token),
        site_name=read.text("SIGNUP_SITE_NAME"),
        favicon_url=read.text("SIGNUP_FAVICON_URL", check=_check_url) or None,
        theme=Theme(
            brand_colour=read.text("SIGNUP_THEME_BRAND_COLOR", check=_check_colour) or None,
            logo_url=read.text("SIGNUP_THEME_LOGO_URL", check=_check_url) or None,
            font=read.text("SIGNUP_THEME_FONT", check=_check_font) or None,
        ),
    )
    if read.problems:
        raise ConfigError(read.problems)
    return settings


def switch(value: str, default: bool) -> bool | None:
    """A switch as every part of the app reads it (gunicorn.conf.py too): 1, true, yes or on; 0, false,
    no or off, in any case; the default when empty; None when it is none of these."""
    value = value.strip().lower()
    if not value:
        return default
    return True if value in _TRUE else False if value in _FALSE else None


def cognito_cap(threads: int, max_in_flight: int | None) -> int:
    """How many calls one worker lets wait on Cognito at once: SIGNUP_COGNITO_MAX_IN_FLIGHT, else three
    quarters of its threads, so that a slow Cognito always leaves a quarter of them for pages and
    health checks."""
    return max_in_flight or max(1, threads * 3 // 4)


def _check_region(value: str) -> str | None:
    return None if _REGION.fullmatch(value) else f"is not a region name such as eu-west-1 (got {value!r})"


def _check_pool_id(value: str) -> str | None:
    return None if _POOL_ID.fullmatch(value) else f"is not a user pool id such as eu-west-1_AbC123 (got {value!r})"


def _check_client_id(value: str) -> str | None:
    return None if _CLIENT_ID.fullmatch(value) else "is not an app client id (letters, digits, '_' and '+')"


def _captcha(provider: str | None, site_key: str, secret_key: str, verify_url: str) -> Captcha | None:
    return Captcha(provider, site_key, secret_key, verify_url) if provider else None


def _sign_in_settings(read: _Reader, client_id: str) -> SignIn:
    """How the flow ends: nothing, a hand-off to Managed Login, or signed in at once.

    The hand-off needs the Managed Login domain and the site's callback; it is the default when
    both are set. Immediate sign-in needs the callback the tokens are posted to, and falls back to
    the hand-off (when set up) or the done page.
    """
    domain = read.text("COGNITO_DOMAIN", check=_check_url).rstrip("/") or None
    redirect_uri = read.text("SIGNUP_SIGN_IN_REDIRECT_URI", check=_check_url) or None
    callback = read.text("SIGNUP_TOKEN_CALLBACK_URL", check=_check_url) or None
    given = read.text("SIGNUP_SIGN_IN", check=_check_sign_in).lower()
    mode = SignInMode(given) if given in tuple(SignInMode) else SignInMode.default(domain, redirect_uri)
    if mode == SignInMode.HAND_OFF and not (domain and redirect_uri):
        read.problems.append("SIGNUP_SIGN_IN=hand-off needs COGNITO_DOMAIN and SIGNUP_SIGN_IN_REDIRECT_URI")
    if mode == SignInMode.IMMEDIATE and not callback:
        read.problems.append("SIGNUP_SIGN_IN=immediate needs SIGNUP_TOKEN_CALLBACK_URL")
    minutes = read.number("SIGNUP_AUTH_SESSION_MINUTES", 3, whole=True)
    if not 3 <= minutes <= 15:
        read.problems.append("SIGNUP_AUTH_SESSION_MINUTES must be from 3 to 15, as Cognito's AuthSessionValidity")
    return SignIn(
        mode=mode,
        domain=domain,
        redirect_uri=redirect_uri,
        client_id=read.text("SIGNUP_SIGN_IN_CLIENT_ID", check=_check_client_id) or client_id,
        scope=read.text("SIGNUP_SIGN_IN_SCOPE", check=_check_scope) or "openid email",
        token_callback_url=callback,
        auth_session_seconds=int(minutes) * 60,
    )


def _check_sign_in(value: str) -> str | None:
    return None if value.lower() in tuple(SignInMode) else f"must be one of {', '.join(SignInMode)}"


def _check_scope(value: str) -> str | None:
    return (
        None
        if re.fullmatch(r"[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*", value)
        else "must be scopes separated by spaces"
    )


def _check_url(value: str) -> str | None:
    parts = urlsplit(value)
    return None if parts.scheme in ("http", "https") and parts.netloc else "must be an absolute http(s) URL"


def _check_public_url(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") or parts.query:
        return "must be the app's own address, such as https://signup.example.com (no path)"
    return None


def public_origin(url: str) -> str | None:
    """The origin of the app's public address, as browsers write it: lower case, no default port."""
    if not url:
        return None
    parts = urlsplit(url)
    return origin_of(parts.scheme, parts.netloc)


def _check_urls(value: str) -> str | None:
    bad = [url for url in value.split() if _check_url(url)]
    return f"must list absolute http(s) URLs separated by spaces (not {bad[0]!r})" if bad else None


def _check_origins(value: str) -> str | None:
    for origin in value.split():
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query or "*" in origin:
            return f"must list origins such as https://www.example.com separated by spaces (not {origin!r})"
    return None


def _check_storage(value: str) -> str | None:
    scheme = value.split("://", 1)[0]
    return None if scheme in RATE_STORAGE_SCHEMES else f"must start with one of {', '.join(RATE_STORAGE_SCHEMES)}"


def _check_captcha(value: str) -> str | None:
    return None if value.lower() in CAPTCHA_PROVIDERS else "must be turnstile or recaptcha"


def _check_colour(value: str) -> str | None:
    return None if HEX_COLOUR.fullmatch(value) else "must be a hex colour such as #0b5cad"


def _check_font(value: str) -> str | None:
    return None if FONT_FAMILY.fullmatch(value) else "must be a CSS font-family list such as 'Inter, sans-serif'"


def _check_token(value: str) -> str | None:
    return None if len(value) >= 16 else "must be at least 16 characters"


def _check_fallbacks(value: str) -> str | None:
    short = [key for key in value.split() if _check_secret_key(key)]
    return f"must list keys of at least {MIN_SECRET_KEY_LENGTH} characters, separated by spaces" if short else None


def _check_secret_key(value: str) -> str | None:
    if len(value) >= MIN_SECRET_KEY_LENGTH:
        return None
    return (
        f"must be at least {MIN_SECRET_KEY_LENGTH} characters; make one with "
        "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
    )
