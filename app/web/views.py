"""Routes: validate, call a step, redirect (POST/redirect/GET); on an error, show it in place.

No step needs a cookie. What one step hands to the next travels in the pages themselves: the
sealed Flow in the code page's address (app.signup.flow), and the language, return address and the
rest in the query of every link and form (app.signup.signup_request.Carried, added by `carry`). So any
instance serves any step, in any browser, whatever its cookie policy.

Each request of the flow is read once, before its view runs (`open_request`), into a
SignupRequest that the view receives as its `req` argument and passes on to the steps and pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from flask import Blueprint, abort, current_app, g, redirect, request, url_for
from flask_wtf import FlaskForm
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

from app.components import Components, current
from app.errors import SignupError
from app.signup.bots import HONEYPOT_FIELD
from app.signup.csrf import is_own_host, is_same_origin
from app.signup.drafts import MAX_DRAFT_LENGTH, Draft
from app.signup.flow import CODE_PAGES, END_PAGES, OWN_PASSWORD, PASSWORD_PAGES, ROUTE_OF_KIND, Flow, Kind
from app.signup.signin import hand_off_url
from app.signup.signup_request import SignupRequest, read_carried, read_request
from app.signup.steps import Visitor
from app.web.forms import SWITCH_LANGUAGE, kept_fields, password_problems, refill, signup_values
from app.web.headers import origin
from app.web.i18n import language
from app.web.pages import PageResponse, WaysOn, error_page

bp = Blueprint("signup", __name__)

# The page whose address a route's links keep, for an error page met on that route: the code
# page's "Send a new code" button posts to a route of its own, but shows the code page.
PAGE_OF_ROUTE = {
    "signup.signup": "signup.signup",
    "signup.confirm": "signup.confirm",
    "signup.resend": "signup.confirm",
    "signup.password": "signup.password",
    "signup.password_resend": "signup.password",
    "signup.forgot": "signup.forgot",
    "signup.done": "signup.done",
}


@bp.before_app_request
def refuse_other_hosts() -> None:
    """With SIGNUP_PUBLIC_URL set, a request for any other host is refused before anything runs
    (app.signup.csrf.is_own_host); the balancer's health checks, which name an instance, pass."""
    if request.blueprint != "health" and not is_own_host(request, current().settings.public_origin):
        current_app.logger.info("Request refused: it named another host")
        abort(400)


@bp.before_request
def refuse_other_sites() -> None:
    """A post from any page but the app's own is refused before anything else runs (app.signup.csrf)."""
    if request.method == "POST" and not is_same_origin(request, current().settings.public_origin):
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
        language=language(),
        framed=request.headers.get("Sec-Fetch-Dest") == "iframe",
    )
    g.signup_request = req
    return req


@bp.url_defaults
def carry(endpoint: str, values: dict[str, Any]) -> None:
    """Every link and form of the flow keeps what this request's address carries (app.signup.signup_request).

    All but the invitation: it names the invited address in a signed but readable token, and only
    the sign-up form uses it, so it never rides beside a sealed flow into the steps after.
    """
    req = g.get("signup_request")
    if req is not None:
        for name, value in req.carried.query.items():
            if name != "invite" or endpoint == "signup.signup":
                values.setdefault(name, value)


@bp.get("/")
def index(req: SignupRequest) -> Response:
    return redirect(url_for(".signup"))


@bp.route("/signup", methods=["GET", "POST"])
def signup(req: SignupRequest) -> Any:
    parts = current()
    page = FormPage(
        ".signup",
        {},
        lambda form, error, refused: parts.pages.signup(
            req, form, error, refused=refused, ways_on=_ways_on(parts, form.username.data) if error else None
        ),
    )
    if _switching():
        return _switched(parts, page, parts.forms.signup())
    fresh = request.method == "GET" and "draft" not in request.args
    if fresh and req.invitation is None and req.invitation_problem is None:
        kept = parts.pages.kept_signup(req, request.args)
        if kept is not None:
            return kept
    form, draft = _form(parts, parts.forms.signup)
    if fresh:
        parts.pages.fill_in(form, req.invitation, request.args)
    if request.method == "GET":
        return _shown(page, form, draft)
    if not form.validate():
        return _refused(parts, page, form)
    username, password, attributes = signup_values(parts.declaration, form)
    captcha = parts.guard.captcha
    try:
        flow = parts.steps.sign_up(
            username,
            password,
            {**attributes, **req.recorded},
            _visitor(req, form),
            page_view=form.csrf_token.page_view,
            honeypot=form[HONEYPOT_FIELD].data or "",
            seconds_open=form.csrf_token.age,
            captcha_response=request.form.get(captcha.provider.response_field, "") if captcha else "",
            invitation=req.invitation,
        )
    except SignupError as err:
        return _refused(parts, page, form, err)
    if flow.kind in CODE_PAGES:  # "Not your email address? Change it" goes back to this form, filled in
        flow = flow.but(form=Draft.of(request.form.to_dict(flat=False), kept_fields(form), failed=False).values)
    return _next_page(req, parts, flow)


@bp.route("/signup/confirm", methods=["GET", "POST"])
def confirm(req: SignupRequest) -> Any:
    """The code page; for a person with no code page of theirs (another browser, the next day) it asks who they are."""
    parts = current()
    if req.flow is not None and req.flow.kind not in CODE_PAGES:
        return _next_page(req, parts, req.flow)  # an address of another step: show that step
    page = _code_page(req, parts)
    form_class = parts.forms.confirm if req.flow is not None else parts.forms.confirm_returning
    if _switching():
        return _switched(parts, page, form_class())
    form, draft = _form(parts, form_class)
    if request.method == "GET":
        return _shown(page, form, draft)
    if not form.validate():
        return _refused(parts, page, form)
    visitor = _visitor(req, form)
    try:
        done = parts.steps.confirm(_code_flow(req, form), form.code.data, visitor)
    except SignupError as err:
        return _refused(parts, page, form, err)
    tokens = parts.steps.sign_in(done, visitor)
    if tokens is not None:
        return parts.pages.signed_in(tokens, req.carried.state, framed=req.framed)
    return _next_page(req, parts, done)


@bp.post("/signup/confirm/resend")
def resend(req: SignupRequest) -> Any:
    """Send a new code. Posted by the code page's second button, which shares its form."""
    parts = current()
    if req.flow is not None and req.flow.kind not in CODE_PAGES:
        return _next_page(req, parts, req.flow)
    page = _code_page(req, parts)
    form = parts.forms.confirm() if req.flow is not None else parts.forms.confirm_returning()
    form.validate()
    form.code.errors = []  # a new code needs no old one
    if form.errors:
        return _refused(parts, page, form)
    try:
        sent = parts.steps.resend(_code_flow(req, form), _visitor(req, form))
    except SignupError as err:
        return _refused(parts, page, form, err)
    return _next_page(req, parts, sent)


@bp.route("/signup/password", methods=["GET", "POST"])
def password(req: SignupRequest) -> Any:
    """A password of the person's own, with a code ForgotPassword sent: after confirming a sign-up
    started elsewhere, or after "Forgot your password?"."""
    parts = current()
    if req.flow is None or req.flow.kind not in PASSWORD_PAGES:
        return _next_page(req, parts, req.flow) if req.flow else redirect(url_for(".forgot"))
    page = _password_page(req, parts, req.flow)
    if _switching():
        return _switched(parts, page, parts.forms.new_password())
    form, draft = _form(parts, parts.forms.new_password)
    if request.method == "GET":
        return _shown(page, form, draft)
    if not form.validate():
        return _refused(parts, page, form)
    visitor = _visitor(req, form)
    try:
        done = parts.steps.set_password(req.flow, form.code.data, form.password.data, visitor)
    except SignupError as err:
        return _refused(parts, page, form, err)
    tokens = parts.steps.sign_in(done, visitor, form.password.data)
    if tokens is not None:
        return parts.pages.signed_in(tokens, req.carried.state, framed=req.framed)
    return _next_page(req, parts, done)


@bp.post("/signup/password/resend")
def password_resend(req: SignupRequest) -> Any:
    """Send a new code for the new password. Posted by the new-password page's second button."""
    parts = current()
    if req.flow is None or req.flow.kind not in PASSWORD_PAGES:
        return _next_page(req, parts, req.flow) if req.flow else redirect(url_for(".forgot"))
    page = _password_page(req, parts, req.flow)
    form = parts.forms.new_password()
    form.validate()
    for field in form:
        if field.name != "csrf_token":
            field.errors = []  # a new code needs nothing typed
    if form.errors:
        return _refused(parts, page, form)
    try:
        sent = parts.steps.send_password_code(req.flow, _visitor(req, form))
    except SignupError as err:
        return _refused(parts, page, form, err)
    return _next_page(req, parts, sent)


@bp.route("/signup/forgot", methods=["GET", "POST"])
def forgot(req: SignupRequest) -> Any:
    """Forgot your password? The username, then a code to set a new one (or, for a sign-up never
    finished, a code to finish it)."""
    parts = current()
    page = FormPage(".forgot", {}, lambda form, error, refused: parts.pages.forgot(req, form, error, refused=refused))
    if _switching():
        return _switched(parts, page, parts.forms.forgot())
    form, draft = _form(parts, parts.forms.forgot)
    if request.method == "GET":
        if draft is None and req.flow is not None:
            form.username.data = req.flow.username  # from "Forgot your password?" where the username is known
            form.prefilled = True
        return _shown(page, form, draft)
    if not form.validate():
        return _refused(parts, page, form)
    try:
        flow = parts.steps.forgot(form.username.data, _visitor(req, form))
    except SignupError as err:
        return _refused(parts, page, form, err)
    return _next_page(req, parts, flow)


@bp.get("/signup/done")
def done(req: SignupRequest) -> str:
    """The end: "ready" only for a Flow that ended READY (SECURITY.md); any other visit is told
    how to sign in."""
    parts = current()
    flow = req.flow or req.expired_flow  # a day-old end page still says how it ended
    if flow is not None and flow.kind not in END_PAGES:
        flow = None
    sign_in = _sign_in_url(req, parts, flow.username if flow and flow.kind in OWN_PASSWORD else None)
    # A reload of the page that said "confirmed" to the embedding page does not say it again.
    sealed = parts.flows.seal(flow.but(event=None)) if flow and flow.event else None
    return parts.pages.done(
        flow,
        _success_url_for_this_window(req, parts),
        sign_in,
        sealed,
        forgot=url_for(".forgot", flow=parts.flows.seal(Flow(flow.username))) if flow else url_for(".forgot"),
    )


@bp.get("/signup/onward")
def onward(req: SignupRequest) -> Response:
    """Where the other links of a code or new-password page lead, for the person the page is for:
    a new password, finishing the sign-up elsewhere, or the sign-up form filled in again ("Change it").

    The page names them with its own sealed flow, and what each needs is sealed here, once one is
    followed: every page shown seals two tokens and builds two addresses fewer (docs/performance.md).
    """
    parts = current()
    flow = req.flow or req.expired_flow  # a day-old page still says whose it was
    to = request.args.get("to")
    if to == "change":
        draft = parts.drafts.seal(Draft(flow.form)) if flow and flow.form else None
        return redirect(url_for(".signup", draft=draft) if draft else url_for(".signup"))
    if to not in {"forgot", "finish"}:
        abort(404)
    prefill = parts.flows.seal(Flow(flow.username)) if flow else None
    route = ".forgot" if to == "forgot" else ".confirm"
    return redirect(url_for(route, flow=prefill) if prefill else url_for(route))


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


@dataclass(frozen=True)
class FormPage:
    """A page with a form, as the views show it again: its route, what its address holds besides
    the carried values (the sealed Flow), and how it is rendered (with the form, the step's error,
    and whether a post was refused)."""

    route: str
    page_args: dict[str, Any]
    render: Callable[[FlaskForm, SignupError | None, bool], PageResponse]


def _code_page(req: SignupRequest, parts: Components) -> FormPage:
    """The code page, with the resend wait and the Flow sealed for its links (without its one-off notice and event)."""
    flow = req.flow
    sealed = parts.flows.seal(flow.but(event=None, notice="")) if flow else None
    wait = parts.steps.resend_wait(flow.username) if flow else 0
    finish = not flow or flow.kind != Kind.RETURNING
    onward = url_for(".onward", flow=sealed) if sealed else None
    ways_on = _ways_on_through(parts, onward, finish=finish) if onward else _ways_on(parts, None, finish=finish)
    change = f"{onward}&to=change" if onward and flow and flow.form else None
    return FormPage(
        ".confirm",
        {"flow": sealed} if sealed else {},
        lambda form, error, refused: parts.pages.confirm(
            req, form, error, refused=refused, sealed=sealed, resend_wait=wait, ways_on=ways_on, change=change
        ),
    )


def _password_page(req: SignupRequest, parts: Components, flow: Flow) -> FormPage:
    """The new-password page, with the resend wait and its Flow sealed for its links."""
    sealed = parts.flows.seal(flow.but(event=None, notice=""))
    wait = parts.steps.resend_wait(flow.username)
    ways_on = _ways_on_through(parts, url_for(".onward", flow=sealed), finish=flow.kind != Kind.FINISH)
    return FormPage(
        ".password",
        {"flow": sealed},
        lambda form, error, refused: parts.pages.password(
            req, form, error, refused=refused, sealed=sealed, resend_wait=wait, ways_on=ways_on
        ),
    )


def _form(parts: Components, form_class: type[FlaskForm]) -> tuple[FlaskForm, Draft | None]:
    """The page's form: as posted, or as its draft brings it back (a refused post, a language
    switched), or new."""
    if request.method == "POST":
        return form_class(), None
    draft = parts.drafts.open(request.args.get("draft"))
    return (refill(form_class, draft), draft) if draft else (form_class(), None)


def _shown(page: FormPage, form: FlaskForm, draft: Draft | None) -> PageResponse:
    """The page, with what its draft says was wrong, while it still holds."""
    if draft is None:
        return page.render(form, None, False)
    return page.render(form, draft.step_error(), draft.failed or bool(draft.error))


def _refused(parts: Components, page: FormPage, form: FlaskForm, error: SignupError | None = None) -> Any:
    """A post the page cannot take: back to the page's own address, with the draft (POST/redirect/GET).

    A draft too long for an address (pages of long answers) is answered at once instead, as a page.
    """
    if form.csrf_token.errors and error is None:
        error = SignupError("form_expired", code="FormExpired")  # the form comes back with a fresh token
        error.status = 400
    draft = Draft.of(
        request.form.to_dict(flat=False), kept_fields(form), failed=True, password=password_problems(form), error=error
    )
    token = parts.drafts.seal(draft)
    if len(token) > MAX_DRAFT_LENGTH:
        return page.render(form, error, True)
    return redirect(url_for(page.route, **page.page_args, draft=token), code=303)


def _switching() -> bool:
    """Whether this post is a language button's: the form sent to be shown again in another language."""
    return request.method == "POST" and SWITCH_LANGUAGE in request.form


def _switched(parts: Components, page: FormPage, form: FlaskForm) -> Response:
    """The page in the language asked for (its address says it), with what was typed and, on a
    refused form, what was wrong: nothing is checked or sent to Cognito."""
    shown = parts.drafts.open(request.args.get("draft")) or Draft()
    draft = shown.but_values(request.form.to_dict(flat=False), kept_fields(form))
    args = {**page.page_args, "draft": parts.drafts.seal(draft)} if not draft.empty else page.page_args
    return redirect(url_for(page.route, **args), code=303)


def _code_flow(req: SignupRequest, form: FlaskForm) -> Flow:
    """The code page's Flow, or a returning person's, named by what they typed."""
    return req.flow if req.flow is not None else Flow(form.username.data, kind=Kind.RETURNING)


def _ways_on(parts: Components, username: str | None, *, finish: bool = True) -> WaysOn:
    """Where a person whose account may exist can go: sign in, a new password, or finishing a
    sign-up started elsewhere (each filled in with the username, sealed, when it is known)."""
    prefill = parts.flows.seal(Flow(username)) if username else None
    return WaysOn(
        sign_in=_sign_in_url(None, parts, None),
        forgot=url_for(".forgot", flow=prefill) if prefill else url_for(".forgot"),
        finish=(url_for(".confirm", flow=prefill) if prefill else url_for(".confirm")) if finish else None,
    )


def _ways_on_through(parts: Components, onward: str, *, finish: bool) -> WaysOn:
    """The same ways on, from a page with a sealed flow: through `onward` (its address with that
    flow), which seals what each needs only when one is followed."""
    return WaysOn(
        sign_in=_sign_in_url(None, parts, None),
        forgot=f"{onward}&to=forgot",
        finish=f"{onward}&to=finish" if finish else None,
    )


def _sign_in_url(req: SignupRequest | None, parts: Components, username: str | None) -> str | None:
    """The site's sign-in: Managed Login (with the username filled in when it is the person's own
    account), else the site's sign-in page."""
    state = req.carried.state if req else None
    return hand_off_url(parts.settings.sign_in, username or "", state) or parts.settings.sign_in_url


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
    if flow.kind in ROUTE_OF_KIND:
        return redirect(url_for(ROUTE_OF_KIND[flow.kind], flow=seal(flow)))
    if flow.kind in OWN_PASSWORD:
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
