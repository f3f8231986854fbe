"""The app's own errors.

The service layer turns every Cognito failure into one of these, so that views never look at
botocore. Each names its message by a key of app.web.messages (never Cognito's raw text, which can name
internals) and, where it belongs to one input, that input's name.
"""

from __future__ import annotations

from collections.abc import Iterable


class ConfigError(Exception):
    """The settings or the declaration are wrong; start-up stops and lists every problem."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        lines = "\n".join(f"  - {p}" for p in self.problems)
        return f"The sign-up app cannot start; fix these settings:\n{lines}"


class SignupError(Exception):
    """A failure the person is told about, on a field or at the top of the page.

    `message` is a key of app.web.messages. `field` names what it is about: "username", "password",
    "code", or a Cognito attribute name such as "email"; None means the whole page. `code` names the
    cause for logs and metrics: Cognito's error code, or the app's own ("RateLimited", "BotCheck",
    ...). `detail` is a text to show as it is, written by the operator's own Lambda trigger.
    """

    status = 422

    def __init__(self, message: str, field: str | None = None, *, code: str = "", detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code or type(self).__name__
        self.detail = detail


class InvalidInput(SignupError):
    """Something the person typed was refused; they can fix it and try again."""


class UsernameExists(InvalidInput):
    """SignUp for a username that is taken (kept apart so that it can be hidden)."""


class UserNotFound(InvalidInput):
    """No account with this username (kept apart so that it can be hidden)."""


class NotVerified(InvalidInput):
    """A new password was asked for an account whose address was never confirmed: its sign-up is unfinished."""


class AlreadyConfirmed(SignupError):
    """The account is already confirmed: the flow is finished, not failed."""

    status = 200


class TooManyAttempts(SignupError):
    """Over a rate limit, ours or Cognito's; waiting helps. `retry_after` is in seconds."""

    status = 429

    def __init__(self, message: str, field: str | None = None, *, code: str = "", retry_after: int = 60) -> None:
        super().__init__(message, field, code=code)
        self.retry_after = retry_after


class Refused(SignupError):
    """Cognito's firewall (AWS WAF) refused the request."""

    status = 403


class SessionRefused(SignupError):
    """Cognito no longer accepts the Session it gave (expired, used, or another sign-up's)."""

    status = 503


class ServiceUnavailable(SignupError):
    """Cognito cannot be reached, is failing, or refuses our configuration.

    The person sees a short generic message and keeps what they typed; the operator finds the
    detail in the log.
    """

    status = 503
