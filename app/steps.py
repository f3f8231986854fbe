"""The flow's three steps, with every policy around their Cognito calls in one place.

Views validate a form, call one of these with plain values, and redirect to the page the returned
Flow names. Here live the bot checks, the rate limits, hiding existing accounts, the resend
cooldown and the metrics, so each is written once.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from app import metrics
from app.bots import BotGuard
from app.cognito import CodeDelivery, CognitoSignup, Medium, RequestContext, Tokens
from app.errors import AlreadyConfirmed, InvalidInput, Refused, SignupError, UsernameExists, UserNotFound
from app.flow import Event, Flow
from app.invite import Invitation
from app.model import Declaration
from app.ratelimit import RateLimiter, Rule, network_key

MEDIUM = {"email": Medium.EMAIL, "phone_number": Medium.SMS}
ATTRIBUTE = {medium: attribute for attribute, medium in MEDIUM.items()}


@dataclass(frozen=True)
class Visitor:
    """What the steps know of the person's visit: the address, the advanced-security data, and
    where they came from (declared attribution parameters that go to Cognito as ClientMetadata)."""

    ip: str
    encoded_data: str | None = None
    client_metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def context(self) -> RequestContext:
        return RequestContext(ip_address=self.ip, encoded_data=self.encoded_data, client_metadata=self.client_metadata)

    @property
    def network(self) -> str:
        """The address the per-address limits count (an IPv6 /64 counts as one)."""
        return network_key(self.ip)


class Steps:
    """Sign up, confirm, send a new code."""

    def __init__(
        self,
        service: CognitoSignup,
        limiter: RateLimiter,
        guard: BotGuard,
        declaration: Declaration,
        *,
        hide_existing_users: bool,
        sign_in_at_once: bool = False,
        auth_session_seconds: int = 180,
    ) -> None:
        self.service = service
        self.limiter = limiter
        self.guard = guard
        self.declaration = declaration
        self.hide_existing_users = hide_existing_users
        # Immediate sign-in (SIGNUP_SIGN_IN=immediate): Cognito's Sessions are kept to sign in with.
        self.sign_in_at_once = sign_in_at_once
        self.auth_session_seconds = auth_session_seconds

    def sign_up(
        self,
        username: str,
        password: str | None,
        attributes: Mapping[str, str],
        visitor: Visitor,
        *,
        honeypot: str,
        seconds_open: float,
        captcha_response: str,
        invitation: Invitation | None = None,
    ) -> Flow:
        """Create the account; the Flow for the code page, or for the end when a trigger confirmed it.

        With an invitation, the email address must be the invited one, and the pre sign-up trigger
        gets the invitation's id and data as ValidationData.
        """
        metrics.SIGNUPS_STARTED.inc()
        delivery = session = None
        try:
            self._check_invitation(invitation, attributes.get("email", ""))
            self.guard.check(honeypot, seconds_open, captcha_response, visitor.ip)
            self.limiter.hit(Rule.SIGNUP, visitor.network, "too_many_signups")
            validation_data = invitation.validation_data if invitation else None
            result = self.service.sign_up(username, password, attributes, visitor.context, validation_data)
        except UsernameExists as err:
            metrics.SIGNUPS_FAILED.labels(err.code).inc()
            if not self.hide_existing_users:
                raise
            # From here on exactly what a new account gets, so no page tells who has an account.
        except SignupError as err:
            metrics.SIGNUPS_FAILED.labels(err.code).inc()
            raise
        else:
            metrics.SIGNUPS_SUCCEEDED.inc()
            if result.confirmed:
                return Flow(username, event=Event.CONFIRMED)
            delivery, session = result.delivery, result.session
        self.limiter.count(Rule.RESEND_PER_USER, username)  # a code went out: the cooldown starts
        destination, medium = self._where_the_code_went(attributes, delivery)
        return self._with_session(Flow(username, destination, medium, event=Event.SIGNED_UP), session)

    def _check_invitation(self, invitation: Invitation | None, email: str) -> None:
        if invitation is None:
            if self.declaration.invitation_required:
                raise Refused("invitation_needed", code="InvitationNeeded")
            return
        if email.casefold() != invitation.email.casefold():
            # A link forwarded to someone else: it was made for one address only.
            raise InvalidInput("invitation_other_email", "email", code="InvitationEmail")

    def confirm(self, username: str, code: str, visitor: Visitor, session: str | None = None) -> Flow:
        """Confirm the account with its code; the Flow for the end of the flow.

        `session` is SignUp's, when the flow kept it; the Flow returned then holds ConfirmSignUp's.
        """
        try:
            self.limiter.hit(Rule.CONFIRM, visitor.network, "too_many_codes")
            # Per account and address: guesses from elsewhere cannot lock the owner out, and
            # Cognito's own limit on wrong codes per account stays the backstop.
            self.limiter.hit(Rule.CONFIRM_PER_USER, f"{username}|{visitor.network}", "too_many_codes")
            session = self.service.confirm_sign_up(username, code, visitor.context, session)
        except (AlreadyConfirmed, InvalidInput) as err:
            metrics.CONFIRMATIONS.labels(err.code).inc()
            telling = isinstance(err, (AlreadyConfirmed, UserNotFound)) or err.message == "wrong_code"
            if self.hide_existing_users and telling:
                # A wrong code, an unknown account and a confirmed one read the same.
                raise InvalidInput("wrong_code_or_confirmed", "code", code=err.code) from err
            if not isinstance(err, AlreadyConfirmed):
                raise
        except SignupError as err:
            metrics.CONFIRMATIONS.labels(err.code).inc()
            raise
        else:
            metrics.CONFIRMATIONS.labels("confirmed").inc()
            return self._with_session(Flow(username, event=Event.CONFIRMED), session)
        return Flow(username, event=Event.CONFIRMED)

    def sign_in(self, flow: Flow, visitor: Visitor) -> Tokens | None:
        """Tokens for a just-confirmed account, when immediate sign-in is on and Cognito agrees.

        None otherwise, whatever the reason (no Session, an expired one, a challenge, an error):
        the flow then ends as it would without immediate sign-in, never on an error page.
        """
        session = flow.live_session if self.sign_in_at_once else None
        if session is None:
            return None
        try:
            tokens = self.service.sign_in(flow.username, session, visitor.context)
        except SignupError as err:
            metrics.SIGN_INS.labels(err.code).inc()
            return None
        metrics.SIGN_INS.labels("signed_in" if tokens else "challenge").inc()
        return tokens

    def _with_session(self, flow: Flow, session: str | None) -> Flow:
        """The Flow, holding Cognito's Session when immediate sign-in will need it."""
        if not (self.sign_in_at_once and session):
            return flow
        return flow.but(session=session, session_until=int(time.time()) + self.auth_session_seconds)

    def resend(self, flow: Flow, visitor: Visitor) -> Flow:
        """Send a new code; the Flow for the code page, saying where it went."""
        delivery = None
        try:
            self.limiter.hit(Rule.RESEND, visitor.network, "too_many_resends")
            self.limiter.hit(Rule.RESEND_PER_USER, flow.username, "too_many_resends")
            delivery = self.service.resend_confirmation_code(flow.username, visitor.context)
        except (AlreadyConfirmed, UserNotFound) as err:
            metrics.RESENDS.labels(err.code).inc()
            if not self.hide_existing_users:
                if isinstance(err, AlreadyConfirmed):
                    return Flow(flow.username, event=Event.CONFIRMED)
                raise
            # Say what a real resend says.
        except SignupError as err:
            metrics.RESENDS.labels(err.code).inc()
            raise
        else:
            metrics.RESENDS.labels("sent").inc()
        typed: dict[str, str] = {}
        if self.declaration.username != "username":
            typed[self.declaration.username] = flow.username
        if flow.destination and flow.medium in ATTRIBUTE:
            typed[ATTRIBUTE[flow.medium]] = flow.destination
        destination, medium = self._where_the_code_went(typed, delivery)
        # A new code keeps the sign-up's Session: ConfirmSignUp takes it with any of its codes.
        return Flow(
            flow.username,
            destination,
            medium,
            notice="code_sent",
            session=flow.session,
            session_until=flow.session_until,
        )

    def resend_wait(self, username: str) -> int:
        """Seconds before this account may be sent another code."""
        return self.limiter.wait(Rule.RESEND_PER_USER, username)

    def _where_the_code_went(
        self, typed: Mapping[str, str], delivery: CodeDelivery | None
    ) -> tuple[str, Medium | None]:
        """The address to name on the code page, as the person typed it, and the medium.

        Cognito's answer says which attribute the code went to; its destination is masked, so the
        typed value is named when there is one. When existing accounts are hidden, Cognito's answer
        is never used: a taken username gets no answer, and the page must not differ.
        """
        if delivery is not None and not self.hide_existing_users:
            return typed.get(delivery.attribute) or delivery.destination, delivery.medium
        attribute = self.declaration.code_attribute
        if attribute is None:
            return "", None
        return typed.get(attribute, ""), MEDIUM[attribute]
