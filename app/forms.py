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
from wtforms import BooleanField, Field, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, ValidationError

from app.bots import HONEYPOT_FIELD
from app.csrf import FormTokens, SignedFormToken
from app.fields import TOO_LONG, localized, strip
from app.kinds import KINDS, STANDARD_ATTRIBUTES, FieldOptions
from app.model import LINK, Attribute, Declaration, LocalizedText, PasswordPolicy
from app.passwords import needs, password_rules

MAX_USERNAME_LENGTH = 128
MAX_PASSWORD_LENGTH = 256
MAX_CODE_LENGTH = 2048
MAX_ENCODED_DATA_LENGTH = 131072
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
            field.errors.append(_l("Do not start or end the password with a space."))


def _without_spaces(value: Any) -> Any:
    return re.sub(r"\s+", "", value) if isinstance(value, str) else value


@dataclass(frozen=True)
class FormClasses:
    """Every form class the pages use, built once."""

    signup: type[FlaskForm]
    confirm: type[FlaskForm]  # the code, for a person whose code page says who they are
    confirm_returning: type[FlaskForm]  # username and code, for a person who comes back later


def _base(tokens: FormTokens, name: str) -> type[FlaskForm]:
    """A form class whose CSRF token is signed and names the form (app.csrf), not tied to a session."""
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
    extra: dict[str, Field] = {}
    if advanced_security:
        extra["encoded_data"] = HiddenField(filters=[lambda v: v if v and len(v) <= MAX_ENCODED_DATA_LENGTH else None])

    def username() -> Field:
        return _username_field(declaration, check_deliverability)

    def code() -> Field:
        # Made after the username field: WTForms orders fields by when they were made.
        return StringField(
            _l("Confirmation code"),
            validators=[
                InputRequired(_l("Enter the code we sent you.")),
                Length(max=MAX_CODE_LENGTH, message=TOO_LONG),
            ],
            filters=[_without_spaces],
            render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "autocapitalize": "none"},
        )

    confirm_base = _base(tokens, "confirm")
    return FormClasses(
        signup=_signup_form(_base(tokens, "signup"), declaration, extra, check_deliverability),
        confirm=type("ConfirmForm", (confirm_base,), {"code": code(), **extra}),
        confirm_returning=type(
            "ConfirmReturningForm", (confirm_base,), {"username": username(), "code": code(), **extra}
        ),
    )


def _signup_form(
    base: type[FlaskForm], declaration: Declaration, extra: dict[str, Field], check_deliverability: bool
) -> type[FlaskForm]:
    rules = PasswordCheck(declaration.password_policy)
    fields: dict[str, Any] = {"username": _username_field(declaration, check_deliverability)}
    if declaration.password:
        fields["password"] = PasswordField(
            _l("Password"),
            validators=[
                InputRequired(_l("Enter a password.")),
                Length(max=MAX_PASSWORD_LENGTH, message=TOO_LONG),
                rules,
            ],
            render_kw={"autocomplete": "new-password"},
        )
        fields["password_confirm"] = PasswordField(
            _l("Confirm password"),
            validators=[
                InputRequired(_l("Enter the password again.")),
                EqualTo("password", _l("The two passwords are not the same.")),
            ],
            render_kw={"autocomplete": "new-password"},
        )
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
    form_class.password_rules = rules.rules  # type: ignore[attr-defined]
    return form_class


def _username_field(declaration: Declaration, check_deliverability: bool) -> Field:
    """The Username field: a plain username, or the email address or phone number that serves as one."""
    attribute = declaration.username_attribute
    if attribute is None:
        return StringField(
            _l("Username"),
            validators=[
                InputRequired(_l("Enter a username.")),
                Length(max=MAX_USERNAME_LENGTH, message=TOO_LONG),
                cognito_username,
            ],
            filters=[strip],
            render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
        )
    # Cognito's limit on a username applies to the email address or phone number it doubles as.
    as_username = replace(attribute, required=True, max_length=min(attribute.max_length, MAX_USERNAME_LENGTH))
    field = _attribute_field(as_username, declaration, check_deliverability)
    field.kwargs.setdefault("render_kw", {})["autocomplete"] = "username"
    return field


def _attribute_field(attribute: Attribute, declaration: Declaration, check_deliverability: bool) -> Field:
    """One field for one attribute, with the checks its kind, limits and pattern call for (app.kinds)."""
    standard = STANDARD_ATTRIBUTES.get(attribute.name)
    builtin = standard.label if standard else None
    label = localized(attribute.label, builtin) if attribute.label else builtin or _custom_label(attribute)
    common: dict[str, Any] = {
        "label": label,
        "description": localized(attribute.help) if attribute.help else "",
        "default": attribute.default,
        "render_kw": {},
    }
    if standard and standard.autocomplete:
        common["render_kw"]["autocomplete"] = standard.autocomplete
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
