"""Pages: each step's page with its errors and status code, rendered from what the view gives it.

A page knows its template, its words and which route its links lead to (`links_to`: the language
links keep the page's own address). It seals nothing, counts nothing and reads no state: the view
hands it the sealed Flow for its links and the resend wait. What every page shows besides its form
is app.templating.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms.widgets import PasswordInput

from app import messages
from app.cognito import Tokens
from app.csrf import FormTokens
from app.errors import SignupError
from app.flow import Event, Flow
from app.forms import FormClasses
from app.i18n import select_locale
from app.invite import Invitation
from app.model import Declaration, field_name
from app.settings import Settings
from app.signup_request import SignupRequest

PageResponse = tuple[str, int, dict[str, str]]
_KEPT_PAGE_SLOT = "\x00slot\x00"  # where a kept page's form token goes; no rendered page holds a NUL
MAX_PREFILL_LENGTH = 256


class Pages:
    """The sign-up, code, done and signed-in pages, for one declaration and its settings."""

    def __init__(self, declaration: Declaration, settings: Settings, forms: FormClasses, tokens: FormTokens) -> None:
        self.declaration = declaration
        self.settings = settings
        self.forms = forms
        self.tokens = tokens
        # The untouched sign-up page, by language and whether the language is in its links (kept_signup).
        self._kept: dict[tuple[str, str | None], str] = {}

    def signup(self, req: SignupRequest, form: FlaskForm, error: SignupError | None = None) -> PageResponse:
        """The sign-up form, empty or with what went wrong. Whatever was typed stays, but passwords:
        WTForms never echoes them, except after the too-fast check, where sending again is all it takes.

        With an invitation, its email address is filled in and cannot be changed. Where sign-up needs
        an invitation, a visit without a usable one gets the page without the form, saying why.
        """
        if error is not None and error.code == "TooFast" and "password" in form:
            for name in ("password", "password_confirm"):
                form[name].widget = PasswordInput(hide_value=False)
        if error is not None and error.message == "username_exists":
            form.username.ways_on = self._ways_on_for_an_existing_account()
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
        return self.form_page("signup.html", form, error, links_to="signup.signup", notice=notice, closed=closed)

    def kept_signup(self, req: SignupRequest, query: Mapping[str, str]) -> PageResponse | None:
        """The sign-up page as most visitors first see it, rendered once per language and kept; None
        for a visit that needs its own page.

        Building the form and rendering the page is most of what a page view costs, and only the form
        token differs from one visitor to the next: it goes into the kept page. A visit whose links
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
            self._kept[key] = page.replace(form.csrf_token.current_token, _KEPT_PAGE_SLOT)
        return self._kept[key].replace(_KEPT_PAGE_SLOT, self.tokens.make(self.forms.signup.Meta.form_name)), 200, {}

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
        sealed: str | None,
        resend_wait: int,
    ) -> PageResponse:
        """The code page for the request's Flow, or the returning person's form (username and code) without one.

        `sealed` is the Flow as this page's links keep it (without its one-off notice and event);
        `resend_wait` how long before a new code may be asked for.
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
            links_to="signup.confirm",
            wait_shown=bool(resend_wait),
            flow=flow,
            notice=messages.text(notice) if notice else None,
            resend_wait=resend_wait,
            parent_messages=parent,
            page_args={"flow": sealed} if sealed else {},
            # A notice and a message for the embedding page are said once: the page script puts this
            # address, without them, in place of the one that brought them, so a reload says neither.
            clean_address=url_for("signup.confirm", flow=sealed) if flow and (flow.notice or flow.event) else None,
        )

    def done(self, flow: Flow | None, continue_url: str | None, hand_off: str | None, sealed: str | None) -> str:
        """The end of the flow, with a way to sign in: the hand-off to Managed Login when it is set up,
        else the site's sign-in page. Its message to the embedding page comes once, for a Flow that
        was just confirmed; `sealed` is that Flow without its event, for the address a reload gets."""
        sign_in_url = hand_off or self.settings.sign_in_url
        parent, clean_address = [], None
        if flow and flow.event == Event.CONFIRMED:
            parent = [{"type": "confirmed", "successUrl": continue_url or "", "signInUrl": hand_off or ""}]
            clean_address = url_for("signup.done", flow=sealed)
        return render_template(
            "done.html",
            links_to="signup.done",
            continue_url=continue_url,
            sign_in_url=sign_in_url,
            parent_messages=parent,
            clean_address=clean_address,
        )

    def signed_in(self, tokens: Tokens, state: str | None, *, framed: bool) -> str:
        """The form that delivers the tokens to the operator's callback (OIDC's form_post response).

        Outside a frame the page script sends it at once; inside one it waits for the person's click,
        which browsers require before a frame may take the top window elsewhere. The tokens are in
        this page only: never in an address, a log or a message to the embedding page.
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
        return render_template(
            "signed_in.html",
            links_to="signup.confirm",  # the route that shows it
            callback=self.settings.sign_in.token_callback_url,
            fields=fields,
            framed=framed,
            parent_messages=[{"type": "signed-in"}],
        )

    def _ways_on_for_an_existing_account(self) -> list[tuple[str, str]]:
        """Where a person whose account exists can go: sign in (when the site says where), or confirm it."""
        ways = [(str(_l("Confirm your account")), url_for("signup.confirm"))]
        sign_in_url = self.settings.sign_in_url
        return [(str(_l("Sign in")), sign_in_url), *ways] if sign_in_url else ways

    def form_page(
        self, template: str, form: FlaskForm, error: SignupError | None, *, wait_shown: bool = False, **context: Any
    ) -> PageResponse:
        """Render a form page with its errors and the HTTP status that fits them: any step's page.

        `context` is the template's, with `links_to`, the route the page's language links lead to.

        `wait_shown`: the page itself counts down the wait (the code page's resend cooldown), so a
        limit's message does not repeat it.
        """
        status, headers = 200, {}
        if form.is_submitted():
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
                form[field].errors.append(text)
            else:
                form.form_errors.append(text)
        failed = bool(form.errors or form.form_errors)
        return render_template(template, form=form, failed=failed, **context), status, headers

    def _field_name(self, field: str | None) -> str:
        """The form field an error names: an attribute, or the username it doubles as."""
        if field is None:
            return ""
        if field == self.declaration.username:
            return "username"
        return field_name(field)


def error_page(status: int, links_to: str) -> str:
    """404, 405, 413 and friends, and the plain page a bug gets: the words are app.messages'."""
    return render_template("error.html", status=status, links_to=links_to)


def format_wait(seconds: int) -> str:
    """'You can try again in 45 seconds.' / '… in 3 minutes.'"""
    if seconds < 120:
        return ngettext(
            "You can try again in %(num)d\u00a0second.", "You can try again in %(num)d\u00a0seconds.", seconds
        )
    minutes = -(-seconds // 60)
    return ngettext("You can try again in %(num)d\u00a0minute.", "You can try again in %(num)d\u00a0minutes.", minutes)
