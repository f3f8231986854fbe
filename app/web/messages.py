"""Every message the flow shows a person, in one keyed table (the forms' field checks keep theirs),
and the words of the error pages, by HTTP status.

The service and the steps raise the app's errors by key; pages look the text up here, in the
request's language. A key may have variants: for the pool's username mode ("key.email",
"key.phone_number"), so that a person whose username is their email address reads "email address",
and for the page ("key.signup"), where one page must say more than another.
"""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

MESSAGES: dict[str, LazyString] = {
    # Cognito's answers a person can act on.
    "password_refused": _l("This password was not accepted. Choose a different, stronger one."),
    "username_exists": _l("An account with this username already exists."),
    "username_exists.email": _l("An account with this email address already exists."),
    "username_exists.phone_number": _l("An account with this phone number already exists."),
    "alias_exists": _l("This email address or phone number already belongs to another account."),
    "user_not_found": _l("We found no account with this username. Check it, or sign up again."),
    "user_not_found.email": _l("We found no account with this email address. Check it, or sign up again."),
    "user_not_found.phone_number": _l("We found no account with this phone number. Check it, or sign up again."),
    "wrong_code": _l("That code is not right. Check the code we sent you and try again."),
    "wrong_code_or_confirmed": _l(
        "That code is not right. Check the code we sent you and try again. "
        "If you have already confirmed your account, you can sign in."
    ),
    "code_expired": _l("That code has expired. Ask for a new one below."),
    "code_not_delivered": _l(
        "We could not send you a code. Check your email address or phone number, then ask for a new code."
    ),
    "too_many_wrong_codes": _l("Too many wrong codes. After the wait, ask for a new code."),
    "too_many_requests": _l("Too many requests right now."),
    "asked_too_often": _l("You have asked too many times."),
    "sending_limit": _l(
        "We could not finish creating your account because of a sending limit. "
        "If you received a code, enter it on the confirmation page; otherwise try again later."
    ),
    "blocked": _l("Your request was blocked. If you think this is a mistake, contact the site owner."),
    "bad_format": _l("Check this value: it is not in a format we can accept."),
    "attribute_required": _l("Fill this in: it is needed to create your account."),
    "not_accepted": _l("Your sign-up was not accepted."),
    "already_confirmed": _l("Your account is already confirmed."),
    "unavailable": _l("We could not do that just now. Please try again in a minute."),
    "unavailable.signup": _l(
        "We could not create your account just now. Please try again in a minute. "
        "Your details are still here, but type your password again."
    ),
    # The app's own checks.
    "too_many_signups": _l("Too many sign-ups from your network."),
    "too_many_codes": _l("Too many codes tried."),
    "too_many_resends": _l("You cannot ask for another code yet."),
    "bot_refused": _l("We could not accept this form. Check your details, then select “Create account” again."),
    "captcha_missing": _l("Please complete the check that you are a person."),
    "captcha_unavailable": _l("We could not check that you are a person. Please try again in a minute."),
    # Pages that were open too long, or whose details could not be read.
    "form_expired": _l(
        "This form was open for a long time, so we could not accept it. Check your details, then send the form again."
    ),
    "flow_expired": _l("This page was open for more than a day. Enter the code we sent you, or ask for a new one."),
    "flow_unreadable": _l(
        "We could not tell which account this page was for. "
        "Enter your details and the code we sent you, or ask for a new code."
    ),
    # Invitations (app.invite).
    "invitation_needed": _l(
        "You need an invitation to sign up here. Ask the person who invited you for the link they were given."
    ),
    "invitation_expired": _l("This invitation link has expired. Ask for a new one, or sign up without it."),
    "invitation_expired.required": _l(
        "This invitation link has expired. Ask the person who invited you for a new one."
    ),
    "invitation_invalid": _l("We could not read this invitation link. Check that it is whole, or sign up without it."),
    "invitation_invalid.required": _l(
        "We could not read this invitation link. Check that it is whole, or ask for a new one."
    ),
    "invitation_other_email": _l("This invitation is for another email address. Use the address it was sent to."),
    "invited": _l("You were invited to create an account with this email address."),
    # Unfinished sign-ups (SECURITY.md, "Unconfirmed accounts").
    "form_used": _l(
        "This form was already used to create an account. To create another one, check the details, "
        "then select “Create account” again."
    ),
    "form_sent_before": _l(
        "You had sent this form before, so your account was created then, with the details and password you sent "
        "that time. Enter the code we sent you."
    ),
    "sign_up_replaced": _l(
        "A newer sign-up was started with these details, so this page no longer works. "
        "Sign up again to create your account."
    ),
    "confirmed_choose_password": _l(
        "Your account is confirmed. So that only you know its password, choose a new one: we sent you a code for it."
    ),
    "confirmed_ask_for_code": _l(
        "Your account is confirmed. So that only you know its password, choose a new one: "
        "select “Send a new code” to get a code for it."
    ),
    "sign_up_unfinished": _l(
        "This account's sign-up was never finished, so we sent you a code to finish it. "
        "You choose a new password straight after."
    ),
    "not_verified": _l("This account's sign-up was never finished."),
    "too_many_codes_sent": _l("We have sent too many codes to this address."),
    # Notices.
    "code_sent": _l("We sent you a new code."),
    # Words of the pages that depend on what serves as the username.
    "returning_intro": _l("Enter your username and the code we sent you. No code, or it expired? Ask for a new one."),
    "returning_intro.email": _l(
        "Enter your email address and the code we sent you. No code, or it expired? Ask for a new one."
    ),
    "returning_intro.phone_number": _l(
        "Enter your phone number and the code we sent you. No code, or it expired? Ask for a new one."
    ),
    "already_have_account": _l("Already have an account with this username?"),
    "already_have_account.email": _l("Already have an account with this email address?"),
    "already_have_account.phone_number": _l("Already have an account with this phone number?"),
    "forgot_intro": _l("Enter your username. We will send a code to set a new password."),
    "forgot_intro.email": _l("Enter your email address. We will send a code there to set a new password."),
    "forgot_intro.phone_number": _l("Enter your phone number. We will send a code there to set a new password."),
}


# The error pages' title and text, by status; any other status gets the generic pair.
ERROR_PAGES: dict[int, tuple[LazyString, LazyString]] = {
    404: (_l("Page not found"), _l("There is no page at this address. Check it, or start from the sign-up form.")),
    405: (_l("That did not work"), _l("This page cannot be used that way. Start again from the sign-up form.")),
    413: (_l("Too much data"), _l("What you sent was too large. Shorten your answers and try again.")),
    429: (_l("Too many attempts"), _l("Please wait a little, then try again.")),
    403: (
        _l("Sent from another site"),
        _l("This form was sent from another website, so we did not accept it. Fill in the sign-up form here."),
    ),
    503: (_l("Service unavailable"), MESSAGES["unavailable"]),
}
GENERIC_ERROR_PAGE = (_l("Something went wrong"), _l("We could not handle your request. Please try again."))


def error_page(status: int) -> tuple[LazyString, LazyString]:
    """An error page's title and text."""
    return ERROR_PAGES.get(status, GENERIC_ERROR_PAGE)


def text(key: str, *variants: str) -> LazyString:
    """The message for a key: its first variant that exists, else the plain one."""
    for variant in variants:
        if f"{key}.{variant}" in MESSAGES:
            return MESSAGES[f"{key}.{variant}"]
    return MESSAGES[key]
