"""Routes: validate, call a step, redirect (POST/redirect/GET); on an error, show it in place.

No step needs a cookie. What one step hands to the next travels in the pages themselves: the
sealed Flow in the code page's address (app.flow), and the language, return address and the
rest in the query of every link and form (app.signup_request.Carried, added by `carry`). So any
instance serves any step, in any browser, whatever its cookie policy.

Each request of the flow is read once, before its view runs (`open_request`), into a
SignupRequest that the view receives as its `req` argument and passes on to the steps and pages.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Blueprint, abort, current_app, g, redirect, request, url_for
from flask_wtf import FlaskForm
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

from app.bots import HONEYPOT_FIELD
from app.components import Components, current
from app.csrf import is_same_origin
from app.errors import SignupError
from app.flow import Event, Flow
from app.forms import signup_values
from app.headers import origin
from app.pages import PageResponse, error_page
from app.signin import hand_off_url
from app.signup_request import SignupRequest, read_carried, read_request
from app.steps import Visitor

bp = Blueprint("signup", __name__)

# The page whose address a route's links keep, for an error page met on that route: the code
# page's "Send a new code" button posts to a route of its own, but shows the code page.
PAGE_OF_ROUTE = {
    "signup.signup": "signup.signup",
    "signup.confirm": "signup.confirm",
    "signup.resend": "signup.confirm",
    "signup.done": "signup.done",
}


@bp.before_request
def refuse_other_sites() -> None:
    """A post from any page but the app's own is refused before anything else runs (app.csrf)."""
    if request.method == "POST" and not is_same_origin(request):
        current_app.logger.info("Post refused: it came from another site")
        abort(403)


@bp.before_request
def open_request() -> None:
    """Read the request once and hand it to the view as its `req` argument.

    A hook of the blueprint, not of the app: health checks, metrics and the stylesheet do no such work.
    """
    request.view_args["req"] = _read_request()  # type: ignore[index]  # a route matched, so it has view_args


def _read_request() -> SignupRequest:
    """This request as the flow sees it; also kept in `g`, the one object Flask keeps per request,
    for `carry`, which Flask calls from url_for with no other way to reach it."""
    parts = current()
    carried = read_carried(
        request.args, current_app.config["LANGUAGES"], parts.settings.allowed_return_urls, parts.declaration
    )
    req = read_request(
        carried,
        parts.declaration,
        flow_token=request.args.get("flow"),
        flows=parts.flows,
        invitations=parts.invitations,
        ip=request.remote_addr or "",
        framed=request.headers.get("Sec-Fetch-Dest") == "iframe",
    )
    g.signup_request = req
    return req


@bp.url_defaults
def carry(endpoint: str, values: dict[str, Any]) -> None:
    """Every link and form of the flow keeps what this request's address carries (app.signup_request)."""
    req = g.get("signup_request")
    if req is not None:
        for name, value in req.carried.query.items():
            values.setdefault(name, value)


@bp.get("/")
def index(req: SignupRequest) -> Response:
    return redirect(url_for(".signup"))


@bp.route("/signup", methods=["GET", "POST"])
def signup(req: SignupRequest) -> Any:
    parts = current()
    if request.method == "GET" and req.invitation is None and req.invitation_problem is None:
        kept = parts.pages.kept_signup(req, request.args)
        if kept is not None:
            return kept
    form = parts.forms.signup()
    if request.method == "GET":
        parts.pages.fill_in(form, req.invitation, request.args)
    if not form.validate_on_submit():
        return parts.pages.signup(req, form)
    username, password, attributes = signup_values(parts.declaration, form)
    captcha = parts.guard.captcha
    try:
        flow = parts.steps.sign_up(
            username,
            password,
            {**attributes, **req.recorded},
            _visitor(req, form),
            honeypot=form[HONEYPOT_FIELD].data or "",
            seconds_open=form.csrf_token.age,
            captcha_response=request.form.get(captcha.provider.response_field, "") if captcha else "",
            invitation=req.invitation,
        )
    except SignupError as err:
        return parts.pages.signup(req, form, err)
    return _next_page(req, parts, flow)


@bp.route("/signup/confirm", methods=["GET", "POST"])
def confirm(req: SignupRequest) -> Any:
    """The code page; for a person with no code page of theirs (another browser, the next day) it asks who they are."""
    parts = current()
    form = _confirm_form(req, parts)
    if not form.validate_on_submit():
        return _code_page(req, parts, form)
    visitor = _visitor(req, form)
    flow = req.flow
    try:
        done = parts.steps.confirm(_username(flow, form), form.code.data, visitor, flow.live_session if flow else None)
    except SignupError as err:
        return _code_page(req, parts, form, err)
    tokens = parts.steps.sign_in(done, visitor)
    if tokens is not None:
        return parts.pages.signed_in(tokens, req.carried.state, framed=req.framed)
    return _next_page(req, parts, done)


@bp.post("/signup/confirm/resend")
def resend(req: SignupRequest) -> Any:
    """Send a new code. Posted by the code page's second button, which shares its form."""
    parts = current()
    form = _confirm_form(req, parts)
    form.validate()
    form.code.errors = []  # a new code needs no old one
    if form.errors:
        return _code_page(req, parts, form)
    try:
        sent = parts.steps.resend(req.flow or Flow(form.username.data), _visitor(req, form))
    except SignupError as err:
        return _code_page(req, parts, form, err)
    return _next_page(req, parts, sent)


@bp.get("/signup/done")
def done(req: SignupRequest) -> str:
    parts = current()
    flow = req.flow
    sign_in = hand_off_url(parts.settings.sign_in, flow.username, req.carried.state) if flow else None
    # A reload of the page that said "confirmed" to the embedding page does not say it again.
    sealed = parts.flows.seal(flow.but(event=None)) if flow and flow.event == Event.CONFIRMED else None
    return parts.pages.done(flow, _success_url_for_this_window(req, parts), sign_in, sealed)


def http_error(error: HTTPException) -> tuple[str, int, list[tuple[str, str]]]:
    """404, 405, 413 and friends as a page of the app, never Werkzeug's bare text.

    Its links keep what the address carries, as every page's do, even where the request came to
    no route of the flow (a 404) or was refused before its view (a 403).
    """
    _read_request()
    allow = [(name, value) for name, value in error.get_headers() if name == "Allow"]
    page = error_page(error.code or 500, PAGE_OF_ROUTE.get(request.endpoint or "", "signup.signup"))
    return page, error.code or 500, allow


def internal_error(error: InternalServerError) -> tuple[str, int]:
    """A bug (`error.original_exception`): Flask has logged it with its traceback for the operator
    (or raised it, in tests); the person gets a plain page."""
    return error_page(500, PAGE_OF_ROUTE.get(request.endpoint or "", "signup.signup")), 500


def _code_page(
    req: SignupRequest, parts: Components, form: FlaskForm, error: SignupError | None = None
) -> PageResponse:
    """The code page, with the resend wait and the Flow sealed for its links (without its one-off notice and event)."""
    flow = req.flow
    sealed = parts.flows.seal(flow.but(event=None, notice="")) if flow else None
    wait = parts.steps.resend_wait(flow.username) if flow else 0
    return parts.pages.confirm(req, form, error, sealed=sealed, resend_wait=wait)


def _confirm_form(req: SignupRequest, parts: Components) -> FlaskForm:
    if req.flow is not None:
        return parts.forms.confirm()
    form = parts.forms.confirm_returning()
    if req.expired_flow is not None and not form.username.data:
        form.username.data = req.expired_flow.username
        form.prefilled = True
    return form


def _username(flow: Flow | None, form: FlaskForm) -> str:
    return flow.username if flow is not None else form.username.data


def _visitor(req: SignupRequest, form: FlaskForm) -> Visitor:
    """The request's visitor, with the advanced-security data its form brought."""
    encoded = form.encoded_data.data if "encoded_data" in form else None
    return replace(req.visitor, encoded_data=encoded or None)


def _next_page(req: SignupRequest, parts: Components, flow: Flow) -> Response:
    """The code page for a Flow that waits for a code; the end of the flow for a confirmed one.

    At the end, outside a frame, the hand-off to the site's sign-in, else an allowed return
    address or the success address, replaces the done page. Inside a frame the app stays in the
    frame: the done page offers the sign-in, and the success address when it belongs to an allowed
    embedding origin, to the top window.
    """
    seal = parts.flows.seal
    if flow.event != Event.CONFIRMED:
        return redirect(url_for(".confirm", flow=seal(flow)))
    onward = hand_off_url(parts.settings.sign_in, flow.username, req.carried.state) or _success_url(req, parts)
    if onward and not req.framed:
        return redirect(onward)
    return redirect(url_for(".done", flow=seal(flow.but(session="", session_until=0))))


def _success_url(req: SignupRequest, parts: Components) -> str | None:
    """An allowed return address this person came with, else the operator's success address."""
    return req.carried.return_to or parts.settings.success_url


def _success_url_for_this_window(req: SignupRequest, parts: Components) -> str | None:
    """The success address, when it may be offered from this window (see _next_page)."""
    success_url = _success_url(req, parts)
    if success_url and (not req.framed or origin(success_url) in parts.settings.frame_ancestors):
        return success_url
    return None
