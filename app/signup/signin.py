"""Signing in at the end of the flow, without typing the password again.

Two ways, by SIGNUP_SIGN_IN:

- **hand-off** (any pool): the last step continues to the site's Managed Login, with the username
  filled in (`login_hint`) and the `state` the embedding site passed in; Managed Login signs the
  person in and sends them to the site's OAuth callback with a code. Managed Login refuses to be
  framed, so inside an iframe the hand-off is a link to the top window.
- **immediate** (pools on the Essentials or Plus plan whose client allows USER_AUTH): SignUp's
  Session goes to ConfirmSignUp, whose Session signs the account in (app.signup.steps.sign_in); the tokens
  are posted to the operator's callback only. Any failure falls back to the hand-off, when set up,
  or the done page.

Before the flow starts, the identity providers the declaration lists (`[[identity_providers]]`) are
buttons above the sign-up form, set up as the hand-off is: each goes, in the top window, to Managed
Login's authorize address with `identity_provider`, so a person signs up through Google or their
company's IdP and reaches the site's callback signed in, never typing a password here.
"""

from __future__ import annotations

from urllib.parse import urlencode

from app.config.settings import SignIn

MAX_STATE_LENGTH = 512


def hand_off_url(sign_in: SignIn, username: str, state: str | None) -> str | None:
    """Managed Login's authorize address, when the hand-off is set up; with the username filled in
    (`login_hint`) only for an account the person made their own in this flow (app.signup.flow.OWN_PASSWORD)."""
    return _authorize_url(sign_in, state, login_hint=username)


def provider_url(sign_in: SignIn, provider: str, state: str | None) -> str | None:
    """Managed Login's authorize address that goes straight to one of the pool's identity providers
    (`identity_provider`), when the hand-off is set up: the provider signs the person in, Cognito
    makes or finds their federated account, and the site's callback gets a code as after the hand-off."""
    return _authorize_url(sign_in, state, identity_provider=provider)


def _authorize_url(sign_in: SignIn, state: str | None, **more: str) -> str | None:
    if not (sign_in.domain and sign_in.redirect_uri):
        return None
    query = {
        "response_type": "code",
        "client_id": sign_in.client_id,
        "redirect_uri": sign_in.redirect_uri,
        "scope": sign_in.scope,
    }
    query |= {name: value for name, value in more.items() if value}
    if state:
        query["state"] = state
    return f"{sign_in.domain}/oauth2/authorize?{urlencode(query)}"


def is_state(value: str) -> bool:
    """An OAuth `state` the embedding site may pass through the flow: short, printable ASCII."""
    return 0 < len(value) <= MAX_STATE_LENGTH and all("!" <= char <= "~" for char in value)
