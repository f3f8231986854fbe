"""The parts the requests share, built once per process by create_app."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from markupsafe import Markup

from app.bots import BotGuard
from app.cognito import CognitoSignup
from app.compression import KeptPage
from app.csrf import FormTokens
from app.declaration import Declaration
from app.flow import FlowSeal
from app.forms import FormClasses
from app.invite import Invitations
from app.settings import Settings
from app.steps import Steps


@dataclass(frozen=True)
class Components:
    """What the views need, built once per process."""

    settings: Settings
    declaration: Declaration
    tokens: FormTokens
    forms: FormClasses
    service: CognitoSignup
    steps: Steps
    flows: FlowSeal
    invitations: Invitations
    guard: BotGuard
    theme_css: str
    theme_version: str
    # The visible fields of untouched forms, by form class and language (app.pages.form_fields).
    rendered_fields: dict[tuple[type, str], Markup] = field(default_factory=dict)
    # The untouched sign-up page, by language and whether the language is in its links (app.pages.kept_signup_page).
    rendered_pages: dict[tuple[str, str | None], KeptPage] = field(default_factory=dict)


def current() -> Components:
    """The running app's components."""
    return current_app.extensions["signup"]  # type: ignore[no-any-return]
