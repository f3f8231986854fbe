"""Routes: validate, call the service, redirect (POST/redirect/GET); on an error, show it in place.

What one step hands to the next (who is signing up, where the code went) travels in the signed
session cookie, so any instance behind a load balancer can serve any step.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from markupsafe import escape
from werkzeug.wrappers import Response

from app import metrics
from app.bots import HONEYPOT_FIELD, STARTED_FIELD
from app.cognito import CodeDelivery, RequestContext
from app.components import current
from app.errors import AlreadyConfirmed, InvalidInput, SignupError, UsernameExists, UserNotFound
from app.forms import signup_values
from app.headers import origin
from app.redirects import is_allowed_return_url

bp = Blueprint("signup", __name__)

EXPIRED = _l(
    "This page was open too long, or your browser did not keep our cookie. Check your details and send them again."
)
WRONG_CODE = _l("That code is not right. Check the code we sent you and try again.")
SENT_AGAIN = _l("We sent you a new code.")
TOO_MANY_SIGNUPS = _l("Too many sign-ups from your network.")
TOO_MANY_CODES = _l("Too many codes tried.")
TOO_MANY_RESENDS = _l("You cannot ask for another code yet.")


@bp.before_app_request
def remember_return_address() -> None:
    """Keep an allowed ?return_to= address for the end of the flow; ignore any other."""
    return_to = request.args.get("return_to")
    if (
        request.method == "GET"
        and return_to
        and is_allowed_return_url(return_to, current().settings.allowed_return_urls)
    ):
        session["return_to"] = return_to


@bp.get("/")
def index() -> Response:
    return redirect(url_for(".signup"))


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> Any:
    parts = current()
    if request.method == "GET" and _is_plain_visit():
        return _untouched_page("signup.html", parts.forms.signup, (), {_STAMP_MARK: parts.guard.stamp()})
    form = parts.forms.signup()
    if not form.validate_on_submit():
        return _page("signup.html", form)
    username, password, attributes = signup_values(parts.declaration, form)
    ip = _ip()
    captcha = parts.guard.captcha
    metrics.SIGNUPS_STARTED.inc()
    try:
        parts.guard.check(
            honeypot=form[HONEYPOT_FIELD].data or "",
            started=form[STARTED_FIELD].data or "",
            captcha_response=request.form.get(captcha.provider.response_field, "") if captcha else "",
            ip_address=ip,
        )
        parts.limiter.hit("signup", ip, TOO_MANY_SIGNUPS)
        result = parts.service.sign_up(username, password, attributes, _context(form))
    except UsernameExists as err:
        metrics.SIGNUPS_FAILED.labels(err.code).inc()
        if not parts.settings.hide_existing_users:
            return _page("signup.html", form, err)
        # Exactly what a new account sees, so the page tells nobody who has an account here.
        _tell_parent("signed-up", deliveryMedium="")
        _remember(username, None)
        return redirect(url_for(".confirm"))
    except SignupError as err:
        metrics.SIGNUPS_FAILED.labels(err.code).inc()
        return _page("signup.html", form, err)
    metrics.SIGNUPS_SUCCEEDED.inc()
    delivery = None if parts.settings.hide_existing_users else result.delivery
    _tell_parent("signed-up", deliveryMedium=delivery.medium if delivery else "")
    if result.confirmed:
        return _finished()
    _remember(username, delivery)
    parts.limiter.count("resend_per_user", username)  # a code just went out: the cooldown starts
    return redirect(url_for(".confirm"))


@bp.route("/signup/confirm", methods=["GET", "POST"])
def confirm() -> Any:
    """The code page; for a person with no session (another browser, the next day) it asks who they are."""
    parts = current()
    if request.method == "GET" and _is_plain_visit():
        return _untouched_confirm_page()
    form = _confirm_form()
    if not form.validate_on_submit():
        return _page("confirm.html", form)
    username = _username(form)
    try:
        parts.limiter.hit("confirm", _ip(), TOO_MANY_CODES)
        parts.limiter.hit("confirm_per_user", username, TOO_MANY_CODES)
        parts.service.confirm_sign_up(username, form.code.data, _context(form))
        metrics.CONFIRMATIONS.labels("confirmed").inc()
    except AlreadyConfirmed:
        metrics.CONFIRMATIONS.labels("already_confirmed").inc()
    except UserNotFound as err:
        metrics.CONFIRMATIONS.labels(err.code).inc()
        hidden = InvalidInput(WRONG_CODE, "code")
        return _page("confirm.html", form, hidden if parts.settings.hide_existing_users else err)
    except SignupError as err:
        metrics.CONFIRMATIONS.labels(err.code).inc()
        return _page("confirm.html", form, err)
    session.pop("pending", None)
    return _finished()


@bp.post("/signup/confirm/resend")
def resend() -> Any:
    """Send a new code. Posted by the code page's second button, which shares its form."""
    parts = current()
    form = _confirm_form()
    form.validate()
    form.code.errors = []  # a new code needs no old one
    if form.errors:
        return _page("confirm.html", form)
    username = _username(form)
    hide = parts.settings.hide_existing_users
    try:
        parts.limiter.hit("resend", _ip(), TOO_MANY_RESENDS)
        parts.limiter.hit("resend_per_user", username, TOO_MANY_RESENDS)
        delivery = parts.service.resend_confirmation_code(username, _context(form))
        metrics.RESENDS.labels("sent").inc()
    except (AlreadyConfirmed, UserNotFound) as err:
        metrics.RESENDS.labels(err.code).inc()
        if not hide and isinstance(err, UserNotFound):
            return _page("confirm.html", form, err)
        if not hide:
            session.pop("pending", None)
            return _finished()
        delivery = None  # say what a real resend says
    except SignupError as err:
        metrics.RESENDS.labels(err.code).inc()
        return _page("confirm.html", form, err)
    _remember(username, None if hide else delivery)
    flash(SENT_AGAIN)
    return redirect(url_for(".confirm"))


@bp.get("/signup/done")
def done() -> str:
    return render_template("done.html", continue_url=_success_url_for_this_window())


# Markers for the values that differ between two visitors of an untouched page.
_CSRF_MARK = "__csrf_token__"
_STAMP_MARK = "__form_shown_at__"
_DESTINATION_MARK = "__code_destination__"
_WAIT_MARK = "__resend_wait__"


def _is_plain_visit() -> bool:
    """A GET with nothing one-off to show: no notice, no message for an embedding page."""
    return not ({"_flashes", "events"} & session.keys()) and not current().settings.advanced_security


def _untouched_page(
    template: str, form_class: type[FlaskForm], variant: tuple[Any, ...], values: dict[str, str], **context: Any
) -> str:
    """A page whose form nobody has posted yet.

    Apart from a few values (the CSRF token, the form's time stamp, where the code went) it is the
    same for everyone who reads one language, so it is rendered once per language and variant with
    markers in place of those values, which are then filled in for each request. Most requests are
    for these pages, and rendering a form is most of what a page costs.
    """
    rendered = current().rendered
    key = (template, str(get_locale()), *variant)
    if key not in rendered:
        form = form_class()
        form.csrf_token.current_token = _CSRF_MARK
        if STARTED_FIELD in form:
            form[STARTED_FIELD].data = _STAMP_MARK
        rendered[key] = render_template(template, form=form, **{"pending": None, "resend_wait": 0, **context})
    page = rendered[key].replace(_CSRF_MARK, generate_csrf())
    for mark, value in values.items():
        page = page.replace(mark, value)
    return page


def _untouched_confirm_page() -> str:
    pending = session.get("pending")
    forms = current().forms
    if not pending:
        return _untouched_page("confirm.html", forms.confirm_returning, ("returning",), {})
    wait = _resend_wait()
    has_destination = bool(pending["destination"])
    return _untouched_page(
        "confirm.html",
        forms.confirm,
        (pending["medium"], has_destination, bool(wait)),
        {_DESTINATION_MARK: str(escape(pending["destination"])), _WAIT_MARK: str(wait)},
        pending={**pending, "destination": _DESTINATION_MARK if has_destination else ""},
        resend_wait=_WAIT_MARK if wait else 0,
    )


def _confirm_form() -> FlaskForm:
    forms = current().forms
    return (forms.confirm if "pending" in session else forms.confirm_returning)()


def _username(form: FlaskForm) -> str:
    return session["pending"]["username"] if "username" not in form else form.username.data


def _remember(username: str, delivery: CodeDelivery | None) -> None:
    """Keep who is signing up and where their code went, for the code page."""
    session["pending"] = {
        "username": username,
        "destination": delivery.destination if delivery else "",
        "medium": delivery.medium if delivery else "",
    }


def _ip() -> str:
    """The client's address: the connection's peer, or what the trusted proxies say (ProxyFix)."""
    return request.remote_addr or ""


def _context(form: FlaskForm) -> RequestContext:
    encoded = form.encoded_data.data if "encoded_data" in form else None
    return RequestContext(ip_address=_ip(), encoded_data=encoded or None)


def _finished() -> Response:
    """Where a confirmed person goes: the success address, or the done page.

    Inside a frame the app stays in the frame: it shows the done page, which offers the success
    address to the top window only when that address belongs to an allowed embedding origin.
    """
    _tell_parent("confirmed", successUrl=_success_url_for_this_window() or "")
    success_url = _success_url()
    if success_url and not _framed():
        return redirect(success_url)
    return redirect(url_for(".done"))


def _success_url() -> str | None:
    """An allowed return address this person came with, else the operator's success address."""
    return session.get("return_to") or current().settings.success_url


def _framed() -> bool:
    # Sent by every current browser for navigations inside an iframe.
    return request.headers.get("Sec-Fetch-Dest") == "iframe"


def _success_url_for_this_window() -> str | None:
    success_url = _success_url()
    if success_url and (not _framed() or origin(success_url) in current().settings.frame_ancestors):
        return success_url
    return None


def _tell_parent(event: str, **details: str) -> None:
    """Queue a message for the embedding page; the next page posts it (only when embedding is on)."""
    if current().settings.embedded:
        session["events"] = [*session.get("events", []), {"type": event, **details}]


def _page(template: str, form: FlaskForm, error: SignupError | None = None) -> Any:
    """Render a form page with its errors and the HTTP status that fits them.

    Whatever was typed stays in the form (WTForms never echoes a password back).
    """
    status = 200
    headers = {}
    if form.is_submitted():
        status = 422
    if "csrf_token" in form and form.csrf_token.errors:
        form.csrf_token.errors = []
        form.form_errors.append(EXPIRED)
        status = 400
    if error is not None:
        status = error.status
        retry_after = getattr(error, "retry_after", None)
        message = error.message
        if retry_after:
            headers["Retry-After"] = str(retry_after)
            message = f"{message} {format_wait(retry_after)}"
        field = _field_name(error.field)
        if field in form and field != "csrf_token":
            form[field].errors.append(message)
        else:
            form.form_errors.append(message)
    return (
        render_template(template, form=form, pending=session.get("pending"), resend_wait=_resend_wait()),
        status,
        headers,
    )


def _resend_wait() -> int:
    """Seconds before the person whose code page this is may ask for another code."""
    pending = session.get("pending")
    return current().limiter.wait("resend_per_user", pending["username"]) if pending else 0


def format_wait(seconds: int) -> str:
    """'You can try again in 45 seconds.' / '… in 3 minutes.'"""
    if seconds < 120:
        return ngettext("You can try again in %(num)d second.", "You can try again in %(num)d seconds.", seconds)
    minutes = -(-seconds // 60)
    return ngettext("You can try again in %(num)d minute.", "You can try again in %(num)d minutes.", minutes)


def _field_name(field: str | None) -> str:
    """The form field an error names: an attribute, or the username it doubles as."""
    if field is None:
        return ""
    if field == current().declaration.username:
        return "username"
    return field.replace(":", "_")
