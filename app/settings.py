"""Settings from the environment.

Read once, by create_app, never at import time. Every problem is collected so that start-up
fails with one message that lists them all; a secret's value never appears in that message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.errors import ConfigError

_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_POOL_ID = re.compile(r"([a-z]{2}(?:-[a-z]+)+-\d{1,2})_[0-9A-Za-z]{1,55}")
_CLIENT_ID = re.compile(r"[\w+]{1,128}")
_MIN_SECRET_KEY = 32
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Settings:
    """What the operator configured. Field names follow the environment variables."""

    cognito_region: str
    cognito_user_pool_id: str
    cognito_client_id: str
    cognito_client_secret: str | None
    cognito_endpoint_url: str | None
    secret_key: str
    signup_config: str
    success_url: str | None = None
    advanced_security: bool = False
    advanced_security_script_url: str = ""
    check_email_deliverability: bool = False
    connect_timeout: float = 2.0
    read_timeout: float = 5.0
    max_attempts: int = 2
    threads: int = 32
    frame_ancestors: tuple[str, ...] = ()  # origins allowed to embed the app; empty: not embeddable
    trusted_proxies: int = 0

    @property
    def embedded(self) -> bool:
        """Whether other sites may frame the app (which changes the session cookie)."""
        return bool(self.frame_ancestors)

    def __repr__(self) -> str:
        # Keep secrets out of any traceback or debug print that shows this object.
        return f"Settings(pool={self.cognito_user_pool_id!r}, client={self.cognito_client_id!r})"


def load_settings(env: Mapping[str, str]) -> Settings:
    """Build Settings from environment variables; raise ConfigError listing every problem."""
    problems: list[str] = []

    def get(name: str, *, required: bool = False, check: Callable[[str], str | None] | None = None) -> str:
        value = env.get(name, "").strip()
        if not value:
            if required:
                problems.append(f"{name} is not set")
            return ""
        if check is not None and (why := check(value)):
            problems.append(f"{name} {why}")
        return value

    region = get("COGNITO_REGION", required=True, check=_check_region)
    pool_id = get("COGNITO_USER_POOL_ID", required=True, check=_check_pool_id)
    if region and pool_id and (match := _POOL_ID.fullmatch(pool_id)) and match.group(1) != region:
        problems.append(f"COGNITO_USER_POOL_ID is a pool in {match.group(1)}, but COGNITO_REGION is {region}")
    client_id = get("COGNITO_CLIENT_ID", required=True, check=_check_client_id)
    client_secret = get("COGNITO_CLIENT_SECRET") or None
    endpoint = get("COGNITO_ENDPOINT_URL", check=_check_url) or None
    secret_key = get("SECRET_KEY", required=True, check=_check_secret_key)
    config_path = get("SIGNUP_CONFIG", required=True)
    success_url = get("SIGNUP_SUCCESS_URL", check=_check_url) or None
    advanced = _flag(env, "SIGNUP_ADVANCED_SECURITY", problems)
    script_url = get("SIGNUP_ADVANCED_SECURITY_SCRIPT_URL", check=_check_url) or (
        f"https://amazon-cognito-assets.{region}.amazoncognito.com/amazon-cognito-advanced-security-data.min.js"
    )
    deliverability = _flag(env, "SIGNUP_EMAIL_CHECK_DELIVERABILITY", problems)
    connect_timeout = _number(env, "COGNITO_CONNECT_TIMEOUT", 2.0, problems)
    read_timeout = _number(env, "COGNITO_READ_TIMEOUT", 5.0, problems)
    max_attempts = int(_number(env, "COGNITO_MAX_ATTEMPTS", 2, problems, whole=True))
    threads = int(_number(env, "SIGNUP_THREADS", 32, problems, whole=True))
    ancestors = tuple(get("SIGNUP_FRAME_ANCESTORS", check=_check_origins).split())
    proxies = get("SIGNUP_TRUSTED_PROXIES", check=_check_hops)

    if problems:
        raise ConfigError(problems)
    return Settings(
        cognito_region=region,
        cognito_user_pool_id=pool_id,
        cognito_client_id=client_id,
        cognito_client_secret=client_secret,
        cognito_endpoint_url=endpoint,
        secret_key=secret_key,
        signup_config=config_path,
        success_url=success_url,
        advanced_security=advanced,
        advanced_security_script_url=script_url,
        check_email_deliverability=deliverability,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_attempts=max_attempts,
        threads=threads,
        frame_ancestors=ancestors,
        trusted_proxies=int(proxies or 0),
    )


def _check_region(value: str) -> str | None:
    return None if _REGION.fullmatch(value) else f"is not a region name such as eu-west-1 (got {value!r})"


def _check_pool_id(value: str) -> str | None:
    return None if _POOL_ID.fullmatch(value) else f"is not a user pool id such as eu-west-1_AbC123 (got {value!r})"


def _check_client_id(value: str) -> str | None:
    return None if _CLIENT_ID.fullmatch(value) else "is not an app client id (letters, digits, '_' and '+')"


def _check_url(value: str) -> str | None:
    parts = urlsplit(value)
    return None if parts.scheme in ("http", "https") and parts.netloc else "must be an absolute http(s) URL"


def _check_origins(value: str) -> str | None:
    for origin in value.split():
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query or "*" in origin:
            return f"must list origins such as https://www.example.com separated by spaces (not {origin!r})"
    return None


def _check_hops(value: str) -> str | None:
    return None if value.isdigit() and int(value) <= 10 else "must be the number of proxies in front of the app (0-10)"


def _check_secret_key(value: str) -> str | None:
    if len(value) >= _MIN_SECRET_KEY:
        return None
    return (
        f"must be at least {_MIN_SECRET_KEY} characters; make one with "
        "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
    )


def _flag(env: Mapping[str, str], name: str, problems: list[str]) -> bool:
    value = env.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value not in _FALSE:
        problems.append(f"{name} must be 1 or 0")
    return False


def _number(env: Mapping[str, str], name: str, default: float, problems: list[str], *, whole: bool = False) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        value = 0
    if value <= 0:
        problems.append(f"{name} must be a positive {'whole ' if whole else ''}number")
        return default
    return value
