"""Pages: each step's page with its errors and status code, rendered from what the view gives it.

A page knows its template, its words and which route its links lead to (`links_to`: the language
links keep the page's own address). It seals nothing, counts nothing and reads no state: the view
hands it the sealed Flow for its links and the resend wait. What every page shows besides its form
is app.web.templating.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import render_template, request, url_for
from flask_babel import LazyString, gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from app.aws.cognito import Tokens
from app.config.model import Declaration, field_name
from app.config.settings import Settings
from app.errors import SignupError
from app.invite import Invitation
from app.signup.csrf import FormTokens
from app.signup.flow import OWN_PASSWORD, Event, Flow
from app.signup.signin import hand_off_url, provider_url
from app.signup.signup_request import SignupRequest
from app.web import messages
from app.web.compression import KeptPage
from app.web.fields import localized
from app.web.forms import FormClasses
from app.web.i18n import select_locale

PageResponse = tuple[str, int, dict[str, str]]


@dataclass(frozen=True)
class WaysOn:
    """Where a person whose account may already exist can go on to (the view builds the addresses)."""

    sign_in: str | None  # the site's sign-in, when one is configured
    forgot: str  # "Forgot your password?"
    finish: str | None = None  # finishing a sign-up started elsewhere (not on that page itself)


MAX_PREFILL_LENGTH = 256


class Pages:
    """The sign-up, code, done and signed-in pages, for one declaration and its settings."""

    def __init__(self, declaration: Declaration, settings: Settings, forms: FormClasses, tokens: FormTokens) -> None:
        self.declaration = declaration
        self.settings = settings
        self.forms = forms
        self.tokens = tokens
        # The untouched sign-up page, by language and whether the language is in its links (kept_signup).
        self._kept: dict[tuple[str, str | None], KeptPage] = {}

    def signup(
        self,
        req: SignupRequest,
        form: FlaskForm,
        error: SignupError | None = None,
        *,
        refused: bool = False,
        ways_on: WaysOn | None = None,
    ) -> PageResponse:
        """The sign-up form, empty or with what went wrong. Whatever was typed stays, but passwords,
        which never reach a page (the page script keeps them in the browser).

        With an invitation, its email address is filled in and cannot be changed. Where sign-up needs
        an invitation, a visit without a usable one gets the page without the form, saying why.
        """
        if error is not None and error.message == "username_exists" and ways_on is not None:
            form.username.ways_on = _existing_account(ways_on)
        email = self._email_field(form)
        if req.invitation is not None and email is not None:
            email.render_kw = {**(email.render_kw or {}), "readonly": True}
        required = self.declaration.invitation_required
        problem = req.invitation_problem
        notice = messages.text(problem, "required" if required else "") if problem else None
        if req.invitation is not None:
            notice = messages.text("invited")
        closed = required and req.invitation is None
        if closed and not notice:
            notice = messages.text("invitation_needed")
        return self.form_page(
            "signup.html",
            form,
            error,
            refused=refused,
            links_to="signup.signup",
            notice=notice,
            closed=closed,
            sign_in=self._sign_in(req),
            providers=self._providers(req.carried.state),
        )

    def _sign_in(self, req: SignupRequest) -> str | None:
        """The site's sign-in, for a person who has an account after all: its page, or Managed Login."""
        return self.settings.sign_in_url or hand_off_url(self.settings.sign_in, "", req.carried.state)

    def _providers(self, state: str | None) -> list[tuple[str, LazyString, str | None]]:
        """Each declared identity provider's button (its address, label and icon), carrying the site's
        `state`; none unless the hand-off to Managed Login is set up (create_app warns)."""
        buttons = []
        for provider in self.declaration.identity_providers:
            url = provider_url(self.settings.sign_in, provider.name, state)
            if url:
                buttons.append((url, localized(provider.label), provider.icon))
        return buttons

    def kept_signup(self, req: SignupRequest, query: Mapping[str, str]) -> tuple[bytes, int, dict[str, str]] | None:
        """The sign-up page as most visitors first see it, rendered once per language and kept; None
        for a visit that needs its own page.

        Building the form and rendering the page is most of what a page view costs, and only the form
        token differs from one visitor to the next: it goes into the kept page, and into its gzip, also
        made once (app.web.compression.KeptPage). A visit whose links
        carry more than the language (a return address, attribution, a sign-in state), that fills the
        form in, that needs an invitation, or that comes under another script root gets its own page:
        what is kept depends on nothing a request can choose but the language.
        """
        if (
            set(req.carried.query) - {"lang"}
            or request.script_root
            or self.declaration.invitation_required
            or any(query.get(name) for name in self.declaration.prefill)
        ):
            return None
        key = (select_locale(), req.carried.lang)  # the language's code, without building its Locale
        if key not in self._kept:
            form = self.forms.signup()
            page, _, _ = self.signup(req, form)
            self._kept[key] = KeptPage(page, form.csrf_token.current_token)
        return self._kept[key].filled(self.tokens.make(self.forms.signup.Meta.form_name))

    def fill_in(self, form: FlaskForm, invitation: Invitation | None, query: Mapping[str, str]) -> None:
        """Fill a new form in from the address: the invited email address, or what the declaration
        lets a link fill in (`prefill`, such as ?email=)."""
        for name in self.declaration.prefill:
            field = form.username if name == self.declaration.username else form[field_name(name)]
            if query.get(name):
                field.data = query[name][:MAX_PREFILL_LENGTH]
                form.prefilled = True
        email = self._email_field(form)
        if invitation is not None and email is not None:
            email.data = invitation.email
            form.prefilled = True

    def _email_field(self, form: FlaskForm) -> Any:
        """The field that holds the email address: the username's, or the email attribute's."""
        if self.declaration.username == "email":
            return form.username
        return next((field for field in form if field.name == "email"), None)

    def confirm(
        self,
        req: SignupRequest,
        form: FlaskForm,
        error: SignupError | None = None,
        *,
        refused: bool = False,
        sealed: str | None,
        resend_wait: int,
        ways_on: WaysOn,
        change: str | None = None,
    ) -> PageResponse:
        """The code page for the request's Flow, or the returning person's form (username and code) without one.

        `sealed` is the Flow as this page's links keep it (without its one-off notice and event);
        `resend_wait` how long before a new code may be asked for; `ways_on` where a person with
        no code may go on to; `change` the sign-up form filled in again, to change the address.
        """
        flow = req.flow
        notice = flow.notice if flow else req.flow_problem
        parent = (
            [{"type": "signed-up", "deliveryMedium": flow.medium or ""}]
            if flow and flow.event == Event.SIGNED_UP
            else []
        )
        return self.form_page(
            "confirm.html",
            form,
            error,
            refused=refused,
            links_to="signup.confirm",
            change=change,
            locked=locked(error),
            wait_shown=bool(resend_wait),
            flow=flow,
            notice=messages.text(notice) if notice else None,
            resend_wait=resend_wait,
            ways_on=ways_on,
            parent_messages=parent,
            page_args={"flow": sealed} if sealed else {},
            # A notice and a message for the embedding page are said once: the page script puts this
            # address, without them, in place of the one that brought them, so a reload says neither.
            clean_address=url_for("signup.confirm", flow=sealed) if flow and (flow.notice or flow.event) else None,
        )

    def password(
        self,
        req: SignupRequest,
        form: FlaskForm,
        error: SignupError | None = None,
        *,
        refused: bool = False,
        sealed: str,
        resend_wait: int,
        ways_on: WaysOn,
    ) -> PageResponse:
        """The new-password page: a code sent to the account's address, and a password of the person's own."""
        flow = req.flow
        return self.form_page(
            "password.html",
            form,
            error,
            refused=refused,
            links_to="signup.password",
            locked=locked(error),
            wait_shown=bool(resend_wait),
            flow=flow,
            notice=messages.text(flow.notice, self.declaration.username) if flow and flow.notice else None,
            resend_wait=resend_wait,
            ways_on=ways_on,
            page_args={"flow": sealed},
            clean_address=url_for("signup.password", flow=sealed) if flow and flow.notice else None,
        )

    def forgot(
        self, req: SignupRequest, form: FlaskForm, error: SignupError | None = None, *, refused: bool = False
    ) -> PageResponse:
        """Forgot your password? The username, in the words of the pool's username mode."""
        return self.form_page(
            "forgot.html", form, error, refused=refused, links_to="signup.forgot", sign_in=self._sign_in(req)
        )

    def done(
        self, flow: Flow | None, continue_url: str | None, sign_in_url: str | None, sealed: str | None, *, forgot: str
    ) -> str:
        """The end of the flow, as it ended (`flow.kind`: ready, a new password, or confirmed
        before), with a way on: the site's sign-in, the success address, a new password. Only a
        flow that ended READY says "ready"; a visit without one is told how to sign in.

        Its message to the embedding page comes once, for a Flow that just ended; `sealed` is that
        Flow without its event, for the address a reload gets.
        """
        parent, clean_address = [], None
        if flow and flow.event in (Event.CONFIRMED, Event.PASSWORD_RESET):
            hand_off = sign_in_url if sign_in_url != self.settings.sign_in_url else ""
            parent = [{"type": str(flow.event), "successUrl": continue_url or "", "signInUrl": hand_off}]
            clean_address = url_for("signup.done", flow=sealed)
        return render_template(
            "done.html",
            links_to="signup.done",
            page_args={"flow": sealed} if sealed else {},
            kind=flow.kind if flow else None,
            continue_url=continue_url if flow and flow.kind in OWN_PASSWORD else None,
            sign_in_url=sign_in_url,
            forgot_url=forgot,
            parent_messages=parent,
            clean_address=clean_address,
        )

    def signed_in(self, tokens: Tokens, state: str | None, *, framed: bool) -> tuple[str, dict[str, str]]:
        """The form that delivers the tokens to the operator's callback (OIDC's form_post response).

        Outside a frame the page script sends it at once; inside one it waits for the person's click,
        which browsers require before a frame may take the top window elsewhere. The tokens are in
        this page only: never in an address, a log or a message to the embedding page, nor in any
        cache (`no-store`: not even the back/forward cache keeps it).
        """
        fields = {
            "id_token": tokens.id_token,
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "expires_in": str(tokens.expires_in),
            "token_type": tokens.token_type,
        }
        if state:
            fields["state"] = state
        page = render_template(
            "signed_in.html",
            links_to="signup.confirm",  # the route that shows it
            callback=self.settings.sign_in.token_callback_url,
            fields=fields,
            framed=framed,
            parent_messages=[{"type": "signed-in"}],
        )
        return page, {"Cache-Control": "no-store"}

    def form_page(
        self,
        template: str,
        form: FlaskForm,
        error: SignupError | None,
        *,
        refused: bool = False,
        wait_shown: bool = False,
        **context: Any,
    ) -> PageResponse:
        """Render a form page with its errors and the HTTP status that fits them: any step's page.

        `refused`: the page shows a post that was refused (app.signup.drafts), so it answers 422 while
        anything is still wrong. `context` is the template's, with `links_to`, the route the page's
        language links lead to.

        `wait_shown`: the page itself counts down the wait (the code page's resend cooldown), so a
        limit's message does not repeat it.
        """
        status, headers = 200, {}
        if (form.is_submitted() or refused) and (form.errors or error is not None):
            status = 422
        if form.csrf_token.errors:
            # A token that is missing, expired or signed with an unknown key: the form comes back,
            # filled in, with a fresh token, so sending it again works.
            form.csrf_token.errors = []
            form.form_errors.append(messages.text("form_expired"))
            status = 400
        if error is not None:
            status = error.status
            # The page's own variant ("unavailable.signup": type your password again) where it applies.
            page = template.removesuffix(".html") if "password" in form or template != "signup.html" else ""
            text = error.detail or str(messages.text(error.message, self.declaration.username, page))
            retry_after = getattr(error, "retry_after", None)
            if retry_after:
                headers["Retry-After"] = str(retry_after)
                if not (wait_shown and error.message == "too_many_resends"):
                    text = f"{text} {format_wait(retry_after)}"
            field = self._field_name(error.field)
            if field in form and field != "csrf_token":
                form[field].errors = [*form[field].errors, text]  # a field shown again unchecked has none yet
            else:
                form.form_errors.append(text)
        failed = bool(form.errors or form.form_errors)
        return render_template(template, form=form, failed=failed, switching=True, **context), status, headers

    def _field_name(self, field: str | None) -> str:
        """The form field an error names: an attribute, or the username it doubles as."""
        if field is None:
            return ""
        if field == self.declaration.username:
            return "username"
        return field_name(field)


def locked(error: SignupError | None) -> str:
    """When too many codes were tried: the page's "Confirm" button waits, and this says till when
    and what works meanwhile; "" otherwise."""
    if error is None or error.message not in ("too_many_codes", "too_many_wrong_codes"):
        return ""
    wait = format_wait(int(getattr(error, "retry_after", 0) or 60))
    meanwhile = gettext("Until then, you can still ask for a new code.")
    return f"{wait} {meanwhile}"


def _existing_account(ways_on: WaysOn) -> list[tuple[str, str]]:
    """The links under "An account with this email address already exists"."""
    ways = [(str(_l("Sign in")), ways_on.sign_in)] if ways_on.sign_in else []
    ways.append((str(_l("Forgot your password?")), ways_on.forgot))
    if ways_on.finish:
        ways.append((str(_l("Finish a sign-up you started")), ways_on.finish))
    return ways


def error_page(status: int, links_to: str) -> str:
    """404, 405, 413 and friends, and the plain page a bug gets: the words are app.web.messages'."""
    return render_template("error.html", status=status, links_to=links_to)


def format_wait(seconds: int) -> str:
    """'You can try again in 45 seconds.' / '… in 3 minutes.'"""
    if seconds < 120:
        return ngettext(
            "You can try again in %(num)d\u00a0second.", "You can try again in %(num)d\u00a0seconds.", seconds
        )
    minutes = -(-seconds // 60)
    return ngettext("You can try again in %(num)d\u00a0minute.", "You can try again in %(num)d\u00a0minutes.", minutes)
