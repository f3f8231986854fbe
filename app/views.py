"""Routes: validate, call a step, redirect (POST/redirect/GET); on an error, show it in place.

No step needs a cookie. What one step hands to the next travels in the pages themselves: the
sealed Flow in the code page's address (app.flow), and the language and return address in the
query of every link and form (see `carry`). So any instance serves any step, in any browser,
whatever its cookie policy.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from flask import Blueprint, abort, current_app, g, redirect, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from app import pages
from app.bots import HONEYPOT_FIELD
from app.components import current
from app.csrf import is_same_origin
from app.errors import SignupError
from app.flow import Event, Flow, FlowError
from app.forms import signup_values
from app.headers import origin
from app.invite import MAX_TOKEN_LENGTH, Invitation, InvitationError
from app.redirects import safe_return_url
from app.signin import hand_off_url, is_state
from app.steps import Visitor

bp = Blueprint("signup", __name__)


@bp.before_request
def refuse_other_sites() -> None:
    """A post from any page but the app's own is refused before anything else runs (app.csrf)."""
    if request.method == "POST" and not is_same_origin(request):
        current_app.logger.info("Post refused: it came from another site")
        abort(403)


@bp.before_app_request
def read_carried_values() -> None:
    """The language, an allowed return address, the site's sign-in state, an invitation and the
    declared attribution parameters, kept through the flow in every address."""
    carried: dict[str, str] = {}
    g.carried = carried
    if not request.args:  # most page views, and every health check
        return
    if request.args.get("lang") in current_app.config["LANGUAGES"]:
        carried["lang"] = request.args["lang"]
    return_to = safe_return_url(request.args.get("return_to", ""), current().settings.allowed_return_urls)
    if return_to:
        carried["return_to"] = return_to
    if is_state(request.args.get("state", "")):
        carried["state"] = request.args["state"]  # for the site's sign-in at the end (app.signin)
    if 0 < len(request.args.get("invite", "")) <= MAX_TOKEN_LENGTH:
        carried["invite"] = request.args["invite"]  # opened, and checked, when the form is sent
    for attribution in current().declaration.attribution:
        value = _printable(request.args.get(attribution.parameter, ""), attribution.max_length)
        if value:
            carried[attribution.parameter] = value


@bp.url_defaults
def carry(endpoint: str, values: dict[str, Any]) -> None:
    for name, value in g.get("carried", {}).items():
        values.setdefault(name, value)


@bp.get("/")
def index() -> Response:
    return redirect(url_for(".signup"))


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> Any:
    parts = current()
    invitation, problem = _invitation()
    if request.method == "GET" and invitation is None and problem is None:
        kept = pages.kept_signup_page(request.args)
        if kept is not None:
            return kept
    form = parts.forms.signup()
    if request.method == "GET":
        pages.fill_in(form, invitation, request.args)
    if not form.validate_on_submit():
        return pages.signup(form, invitation=invitation, problem=problem)
    username, password, attributes = signup_values(parts.declaration, form)
    recorded, metadata = _attribution()
    captcha = parts.guard.captcha
    try:
        flow = parts.steps.sign_up(
            username,
            password,
            {**attributes, **recorded},
            _visitor(form, metadata),
            honeypot=form[HONEYPOT_FIELD].data or "",
            seconds_open=form.csrf_token.age,
            captcha_response=request.form.get(captcha.provider.response_field, "") if captcha else "",
            invitation=invitation,
        )
    except SignupError as err:
        return pages.signup(form, err, invitation=invitation, problem=problem)
    return _next_page(flow)


@bp.route("/signup/confirm", methods=["GET", "POST"])
def confirm() -> Any:
    """The code page; for a person with no code page of theirs (another browser, the next day) it asks who they are."""
    flow, problem = _flow()
    form = _confirm_form(flow)
    if not form.validate_on_submit():
        return pages.confirm(form, flow, problem)
    steps, visitor = current().steps, _visitor(form)
    try:
        done = steps.confirm(_username(flow, form), form.code.data, visitor, flow.live_session if flow else None)
    except SignupError as err:
        return pages.confirm(form, flow, problem, err)
    tokens = steps.sign_in(done, visitor)
    if tokens is not None:
        return pages.signed_in(tokens, g.carried.get("state"), framed=_framed())
    return _next_page(done)


@bp.post("/signup/confirm/resend")
def resend() -> Any:
    """Send a new code. Posted by the code page's second button, which shares its form."""
    flow, problem = _flow()
    form = _confirm_form(flow)
    form.validate()
    form.code.errors = []  # a new code needs no old one
    if form.errors:
        return pages.confirm(form, flow, problem)
    try:
        sent = current().steps.resend(flow or Flow(form.username.data), _visitor(form))
    except SignupError as err:
        return pages.confirm(form, flow, problem, err)
    return _next_page(sent)


@bp.get("/signup/done")
def done() -> str:
    flow, _ = _flow()
    sign_in = hand_off_url(current().settings.sign_in, flow.username, g.carried.get("state")) if flow else None
    return pages.done(flow, _success_url_for_this_window(), sign_in)


def _flow() -> tuple[Flow | None, str | None]:
    """The Flow in this address, and what is wrong with it: None, "flow_expired" or "flow_unreadable".

    A genuine but expired Flow still says who it was for, so the returning form is filled in.
    """
    token = request.args.get("flow")
    if token is None:
        return None, None
    try:
        return current().flows.open(token), None
    except FlowError as err:
        g.expired_flow = err.flow
        return None, "flow_expired" if err.flow else "flow_unreadable"


def _confirm_form(flow: Flow | None) -> FlaskForm:
    forms = current().forms
    if flow is not None:
        return forms.confirm()
    form = forms.confirm_returning()
    expired = g.get("expired_flow")
    if expired is not None and not form.username.data:
        form.username.data = expired.username
        form.prefilled = True
    return form


def _username(flow: Flow | None, form: FlaskForm) -> str:
    return flow.username if flow is not None else form.username.data


def _visitor(form: FlaskForm, metadata: dict[str, str] | None = None) -> Visitor:
    """The client's address (the connection's peer, or what the trusted proxies say: ProxyFix)."""
    encoded = form.encoded_data.data if "encoded_data" in form else None
    if metadata is None:
        metadata = _attribution()[1]
    return Visitor(ip=request.remote_addr or "", encoded_data=encoded or None, client_metadata=metadata)


def _invitation() -> tuple[Invitation | None, str | None]:
    """The invitation in this address, and what is wrong with it: None, "invitation_expired" or
    "invitation_invalid"."""
    token = g.carried.get("invite")
    if token is None:
        return None, None
    try:
        return current().invitations.open(token), None
    except InvitationError as err:
        return None, f"invitation_{err.reason}"


def _printable(value: str, limit: int) -> str:
    """An attribution value as it may be kept: no control or format characters, at most `limit` long.

    It is only ever stored and passed on, never trusted for anything else."""
    return "".join(char for char in value if unicodedata.category(char)[0] != "C")[:limit].strip()


def _attribution() -> tuple[dict[str, str], dict[str, str]]:
    """Where this person came from, as the declaration says to send it: attributes, ClientMetadata."""
    recorded, metadata = {}, {}
    for attribution in current().declaration.attribution:
        value = g.carried.get(attribution.parameter)
        if value and attribution.attribute:
            recorded[attribution.attribute] = value
        elif value:
            metadata[attribution.parameter] = value
    return recorded, metadata


def _next_page(flow: Flow) -> Response:
    """The code page for a Flow that waits for a code; the end of the flow for a confirmed one.

    At the end, outside a frame, the hand-off to the site's sign-in, else an allowed return
    address or the success address, replaces the done page. Inside a frame the app stays in the
    frame: the done page offers the sign-in, and the success address when it belongs to an allowed
    embedding origin, to the top window.
    """
    seal = current().flows.seal
    if flow.event != Event.CONFIRMED:
        return redirect(url_for(".confirm", flow=seal(flow)))
    onward = hand_off_url(current().settings.sign_in, flow.username, g.carried.get("state")) or _success_url()
    if onward and not _framed():
        return redirect(onward)
    return redirect(url_for(".done", flow=seal(flow.but(session="", session_until=0))))


def _success_url() -> str | None:
    """An allowed return address this person came with, else the operator's success address."""
    return g.carried.get("return_to") or current().settings.success_url


def _framed() -> bool:
    # Sent by every current browser for navigations inside an iframe.
    return request.headers.get("Sec-Fetch-Dest") == "iframe"


def _success_url_for_this_window() -> str | None:
    """The success address, when it may be offered from this window (see _next_page)."""
    success_url = _success_url()
    if success_url and (not _framed() or origin(success_url) in current().settings.frame_ancestors):
        return success_url
    return None
