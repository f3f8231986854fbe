"""Bot checks on the sign-up form, made before anything reaches Cognito.

A hidden field that people never see but form-filling bots do (the honeypot), the time between
showing the form and receiving it (read from the form's signed token), and optionally a CAPTCHA
verified on the server. People see none of this: a form sent quicker than a person types (a
password manager that fills and sends it) is never refused for that alone; it only counts double
against the sign-ups allowed from its address (app.signup.steps), where bots sending at once meet the limit.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from urllib.parse import urlencode

import urllib3

from app.errors import InvalidInput, ServiceUnavailable
from app.ops.metrics import BOT_SIGNALS

log = logging.getLogger(__name__)

HONEYPOT_FIELD = "homepage"  # not a Cognito attribute name, so never a real field


@dataclass(frozen=True)
class CaptchaProvider:
    """What the page loads and the server calls for one CAPTCHA service."""

    script_url: str
    verify_url: str
    response_field: str  # the form field the widget fills in
    widget_class: str
    script_origins: tuple[str, ...]
    frame_origins: tuple[str, ...]


CAPTCHA_PROVIDERS = {
    "turnstile": CaptchaProvider(
        script_url="https://challenges.cloudflare.com/turnstile/v0/api.js",
        verify_url="https://challenges.cloudflare.com/turnstile/v0/siteverify",
        response_field="cf-turnstile-response",
        widget_class="cf-turnstile",
        script_origins=("https://challenges.cloudflare.com",),
        frame_origins=("https://challenges.cloudflare.com",),
    ),
    "recaptcha": CaptchaProvider(
        script_url="https://www.google.com/recaptcha/api.js",
        verify_url="https://www.google.com/recaptcha/api/siteverify",
        response_field="g-recaptcha-response",
        widget_class="g-recaptcha",
        script_origins=("https://www.google.com", "https://www.gstatic.com"),
        frame_origins=("https://www.google.com", "https://recaptcha.google.com"),
    ),
}


class Captcha:
    """A CAPTCHA service: the widget in the page, the answer checked with the secret key."""

    def __init__(self, provider: str, site_key: str, secret_key: str, verify_url: str = "") -> None:
        self.provider = CAPTCHA_PROVIDERS[provider]
        self.site_key = site_key
        self._secret_key = secret_key
        self._verify_url = verify_url or self.provider.verify_url

    def verify(self, response: str, ip_address: str) -> bool:
        """Ask the service whether the widget's answer is genuine; ServiceUnavailable if it cannot say."""
        try:
            answer = urllib3.request(
                "POST",
                self._verify_url,
                body=urlencode({"secret": self._secret_key, "response": response, "remoteip": ip_address}),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=5.0,
                retries=False,
            )
            return answer.status == 200 and json.loads(answer.data).get("success") is True
        except (urllib3.exceptions.HTTPError, ValueError) as err:
            log.warning("CAPTCHA verification failed: %s", type(err).__name__)
            raise ServiceUnavailable("captcha_unavailable", code="CaptchaUnavailable") from err


class BotGuard:
    """The checks a sign-up passes before it may cost a Cognito call, an email or a text message."""

    def __init__(self, min_fill_seconds: float, captcha: Captcha | None = None) -> None:
        self._min_fill_seconds = min_fill_seconds
        self.captcha = captcha

    def check(self, honeypot: str, seconds_open: float, captcha_response: str, ip_address: str) -> bool:
        """Raise InvalidInput (or ServiceUnavailable) unless the sign-up looks like a person's; True
        when it came quicker than a person types, a signal that counts with the others.

        `seconds_open` is how long the form was open, from its signed token (app.signup.csrf).
        """
        if honeypot:
            log.info("Sign-up refused: the hidden field was filled in")
            raise InvalidInput("bot_refused", code="BotCheck")
        if self.captcha is not None and not (captcha_response and self.captcha.verify(captcha_response, ip_address)):
            raise InvalidInput("captcha_missing", code="Captcha")
        quick = seconds_open < self._min_fill_seconds
        if quick:
            log.info("Sign-up sent %.1f s after the form was shown: counted double against its address", seconds_open)
            BOT_SIGNALS.labels("quick").inc()
        return quick
