"""One object per request of the sign-up flow: what its address carries, what it opened, who sent it.

app.web.views builds it once, before the view runs, and hands it to the view, which passes it on to
the steps and the pages. No step needs a cookie: what one step hands to the next travels in the
pages' addresses, as the values every link carries (`Carried`) and the sealed Flow (app.signup.flow).
What is wrong with the Flow or the invitation an address holds is a `Problem`, a key of
app.web.messages, so that the page can say so.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from app.config.model import Declaration
from app.invite import MAX_TOKEN_LENGTH, Invitation, InvitationError, Invitations
from app.signup.flow import Flow, FlowError, FlowSeal
from app.signup.redirects import safe_return_url
from app.signup.signin import is_state
from app.signup.steps import Visitor


class Problem(StrEnum):
    """Why the Flow or the invitation in an address cannot be used (each a key of app.web.messages)."""

    FLOW_EXPIRED = "flow_expired"  # genuine, but older than a day: it still says who it was for
    FLOW_UNREADABLE = "flow_unreadable"  # forged, cut, or sealed with another key
    INVITATION_EXPIRED = "invitation_expired"
    INVITATION_INVALID = "invitation_invalid"


_INVITATION_PROBLEMS = {"expired": Problem.INVITATION_EXPIRED, "invalid": Problem.INVITATION_INVALID}


@dataclass(frozen=True)
class Carried:
    """The values every address of the flow keeps: app.web.views adds them to each link and form."""

    lang: str | None = None  # a language the app speaks
    return_to: str | None = None  # an allowed return address (app.signup.redirects)
    state: str | None = None  # the site's sign-in state, handed back at the end (app.signup.signin)
    invite: str | None = None  # an invitation token, opened by the request that carries it
    attribution: Mapping[str, str] = field(default_factory=dict)  # declared parameters, cleaned

    @cached_property
    def query(self) -> Mapping[str, str]:
        """As query parameters, in the order links carry them (worked out once: every url_for reads it)."""
        named = {"lang": self.lang, "return_to": self.return_to, "state": self.state, "invite": self.invite}
        return {**{name: value for name, value in named.items() if value}, **self.attribution}


@dataclass(frozen=True)
class SignupRequest:
    """A request of the sign-up flow, as the views, steps and pages need it."""

    carried: Carried
    # The client's address (the connection's peer, or what the trusted proxies say: ProxyFix) and
    # where they came from; the view adds the advanced-security data once the form is checked.
    visitor: Visitor
    recorded: Mapping[str, str]  # attribution the declaration records as attributes
    framed: bool  # the page shows inside an iframe (Sec-Fetch-Dest, sent by every current browser)
    flow: Flow | None = None  # the Flow in the address, when it can be used
    expired_flow: Flow | None = None  # a genuine Flow too old to use, which still says who it was for
    flow_problem: Problem | None = None
    invitation: Invitation | None = None  # the invitation the address carries, when it can be used
    invitation_problem: Problem | None = None


def read_carried(
    args: Mapping[str, str], languages: Collection[str], allowed_return_urls: tuple[str, ...], declaration: Declaration
) -> Carried:
    """The carried values of a query: only what is allowed, and nothing from a request without a query."""
    if not args:  # most page views
        return Carried()
    attribution = {}
    for declared in declaration.attribution:
        value = _printable(args.get(declared.parameter, ""), declared.max_length)
        if value:
            attribution[declared.parameter] = value
    return Carried(
        lang=args["lang"] if args.get("lang") in languages else None,
        return_to=safe_return_url(args.get("return_to", ""), allowed_return_urls),
        state=args["state"] if is_state(args.get("state", "")) else None,
        invite=args["invite"] if 0 < len(args.get("invite", "")) <= MAX_TOKEN_LENGTH else None,
        attribution=attribution,
    )


def read_request(
    carried: Carried,
    declaration: Declaration,
    *,
    flow_token: str | None,
    flows: FlowSeal,
    invitations: Invitations,
    ip: str,
    language: str,
    framed: bool,
) -> SignupRequest:
    """Open the Flow and the invitation the address holds, and say who sent it."""
    recorded, metadata = {}, {}
    for declared in declaration.attribution:
        value = carried.attribution.get(declared.parameter)
        if value and declared.attribute:
            recorded[declared.attribute] = value
        elif value:
            metadata[declared.parameter] = value
    flow = expired = flow_problem = invitation = invitation_problem = None
    if flow_token is not None:
        try:
            flow = flows.open(flow_token)
        except FlowError as err:
            expired = err.flow
            flow_problem = Problem.FLOW_EXPIRED if err.flow else Problem.FLOW_UNREADABLE
    if carried.invite is not None:
        try:
            invitation = invitations.open(carried.invite)
        except InvitationError as err:
            invitation_problem = _INVITATION_PROBLEMS[err.reason]
    return SignupRequest(
        carried=carried,
        visitor=Visitor(ip=ip, language=language, client_metadata=metadata),
        recorded=recorded,
        framed=framed,
        flow=flow,
        expired_flow=expired,
        flow_problem=flow_problem,
        invitation=invitation,
        invitation_problem=invitation_problem,
    )


def _printable(value: str, limit: int) -> str:
    """An attribution value as it may be kept: no control or format characters, at most `limit` long.

    It is only ever stored and passed on, never trusted for anything else."""
    return "".join(char for char in value if unicodedata.category(char)[0] != "C")[:limit].strip()
