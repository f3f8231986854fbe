"""The flow's steps, with every policy around their Cognito calls in one place.

Views validate a form, call one of these with plain values, and redirect to the page the returned
Flow names. Here live the bot checks, the rate limits, hiding existing accounts, resuming and
replacing unfinished sign-ups, the resend cooldown and the metrics, so each is written once.

Who may hear that an account is ready is decided here too, by the Flow's kind (app.signup.flow.Kind):
only a flow that created its account with the password the person typed, or in which the person
set a password of their own, ever ends READY (SECURITY.md, "Unconfirmed accounts").
"""

from __future__ import annotations

import contextlib
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from app.aws.cognito import CodeDelivery, CognitoSignup, Medium, RequestContext, SignUpResult, Tokens
from app.config.model import Declaration
from app.errors import (
    AlreadyConfirmed,
    InvalidInput,
    NotVerified,
    Refused,
    SignupError,
    UsernameExists,
    UserNotFound,
)
from app.invite import Invitation
from app.ops import metrics
from app.signup.bots import BotGuard
from app.signup.flow import Event, Flow, Kind
from app.signup.ratelimit import Claim, FormLedger, RateLimiter, Rule, network_key
from app.signup.timing import EvenTiming, Way

MEDIUM = {"email": Medium.EMAIL, "phone_number": Medium.SMS}
ATTRIBUTE = {medium: attribute for attribute, medium in MEDIUM.items()}
# Cognito's answers to a code that only an existing account can cause (its code wrong or expired,
# its own limits): with accounts hidden, they read as a wrong code, as for an account that does not exist.
_TELLING = (
    "CodeMismatchException",
    "ExpiredCodeException",
    "LimitExceededException",
    "TooManyFailedAttemptsException",
    "UserNotConfirmedException",
)
# Cognito's limit on the codes sent for one account: only an existing account reaches it, so with
# accounts hidden a call that sends a code and meets it says what a code sent says.
_ACCOUNT_LIMIT = "LimitExceededException"


@dataclass(frozen=True)
class Visitor:
    """What the steps know of the person's visit: the address, the advanced-security data, and
    where they came from (declared attribution parameters that go to Cognito as ClientMetadata)."""

    ip: str
    encoded_data: str | None = None
    client_metadata: Mapping[str, str] = field(default_factory=dict)
    language: str = ""  # the page's: a CustomMessage trigger writes the code email in it

    @property
    def context(self) -> RequestContext:
        """For a call that sends no message: the person's address, device data and metadata."""
        metadata = {**self.client_metadata, "lang": self.language} if self.language else self.client_metadata
        return RequestContext(ip_address=self.ip, encoded_data=self.encoded_data, client_metadata=metadata)


class Steps:
    """Sign up, confirm, send a new code, and set a password of one's own."""

    def __init__(
        self,
        service: CognitoSignup,
        limiter: RateLimiter,
        guard: BotGuard,
        declaration: Declaration,
        ledger: FormLedger,
        *,
        hide_existing_users: bool,
        replace_unconfirmed: bool = False,
        sign_in_at_once: bool = False,
        auth_session_seconds: int = 180,
        page_address: Callable[[Flow], str] | None = None,
        site_name: str = "",
        ipv6_prefix: int = 64,
    ) -> None:
        self.service = service
        # The address of the page where a Flow's code is entered, and the site's name: both go to a
        # CustomMessage trigger with every call that sends a code (docs/examples/custom_message.py).
        self.page_address = page_address
        self.site_name = site_name
        self.limiter = limiter
        self.ipv6_prefix = ipv6_prefix  # the IPv6 network the per-address limits count as one address
        self.guard = guard
        self.declaration = declaration
        self.ledger = ledger
        self.hide_existing_users = hide_existing_users
        self.replace_unconfirmed = replace_unconfirmed
        # Immediate sign-in (SIGNUP_SIGN_IN=immediate): Cognito's Sessions are kept to sign in with.
        self.sign_in_at_once = sign_in_at_once
        self.auth_session_seconds = auth_session_seconds
        # How long Cognito's Sessions are (the last one seen; none until then), so that a hidden
        # account's flow carries one as long (see FlowSeal's padding for the rest).
        self._session_length = 0
        self._timing = EvenTiming()  # hidden sign-ups: as long as the slowest way (app.signup.timing)

    def sign_up(
        self,
        username: str,
        password: str | None,
        attributes: Mapping[str, str],
        visitor: Visitor,
        *,
        page_view: str,
        honeypot: str,
        seconds_open: float,
        captcha_response: str,
        invitation: Invitation | None = None,
    ) -> Flow:
        """Create the account; the Flow for the code page, or for the end when a trigger confirmed it.

        `page_view` names the form that was sent (app.signup.csrf): sent again for the same username, it
        resumes the account it created; it never creates a second, different one. With an
        invitation, the email address must be the invited one, and the pre sign-up trigger gets the
        invitation's id and data as ValidationData.
        """
        metrics.SIGNUPS_STARTED.inc()
        started = time.monotonic()
        try:
            self._check_invitation(invitation, attributes.get("email", ""))
            quick = self.guard.check(honeypot, seconds_open, captcha_response, visitor.ip)
            claim = self.ledger.claim(page_view, username)
            if claim == Claim.OTHER:
                raise InvalidInput("form_used", code="FormUsed")
            if claim == Claim.SAME and not self.replace_unconfirmed:
                metrics.SIGNUPS_FAILED.labels("Resumed").inc()
                return self._code_page(username, attributes, Kind.CREATED, notice="form_sent_before")
            try:
                for _ in range(2 if quick else 1):
                    self.limiter.hit(Rule.SIGNUP, self._network(visitor), "too_many_signups")
                self._hit_destination(attributes.get(self.declaration.code_attribute or "", ""))
                result, way = self._create(username, password, attributes, visitor, invitation)
            except SignupError:
                self.ledger.release(page_view, username)
                raise
        except UsernameExists as err:
            metrics.SIGNUPS_FAILED.labels(err.code).inc()
            if not self.hide_existing_users:
                raise
            # From here on exactly what a new account gets, so no page tells who has an account;
            # but nothing this code page does reaches the account (Kind.EXISTING).
            self._timing.finish(Way.TAKEN, started)
            return self._code_page(username, attributes, Kind.EXISTING, sub=str(uuid.uuid4()), session=self._decoy())
        except SignupError as err:
            metrics.SIGNUPS_FAILED.labels(err.code).inc()
            raise
        metrics.SIGNUPS_SUCCEEDED.inc()
        if self.hide_existing_users:
            self._timing.finish(way, started)
        if result.confirmed:
            return Flow(username, event=Event.CONFIRMED, kind=Kind.READY)
        if result.session:
            self._session_length = len(result.session)
        return self._code_page(
            username, attributes, Kind.CREATED, delivery=result.delivery, sub=result.user_sub, session=result.session
        )

    def _network(self, visitor: Visitor) -> str:
        """The address the per-address limits count (all of an IPv6 network counts as one)."""
        return network_key(visitor.ip, self.ipv6_prefix)

    def _create(
        self,
        username: str,
        password: str | None,
        attributes: Mapping[str, str],
        visitor: Visitor,
        invitation: Invitation | None,
    ) -> tuple[SignUpResult, Way]:
        """SignUp; where the operator allows it, an UNCONFIRMED account in the way is deleted first.

        Whoever proves the address later then holds the password they chose, not the one of whoever
        started the account. A CONFIRMED account is never touched. Replacing is a second sign-up,
        and counts as one.
        """
        validation_data = invitation.validation_data if invitation else None
        context = self._sending(visitor, Flow(username))
        try:
            return self.service.sign_up(username, password, attributes, context, validation_data), Way.NEW
        except UsernameExists:
            if not self.replace_unconfirmed:
                raise
            account = self.service.account(username)
            if account is None or not account.unconfirmed:
                raise
        self.limiter.hit(Rule.SIGNUP, self._network(visitor), "too_many_signups")
        self.service.delete_account(username)
        metrics.UNCONFIRMED_REPLACED.inc()
        return self.service.sign_up(username, password, attributes, context, validation_data), Way.REPLACED

    def _check_invitation(self, invitation: Invitation | None, email: str) -> None:
        if invitation is None:
            if self.declaration.invitation_required:
                raise Refused("invitation_needed", code="InvitationNeeded")
            return
        if email.lower() != invitation.email.lower():
            # A link forwarded to someone else: it was made for one address only. Both addresses
            # are as email-validator normalised them; lower case is how the app writes an address
            # (app.web.forms.in_lower_case), and no more: casefold() would make groß.example gross.example.
            raise InvalidInput("invitation_other_email", "email", code="InvitationEmail")

    def confirm(self, flow: Flow, code: str, visitor: Visitor) -> Flow:
        """Confirm the account of a code page with its code; the Flow for the next page.

        A CREATED flow ends READY (holding ConfirmSignUp's Session for signing in at once). A
        RETURNING one goes on to a password of the person's own (FINISH): it confirmed an account
        whose password whoever started it chose. An EXISTING one confirms nothing.
        """
        username = flow.username
        try:
            self.limiter.hit(Rule.CONFIRM, self._network(visitor), "too_many_codes")
            # Per account and address: guesses from elsewhere cannot lock the owner out, and
            # Cognito's own limit on wrong codes per account stays the backstop.
            self.limiter.hit(Rule.CONFIRM_PER_USER, f"{username}|{self._network(visitor)}", "too_many_codes")
            if flow.kind == Kind.EXISTING:
                self._decoy_call(lambda name: self.service.confirm_sign_up(name, code, visitor.context))
                raise InvalidInput("wrong_code", "code", code="CodeMismatchException")
            if flow.kind == Kind.CREATED and flow.sub and self.service.admin:
                self._check_still_created(flow)
            session = self.service.confirm_sign_up(
                username, code, visitor.context, flow.live_session if flow.kind == Kind.CREATED else None
            )
        except SignupError as err:
            metrics.CONFIRMATIONS.labels(err.code).inc()
            if self.hide_existing_users and _tells_of_an_account(err):
                # A wrong code, an unknown account and a confirmed one read the same.
                raise InvalidInput("wrong_code_or_confirmed", "code", code=err.code) from err
            if isinstance(err, AlreadyConfirmed):
                return flow.but(kind=Kind.ALREADY_CONFIRMED, event=None, notice="", session="", session_until=0)
            raise
        metrics.CONFIRMATIONS.labels("confirmed").inc()
        if flow.kind == Kind.RETURNING:
            return self._choose_password(flow, visitor)
        ready = flow.but(kind=Kind.READY, event=Event.CONFIRMED, notice="", session="", session_until=0)
        return self._with_session(ready, session)

    def _check_still_created(self, flow: Flow) -> None:
        """A CREATED flow's account must still be the one its sign-up made: replaced since (a newer
        sign-up for the address), the code the person now holds would confirm somebody else's."""
        account = self.service.account(flow.username)
        if account is not None and account.sub != flow.sub:
            raise InvalidInput("sign_up_replaced", code="Replaced")

    def _choose_password(self, flow: Flow, visitor: Visitor) -> Flow:
        """Just confirmed on the returning path: a code to set a password of the person's own.

        The account is confirmed, so its address is verified and ForgotPassword reaches it. If the
        code cannot be sent now, the page says so and offers to send it.
        """
        finish = flow.but(kind=Kind.FINISH, event=None, notice="confirmed_choose_password", session="")
        try:
            self.limiter.count(Rule.RESEND_PER_USER, flow.username)
            delivery = self.service.forgot_password(flow.username, self._sending(visitor, finish))
        except SignupError:
            return finish.but(notice="confirmed_ask_for_code")
        destination, medium = self._where_the_code_went(self._typed(flow), delivery)
        return finish.but(destination=destination, medium=medium)

    def forgot(self, username: str, visitor: Visitor) -> Flow:
        """A code to set a new password; the Flow for the new-password page.

        An account whose sign-up was never finished has no verified address, so Cognito sends no
        such code: the person gets a code to finish the sign-up instead (RETURNING), which then
        asks for a password of their own. With accounts hidden, an unknown or unfinished account
        gets the same page as any other (HIDDEN_RESET), and nothing is sent.
        """
        flow = Flow(username, kind=Kind.RESET)
        delivery = None
        try:
            self._hit_resend(flow, visitor)
            delivery = self.service.forgot_password(username, self._sending(visitor, flow))
        except (UserNotFound, NotVerified) as err:
            metrics.RESENDS.labels(err.code).inc()
            if self.hide_existing_users:
                flow = flow.but(kind=Kind.HIDDEN_RESET)
            elif isinstance(err, NotVerified):
                delivery = self.service.resend_confirmation_code(username, self._sending(visitor, Flow(username)))
                flow = flow.but(kind=Kind.RETURNING, notice="sign_up_unfinished")
            else:
                raise
        except SignupError as err:
            metrics.RESENDS.labels(err.code).inc()
            if not self._hides(err):
                raise
        else:
            metrics.RESENDS.labels("sent").inc()
        destination, medium = self._where_the_code_went(self._typed(flow), delivery)
        return flow.but(destination=destination, medium=medium)

    def set_password(self, flow: Flow, code: str, password: str, visitor: Visitor) -> Flow:
        """Set the account's password with the code ForgotPassword sent, then sign every other
        session out: the account is the person's own from here on."""
        username = flow.username
        try:
            self.limiter.hit(Rule.CONFIRM, self._network(visitor), "too_many_codes")
            self.limiter.hit(Rule.CONFIRM_PER_USER, f"{username}|{self._network(visitor)}", "too_many_codes")
            if flow.kind == Kind.HIDDEN_RESET:
                self._decoy_call(
                    lambda name: self.service.confirm_forgot_password(name, code, password, visitor.context)
                )
                raise InvalidInput("wrong_code", "code", code="CodeMismatchException")
            self.service.confirm_forgot_password(username, code, password, visitor.context)
        except SignupError as err:
            metrics.PASSWORDS_SET.labels(err.code).inc()
            if self.hide_existing_users and _tells_of_an_account(err):
                raise InvalidInput("wrong_code", "code", code=err.code) from err
            raise
        metrics.PASSWORDS_SET.labels("set").inc()
        try:
            signed_out = self.service.sign_out_everywhere(username, password, visitor.context)
        except SignupError:
            signed_out = False
        metrics.SIGN_OUTS.labels("signed_out" if signed_out else "not_possible").inc()
        if flow.kind == Kind.FINISH:
            return flow.but(kind=Kind.READY, event=Event.CONFIRMED, notice="")
        return flow.but(kind=Kind.PASSWORD_SET, event=Event.PASSWORD_RESET, notice="")

    def send_password_code(self, flow: Flow, visitor: Visitor) -> Flow:
        """A new code for setting the password; the Flow for the new-password page."""
        delivery = None
        try:
            self._hit_resend(flow, visitor)
            if flow.kind == Kind.HIDDEN_RESET:
                self._decoy_call(lambda name: self.service.forgot_password(name, visitor.context))
            else:
                delivery = self.service.forgot_password(flow.username, self._sending(visitor, flow))
        except SignupError as err:
            metrics.RESENDS.labels(err.code).inc()
            if not self._hides(err):
                raise
        else:
            metrics.RESENDS.labels("sent").inc()
        destination, medium = self._where_the_code_went(self._typed(flow), delivery)
        return flow.but(destination=destination, medium=medium, notice="code_sent")

    def sign_in(self, flow: Flow, visitor: Visitor, password: str = "") -> Tokens | None:
        """Tokens for an account the person has just made their own, when immediate sign-in is on
        and Cognito agrees: a just-confirmed one with its Session, or one with the new password they
        have just set (after every other session was signed out).

        None otherwise, whatever the reason (no Session, an expired one, a challenge, an error):
        the flow then ends as it would without immediate sign-in, never on an error page.
        """
        session = flow.live_session if self.sign_in_at_once and flow.kind == Kind.READY else None
        with_password = self.sign_in_at_once and bool(password) and flow.kind in (Kind.READY, Kind.PASSWORD_SET)
        if session is None and not with_password:
            return None
        try:
            tokens = self.service.sign_in(flow.username, session, visitor.context, password=password)
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

    def _decoy(self) -> str | None:
        """For a hidden account's flow: a Session as long as Cognito's, which signs nothing in."""
        if not (self.sign_in_at_once and self._session_length):
            return None
        return secrets.token_urlsafe(self._session_length)[: self._session_length]

    def resend(self, flow: Flow, visitor: Visitor) -> Flow:
        """Send a new code; the Flow for the code page, saying where it went."""
        delivery = None
        try:
            self._hit_resend(flow, visitor)
            if flow.kind == Kind.EXISTING:
                self._decoy_call(lambda name: self.service.resend_confirmation_code(name, visitor.context))
            else:
                context = self._sending(visitor, Flow(flow.username))
                delivery = self.service.resend_confirmation_code(flow.username, context)
        except (AlreadyConfirmed, UserNotFound) as err:
            metrics.RESENDS.labels(err.code).inc()
            if not self.hide_existing_users:
                if isinstance(err, AlreadyConfirmed):
                    return flow.but(kind=Kind.ALREADY_CONFIRMED, event=None, notice="", session="")
                raise
            # Say what a real resend says.
        except SignupError as err:
            metrics.RESENDS.labels(err.code).inc()
            if not self._hides(err):
                raise
        else:
            metrics.RESENDS.labels("sent").inc()
        destination, medium = self._where_the_code_went(self._typed(flow), delivery)
        # A new code keeps the sign-up's Session: ConfirmSignUp takes it with any of its codes.
        return flow.but(destination=destination, medium=medium, event=None, notice="code_sent")

    def resend_wait(self, username: str) -> int:
        """Seconds before this account may be sent another code."""
        return self.limiter.wait(Rule.RESEND_PER_USER, username)

    def _hides(self, err: SignupError) -> bool:
        """Whether a code-sending call's error tells whether the account exists (none, one never
        finished, Cognito's per-account limit), so that with accounts hidden it is answered as a
        code sent; the app's own limits, which count unknown accounts too, are said as they are."""
        return self.hide_existing_users and (isinstance(err, (UserNotFound, NotVerified)) or err.code == _ACCOUNT_LIMIT)

    def _hit_resend(self, flow: Flow, visitor: Visitor) -> None:
        """The limits on sending a code again: per address, per account, and per destination."""
        self.limiter.hit(Rule.RESEND, self._network(visitor), "too_many_resends")
        self.limiter.hit(Rule.RESEND_PER_USER, flow.username, "too_many_resends")
        self._hit_destination(self._typed(flow).get(self.declaration.code_attribute or "", ""))

    def _hit_destination(self, destination: str) -> None:
        """No more than a few codes an hour to one email address or phone number, whatever the
        usernames they were asked for: one address cannot be flooded, nor one number pumped."""
        if destination:
            self.limiter.hit(Rule.CODES_PER_DESTINATION, destination.lower(), "too_many_codes_sent")

    def _sending(self, visitor: Visitor, page: Flow) -> RequestContext:
        """For a call that sends a code: also where the code is to be entered and the site's name.

        The address is the page a person who opens the message elsewhere can finish on: a returning
        one (it asks for a password of their own before "ready"), never this browser's own code page,
        which would let whoever receives the message finish as the one who created the account.
        """
        context = visitor.context
        extra = {"site_name": self.site_name} if self.site_name else {}
        if self.page_address is not None:
            extra["code_page_url"] = self.page_address(page)
        return replace(context, client_metadata={**context.client_metadata, **extra})

    def _decoy_call(self, call: Callable[[str], object]) -> None:
        """The call a real code page would make, for a username that cannot exist: a hidden
        account's code page takes as long as any other, and reaches no account."""
        with contextlib.suppress(SignupError):
            call(f"nobody-{uuid.uuid4()}")

    def _code_page(
        self,
        username: str,
        attributes: Mapping[str, str],
        kind: Kind,
        *,
        delivery: CodeDelivery | None = None,
        sub: str = "",
        session: str | None = None,
        notice: str = "",
    ) -> Flow:
        """The Flow of a code page after a sign-up; the resend cooldown starts with the code."""
        self.limiter.count(Rule.RESEND_PER_USER, username)
        destination, medium = self._where_the_code_went(attributes, delivery)
        flow = Flow(username, destination, medium, event=Event.SIGNED_UP, notice=notice, kind=kind, sub=sub)
        return self._with_session(flow, session)

    def _typed(self, flow: Flow) -> dict[str, str]:
        """What the person typed that says where codes go: the username (in email or phone pools)
        and the flow's destination."""
        typed: dict[str, str] = {}
        if self.declaration.username != "username":
            typed[self.declaration.username] = flow.username
        if flow.destination and flow.medium in ATTRIBUTE:
            typed[ATTRIBUTE[flow.medium]] = flow.destination
        return typed

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


def _tells_of_an_account(err: SignupError) -> bool:
    """Whether an error of a code tried could only come from an account that exists."""
    return isinstance(err, (AlreadyConfirmed, UserNotFound)) or err.code in _TELLING
