"""The parts the requests share, built once per process by create_app."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from app.bots import BotGuard
from app.cognito import CognitoSignup
from app.declaration import Declaration
from app.forms import FormClasses
from app.ratelimit import RateLimiter
from app.settings import Settings


@dataclass(frozen=True)
class Components:
    """What the views need, built once per process."""

    settings: Settings
    declaration: Declaration
    forms: FormClasses
    service: CognitoSignup
    limiter: RateLimiter
    guard: BotGuard
    theme_css: str
    theme_version: str
    # Pages that look the same to everyone who reads one language (see app.views).
    rendered: dict[Any, str] = field(default_factory=dict)


def current() -> Components:
    """The running app's components."""
    return current_app.extensions["signup"]  # type: ignore[no-any-return]
