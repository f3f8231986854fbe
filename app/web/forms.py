"""Forms, built once at start-up from the declaration.

Each check Cognito would make (username rules, password policy, attribute formats and limits)
runs here first, so a person reads a clear message next to the right input instead of a refusal
from Cognito. Values are normalised as they are checked: email addresses by email-validator,
phone numbers to E.164.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import escape
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, Field, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, ValidationError

from app.config.kinds import KINDS, STANDARD_ATTRIBUTES, FieldOptions
from app.config.model import LINK, MAX_VALUE_LENGTH, Attribute, Declaration, LocalizedText, PasswordPolicy
from app.config.passwords import needs, password_rules
from app.signup.bots import HONEYPOT_FIELD
from app.signup.csrf import FormTokens, SignedFormToken
from app.signup.drafts import Draft
from app.web.fields import Characters, Present, localized, strip, too_long

MAX_USERNAME_LENGTH = 128
MAX_PASSWORD_LENGTH = 256
CODE_DIGITS = 6  # every code Cognito sends: sign-up, new code, new password
MAX_ENCODED_DATA_LENGTH = 131072
# A run of digits, maybe grouped: "123456", "123 456", "123-456".
_DIGITS = re.compile(r"\d(?:[\s.-]?\d)*")
_USERNAME_CATEGORIES = ("L", "M", "S", "N", "P")  # Cognito: letters, marks, symbols, numbers, punctuation


class LinkedText:
    """A declared text in the request's language whose [text](https://...) parts are links.

    Everything else is escaped; the links open in a new tab, so the form and what was typed stay.
    As a plain string (in an error message), the links are their text alone.
    """

    def __init__(self, text: LocalizedText) -> None:
        self._text = localized(text)

    def __html__(self) -> str:
        return LINK.sub(
            lambda link: f'<a href="{link.group(2)}" target="_blank" rel="noopener">{link.group(1)}</a>',
            str(escape(str(self._text))),
        )

    def __str__(self) -> str:
        return LINK.sub(r"\1", str(self._text))


def cognito_username(form: FlaskForm, field: Field) -> None:
    """Cognito's username rules: no spaces; letters, marks, symbols, numbers and punctuation only."""
    value = field.data or ""
    if any(unicodedata.category(char)[0] not in _USERNAME_CATEGORIES for char in value):
        raise ValidationError(_l("Use letters, numbers and punctuation only, with no spaces."))


# The name of the language buttons (templates/base.html): a post that only asks for the page again
# in another language, with what was typed (app.web.views).
SWITCH_LANGUAGE = "switch_language"
# What is wrong with a password, by the name app.signup.drafts keeps it under: said again on the page a
# refused post is redirected to, where the password itself never goes.
PASSWORD_MESSAGES = {
    "required": _l("Enter a password."),
    "spaces": _l("Do not start or end the password with a space."),
    "confirm_required": _l("Enter the password again."),
    "mismatch": _l("The two passwords are not the same."),
}


class PasswordCheck:
    """The pool's password policy: one message that names everything the password still needs."""

    def __init__(self, policy: PasswordPolicy) -> None:
        self.rules = password_rules(policy)

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if not field.data:
            return
        missing = [rule for rule in self.rules if not rule.met(field.data)]
        if missing:
            field.errors.append(needs(missing))
        if field.data != field.data.strip():
            field.errors.append(PASSWORD_MESSAGES["spaces"])


def password_problems(form: FlaskForm) -> tuple[str, ...]:
    """What is wrong with the posted password, by name (PASSWORD_MESSAGES, "needs:upper,symbol",
    "long:300"), so that the page it goes back to can say it again without holding the password."""
    if "password" not in form or not (form.password.errors or form.errors.get("password_confirm")):
        return ()
    value = form.password.data or ""
    problems = []
    if not value:
        problems.append("required")
    elif len(value) > MAX_PASSWORD_LENGTH:
        problems.append(f"long:{len(value)}")
    else:
        missing = [rule.key for rule in form.password_rules if not rule.met(value)]
        if missing:
            problems.append("needs:" + ",".join(missing))
        if value != value.strip():
            problems.append("spaces")
    if "password_confirm" in form:
        again = form.password_confirm.data or ""
        problems += ["confirm_required"] if not again else ["mismatch"] if again != value else []
    return tuple(problems)


def kept_fields(form: FlaskForm) -> list[str]:
    """The fields a draft keeps (app.signup.drafts): what a person typed, never a password, the form's
    token, the honeypot or the advanced-security data; with a phone number, its country."""
    kept = []
    for field in form:
        if field.type in ("CSRFTokenField", "PasswordField") or field.name in (HONEYPOT_FIELD, "encoded_data"):
            continue
        kept.append(field.name)
        if field.type == "TelField":
            kept.append(f"{field.name}_region")
    return kept


def refill(form_class: type[FlaskForm], draft: Draft) -> FlaskForm:
    """A form as its draft brings it back: filled in, and, when it was refused, checked again (in
    this page's language) and told again what was wrong with the password."""
    posted = MultiDict([(name, value) for name, values in draft.values.items() for value in values])
    form = form_class(formdata=posted)
    form.prefilled = True
    form.posted = posted  # what a check that reads more than its own field reads (a phone number's country)
    if draft.failed:
        for field in form:
            if field.name in kept_fields(form):
                field.validate(form)
        _say_again(form, draft.password)
    return form


def _say_again(form: FlaskForm, problems: tuple[str, ...]) -> None:
    for problem in problems:
        name, _, detail = problem.partition(":")
        if name == "needs":
            text = needs([rule for rule in form.password_rules if rule.key in detail.split(",")])
        elif name == "long":
            text = too_long(MAX_PASSWORD_LENGTH, int(detail))
        elif name in PASSWORD_MESSAGES:
            text = PASSWORD_MESSAGES[name]
        else:
            continue
        field = form.password_confirm if name in ("confirm_required", "mismatch") else form.password
        field.errors = [*field.errors, text]


def code_digits(value: Any) -> Any:
    """The code in what people paste: "123-456", "123 456", or the whole line "Your code is 123456."
    (the longest run of digits); anything without digits as it was typed, to be refused."""
    if not isinstance(value, str):
        return value
    runs = [re.sub(r"\D", "", run) for run in _DIGITS.findall(value)]
    return max(runs, key=len) if runs else value.strip()


def six_digits(form: FlaskForm, field: Field) -> None:
    """A code is six digits: anything else is refused here, and costs none of the tries Cognito allows."""
    if field.data and not (field.data.isdigit() and len(field.data) == CODE_DIGITS):
        raise ValidationError(_l("Enter the 6 digits of the code we sent you, like 123456."))


@dataclass(frozen=True)
class FormClasses:
    """Every form class the pages use, built once."""

    signup: type[FlaskForm]
    confirm: type[FlaskForm]  # the code, for a person whose code page says who they are
    confirm_returning: type[FlaskForm]  # username and code, for a person who comes back later
    new_password: type[FlaskForm]  # a code and a password of the person's own
    forgot: type[FlaskForm]  # the username, for a code to set a new password


def _base(tokens: FormTokens, name: str) -> type[FlaskForm]:
    """A form class whose CSRF token is signed and names the form (app.signup.csrf), not tied to a session."""
    meta = type("Meta", (), {"csrf_class": SignedFormToken, "form_tokens": tokens, "form_name": name})
    return type(f"{name.capitalize()}Base", (FlaskForm,), {"Meta": meta})


def build_forms(
    declaration: Declaration,
    *,
    tokens: FormTokens,
    advanced_security: bool,
    check_deliverability: bool,
) -> FormClasses:
    """Build the form classes from the declaration: fresh classes, never a mutated shared one."""
    # Cognito's advanced-security data comes from its script, which only the sign-up form loads
    # (app.web.headers: the pages after it hold the sealed flow in their address, and load no third party's code).
    extra: dict[str, Field] = {}
    if advanced_security:
        extra["encoded_data"] = HiddenField(filters=[lambda v: v if v and len(v) <= MAX_ENCODED_DATA_LENGTH else None])

    def username() -> Field:
        return _username_field(declaration, check_deliverability)

    def code() -> Field:
        # Made after the username field: WTForms orders fields by when they were made. Room for a
        # pasted line ("Your code is 123456"), from which the digits are taken.
        return StringField(
            _l("Confirmation code"),
            description=_l("The code has 6 digits."),
            validators=[Present(_l("Enter the code we sent you.")), six_digits],
            filters=[code_digits],
            render_kw={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autocapitalize": "none",
                "maxlength": "64",
                "spellcheck": "false",
            },
        )

    confirm_base = _base(tokens, "confirm")
    new_password = type(
        "NewPasswordForm", (_base(tokens, "password"),), {"code": code(), **_password_fields(declaration)}
    )
    new_password.password_rules = password_rules(declaration.password_policy)  # type: ignore[attr-defined]
    return FormClasses(
        signup=_signup_form(_base(tokens, "signup"), declaration, extra, check_deliverability),
        confirm=type("ConfirmForm", (confirm_base,), {"code": code()}),
        confirm_returning=type("ConfirmReturningForm", (confirm_base,), {"username": username(), "code": code()}),
        new_password=new_password,
        forgot=type("ForgotForm", (_base(tokens, "forgot"),), {"username": username()}),
    )


def _password_fields(declaration: Declaration) -> dict[str, Field]:
    """A new password, checked against the pool's policy; the same again only where the declaration
    asks for it (`confirm_password`): by default the person shows it to check what they typed."""
    fields = {
        "password": PasswordField(
            _l("Password"),
            validators=[
                InputRequired(PASSWORD_MESSAGES["required"]),
                Characters(MAX_PASSWORD_LENGTH),
                PasswordCheck(declaration.password_policy),
            ],
            render_kw={"autocomplete": "new-password"},
        )
    }
    if declaration.confirm_password:
        fields["password_confirm"] = PasswordField(
            _l("Confirm password"),
            validators=[
                InputRequired(PASSWORD_MESSAGES["confirm_required"]),
                EqualTo("password", PASSWORD_MESSAGES["mismatch"]),
            ],
            render_kw={"autocomplete": "new-password"},
        )
    return fields


def _signup_form(
    base: type[FlaskForm], declaration: Declaration, extra: dict[str, Field], check_deliverability: bool
) -> type[FlaskForm]:
    fields: dict[str, Any] = {"username": _username_field(declaration, check_deliverability)}
    if declaration.password:
        fields.update(_password_fields(declaration))
    for attribute in declaration.form_attributes:
        fields[attribute.field_name] = _attribute_field(attribute, declaration, check_deliverability)
    for consent in declaration.consents:
        label = LinkedText(consent.label)
        required = [DataRequired(_l("Tick “%(label)s” to continue.", label=label))] if consent.required else []
        fields[consent.field_name] = BooleanField(label=label, validators=required)
    fields.update(extra)
    # For bots only: people never see the honeypot.
    fields[HONEYPOT_FIELD] = StringField(
        _l("Leave this field empty"), render_kw={"autocomplete": "off", "tabindex": "-1"}
    )
    form_class = type("SignupForm", (base,), fields)
    form_class.password_rules = password_rules(declaration.password_policy)  # type: ignore[attr-defined]
    return form_class


def _username_field(declaration: Declaration, check_deliverability: bool) -> Field:
    """The Username field: a plain username, or the email address or phone number that serves as one."""
    attribute = declaration.username_attribute
    if attribute is None:
        return StringField(
            _l("Username"),
            validators=[Present(_l("Enter a username.")), Characters(MAX_USERNAME_LENGTH), cognito_username],
            filters=[strip],
            render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
        )
    # Cognito's limit on a username applies to the email address or phone number it doubles as.
    as_username = replace(attribute, required=True, max_length=min(attribute.max_length, MAX_USERNAME_LENGTH))
    field = _attribute_field(as_username, declaration, check_deliverability)
    field.kwargs.setdefault("render_kw", {})["autocomplete"] = "username"
    field.kwargs["render_kw"].pop("data-maxlength", None)  # a username's limit is Cognito's, not worth a count
    if attribute.name == "email":
        field.kwargs["validators"] = [*field.kwargs.get("validators", []), in_lower_case]
    return field


def in_lower_case(form: FlaskForm, field: Field) -> None:
    """An email address that is the username is sent in one form, lower case, on every call: Ann.Cap@
    and ann.cap@ are one person whatever the pool's CaseSensitive setting, and the person who comes
    back typing it otherwise still finds their account."""
    if field.data:
        field.data = field.data.lower()


def _attribute_field(attribute: Attribute, declaration: Declaration, check_deliverability: bool) -> Field:
    """One field for one attribute, with the checks its kind, limits and pattern call for (app.config.kinds)."""
    standard = STANDARD_ATTRIBUTES.get(attribute.name)
    builtin = standard.label if standard else None
    label = localized(attribute.label, builtin) if attribute.label else builtin or _custom_label(attribute)
    common: dict[str, Any] = {
        "label": label,
        "description": localized(attribute.help) if attribute.help else "",
        "default": attribute.default,
        "render_kw": {},
    }
    if attribute.autocomplete or (standard and standard.autocomplete):
        common["render_kw"]["autocomplete"] = attribute.autocomplete or standard.autocomplete  # type: ignore[union-attr]
    if attribute.max_length < MAX_VALUE_LENGTH and KINDS[attribute.kind].counted:
        common["render_kw"]["data-maxlength"] = str(attribute.max_length)  # the page counts what is typed
    options = FieldOptions(
        declaration.default_phone_region, declaration.allowed_phone_regions, check_deliverability=check_deliverability
    )
    return KINDS[attribute.kind].field(attribute, options, _required_message(attribute, label), common)


def _custom_label(attribute: Attribute) -> str:
    return attribute.name.removeprefix("custom:").replace("_", " ").capitalize()


def _required_message(attribute: Attribute, label: Any) -> Any:
    """What a required field left empty says; it names the field, for the summary at the top."""
    if attribute.required_message:
        return localized(attribute.required_message)
    standard = STANDARD_ATTRIBUTES.get(attribute.name)
    if standard is not None:
        return standard.required_message
    return KINDS[attribute.kind].required(label)


def signup_values(declaration: Declaration, form: FlaskForm) -> tuple[str, str | None, dict[str, str]]:
    """The checked form as plain values for the service: username, password (None when the pool
    signs in without one) and attributes."""
    username = form.username.data
    attributes: dict[str, str] = {}
    if declaration.username_attribute is not None:
        attributes[declaration.username] = username
    for attribute in declaration.form_attributes:
        value = KINDS[attribute.kind].to_cognito(form[attribute.field_name].data)
        if value is not None:
            attributes[attribute.name] = value
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for consent in declaration.consents:
        if form[consent.field_name].data is True:  # an unticked box is never a consent
            attributes[consent.attribute] = f"{consent.version} {now}"
    return username, form.password.data if declaration.password else None, attributes
