"""Forms, built once at start-up from the declaration.

Each check Cognito would make (username rules, password policy, attribute formats and limits)
runs here first, so a person reads a clear message next to the right input instead of a refusal
from Cognito. Values are normalised as they are checked: email addresses by email-validator,
phone numbers to E.164.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import phonenumbers
from babel import Locale
from babel.lists import format_list
from email_validator import EmailNotValidError, validate_email
from flask import request
from flask_babel import LazyString, get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import escape
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    Field,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
    URLField,
)
from wtforms.validators import (
    URL,
    AnyOf,
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)
from wtforms.widgets import TextInput

from app.bots import HONEYPOT_FIELD
from app.csrf import FormTokens, SignedFormToken
from app.declaration import LINK, Attribute, Declaration, LocalizedText, PasswordPolicy
from app.i18n import DEFAULT
from app.passwords import needs, password_rules

MAX_USERNAME_LENGTH = 128
MAX_PASSWORD_LENGTH = 256
MAX_CODE_LENGTH = 2048
MAX_ENCODED_DATA_LENGTH = 131072
TOO_LONG = _l("This is too long. Use at most %(max)d characters.")
_USERNAME_CATEGORIES = ("L", "M", "S", "N", "P")  # Cognito: letters, marks, symbols, numbers, punctuation

STANDARD_LABELS = {
    "address": _l("Address"),
    "birthdate": _l("Date of birth"),
    "email": _l("Email address"),
    "family_name": _l("Last name"),
    "gender": _l("Gender"),
    "given_name": _l("First name"),
    "locale": _l("Language"),
    "middle_name": _l("Middle name"),
    "name": _l("Full name"),
    "nickname": _l("Nickname"),
    "phone_number": _l("Phone number"),
    "picture": _l("Picture address"),
    "preferred_username": _l("Preferred username"),
    "profile": _l("Profile page"),
    "website": _l("Website"),
    "zoneinfo": _l("Time zone"),
}
# What a required standard attribute left empty says, in the summary too: "Enter your first name.".
REQUIRED_MESSAGES = {
    "address": _l("Enter your address."),
    "birthdate": _l("Enter your date of birth."),
    "email": _l("Enter your email address."),
    "family_name": _l("Enter your last name."),
    "gender": _l("Enter your gender."),
    "given_name": _l("Enter your first name."),
    "locale": _l("Enter your language."),
    "middle_name": _l("Enter your middle name."),
    "name": _l("Enter your full name."),
    "nickname": _l("Enter a nickname."),
    "phone_number": _l("Enter your phone number."),
    "picture": _l("Enter the address of your picture."),
    "preferred_username": _l("Enter a preferred username."),
    "profile": _l("Enter the address of your profile page."),
    "website": _l("Enter the address of your website."),
    "zoneinfo": _l("Enter your time zone."),
}
AUTOCOMPLETE = {
    "address": "street-address",
    "birthdate": "bday",
    "email": "email",
    "family_name": "family-name",
    "gender": "sex",
    "given_name": "given-name",
    "locale": "language",
    "middle_name": "additional-name",
    "name": "name",
    "nickname": "nickname",
    "phone_number": "tel",
    "picture": "photo",
    "profile": "url",
    "website": "url",
}


def localized(text: LocalizedText, builtin: Any = None) -> LazyString:
    """A declared text in the request's language: exact locale, its language, then the default.

    `builtin` is the app's own translated text for the same thing (a standard attribute's name):
    a declared text without this language gives way to it, rather than showing another language.
    """

    def pick() -> str:
        locale = get_locale()
        language = getattr(locale, "language", "")
        for key in (str(locale), language):
            if key in text:
                return text[key]
        if builtin is not None and language != DEFAULT:
            return str(builtin)
        for key in ("", DEFAULT):
            if key in text:
                return text[key]
        return next(iter(text.values()))

    return LazyString(pick)


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


class EmailAddress:
    """Checks syntax with email-validator and replaces the value by its normalised form."""

    def __init__(self, check_deliverability: bool = False) -> None:
        self.check_deliverability = check_deliverability

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if not field.data:
            return
        try:
            checked = validate_email(field.data, check_deliverability=self.check_deliverability)
        except EmailNotValidError as err:
            raise ValidationError(_l("Enter an email address like name@example.com.")) from err
        field.data = checked.normalized


class PhoneNumber:
    """Parses a phone number as people type it and replaces the value by its E.164 form.

    With allowed regions, numbers elsewhere are refused before any text message is sent: premium
    numbers abroad are how SMS pumping earns money.
    """

    def __init__(self, default_region: str | None = None, allowed_regions: tuple[str, ...] = ()) -> None:
        self.default_region = default_region
        self.allowed_regions = allowed_regions

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if not field.data:
            return
        # The page script's country list, when there is one, says where a local number belongs.
        chosen = request.form.get(f"{field.name}_region", "")
        region = chosen if chosen in phonenumbers.SUPPORTED_REGIONS else self.default_region
        try:
            number = phonenumbers.parse(field.data, region)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise ValidationError(_l("Enter a phone number with its country code, like +44 7700 900123."))
        if self.allowed_regions and phonenumbers.region_code_for_number(number) not in self.allowed_regions:
            territories = Locale.parse(str(get_locale())).territories
            names = format_list([territories.get(r, r) for r in self.allowed_regions], locale=get_locale())
            raise ValidationError(gettext("We can only send codes to phone numbers in %(regions)s.", regions=names))
        field.data = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


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


class _OneMessage:
    """A field whose value must first be read (a number, a date): one clear message when it cannot be.

    An empty value is no value at all (None): a required field says so, an optional one is simply
    not sent.
    """

    unreadable: Any

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not "".join(valuelist).strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)  # type: ignore[misc]
        except ValueError as err:
            raise ValueError(self.unreadable) from err

    def pre_validate(self, form: FlaskForm) -> None:
        if self.process_errors:  # type: ignore[attr-defined]
            raise StopValidation()  # the message above is enough; skip the range checks


class WholeNumberField(_OneMessage, IntegerField):
    unreadable = _l("Enter a whole number, like 12.")


class DayField(_OneMessage, DateField):
    unreadable = _l("Enter a date, like 2026-05-31.")


class DateTimeField(_OneMessage, DateTimeLocalField):
    unreadable = _l("Enter a date and time, like 2026-05-31 09:30.")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


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
            filters=[_strip],
            render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
        )
    # Cognito's limit on a username applies to the email address or phone number it doubles as.
    as_username = replace(attribute, required=True, max_length=min(attribute.max_length, MAX_USERNAME_LENGTH))
    field = _attribute_field(as_username, declaration, check_deliverability)
    field.kwargs.setdefault("render_kw", {})["autocomplete"] = "username"
    return field


def _attribute_field(attribute: Attribute, declaration: Declaration, check_deliverability: bool) -> Field:
    """One field for one attribute, with the checks its type, limits and pattern call for."""
    required = attribute.required
    builtin = STANDARD_LABELS.get(attribute.name)
    label = localized(attribute.label, builtin) if attribute.label else builtin or _custom_label(attribute)
    kwargs: dict[str, Any] = {
        "label": label,
        "description": localized(attribute.help) if attribute.help else "",
        "default": attribute.default,
        "render_kw": {},
    }
    if attribute.name in AUTOCOMPLETE:
        kwargs["render_kw"]["autocomplete"] = AUTOCOMPLETE[attribute.name]
    validators: list[Callable[..., None]] = []
    kind = attribute.kind

    if kind == "boolean":
        if required:
            validators.append(DataRequired(_required_message(attribute, label)))
        return BooleanField(validators=validators, **kwargs)

    presence: Callable[..., None] = InputRequired(_required_message(attribute, label)) if required else Optional()
    validators.append(presence)
    if kind == "number":
        validators.append(
            NumberRange(
                attribute.min_value,
                attribute.max_value,
                _range_message(attribute.min_value, attribute.max_value),
            )
        )
        # A text input: a mouse wheel over a number input changes what was typed.
        kwargs["render_kw"]["inputmode"] = "numeric"
        return WholeNumberField(validators=validators, widget=TextInput(), **kwargs)
    if kind == "datetime":
        return DateTimeField(validators=validators, format="%Y-%m-%dT%H:%M", **kwargs)
    if kind == "date":
        return DayField(validators=validators, **kwargs)
    if kind == "choice":
        # A first, empty option: HTML requires one on a required list, and it says a choice is needed.
        choices = [
            SelectChoice("", _l("Choose…")),
            *(SelectChoice(value, _choice_label(attribute, value)) for value in attribute.choices),
        ]
        validators.append(AnyOf(["", *attribute.choices], _l("Choose one of the options.")))
        return SelectField(choices=choices, validators=validators, validate_choice=False, **kwargs)

    validators.append(
        Length(
            min=attribute.min_length or -1,
            max=attribute.max_length,
            message=_length_message(attribute.min_length, attribute.max_length),
        )
    )
    if attribute.pattern:
        validators.append(Regexp(rf"(?:{attribute.pattern})\Z", message=_l("Check the format of this value.")))
    kwargs["filters"] = [_strip]
    if kind == "email":
        validators.append(EmailAddress(check_deliverability))
        kwargs["render_kw"].update(autocapitalize="none", spellcheck="false")
        return EmailField(validators=validators, **kwargs)
    if kind == "phone":
        validators.append(PhoneNumber(declaration.default_phone_region, declaration.allowed_phone_regions))
        return TelField(validators=validators, **kwargs)
    if kind == "url":
        validators.append(URL(message=_l("Enter a web address that starts with https://.")))
        return URLField(validators=validators, **kwargs)
    return StringField(validators=validators, **kwargs)


def _custom_label(attribute: Attribute) -> str:
    return attribute.name.removeprefix("custom:").replace("_", " ").capitalize()


def _choice_label(attribute: Attribute, value: str) -> Any:
    labels = attribute.choice_labels.get(value)
    return localized(labels) if labels else value


def _required_message(attribute: Attribute, label: Any) -> Any:
    """What a required field left empty says; it names the field, for the summary at the top."""
    if attribute.required_message:
        return localized(attribute.required_message)
    if attribute.name in REQUIRED_MESSAGES:
        return REQUIRED_MESSAGES[attribute.name]
    if attribute.kind == "choice":
        return _l("Choose “%(label)s”.", label=label)
    if attribute.kind == "boolean":
        return _l("Tick “%(label)s” to continue.", label=label)
    return _l("Enter “%(label)s”.", label=label)


def _range_message(low: int | None, high: int | None) -> Any:
    if low is not None and high is not None:
        return _l("Enter a whole number from %(low)d to %(high)d.", low=low, high=high)
    if low is not None:
        return _l("Enter a whole number of at least %(low)d.", low=low)
    if high is not None:
        return _l("Enter a whole number of at most %(high)d.", high=high)
    return _l("Enter a whole number.")


def _length_message(low: int | None, high: int) -> Any:
    if low:
        return _l("Use from %(low)d to %(high)d characters.", low=low, high=high)
    return _l("Use at most %(high)d characters.", high=high)


def signup_values(declaration: Declaration, form: FlaskForm) -> tuple[str, str | None, dict[str, str]]:
    """The checked form as plain values for the service: username, password (None when the pool
    signs in without one) and attributes."""
    username = form.username.data
    attributes: dict[str, str] = {}
    if declaration.username_attribute is not None:
        attributes[declaration.username] = username
    for attribute in declaration.form_attributes:
        value = form[attribute.field_name].data
        if attribute.kind == "boolean":
            attributes[attribute.name] = "true" if value else "false"
        elif value is None or value == "":
            continue
        elif attribute.kind in ("date", "datetime"):
            attributes[attribute.name] = value.isoformat()
        else:
            attributes[attribute.name] = str(value)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for consent in declaration.consents:
        if form[consent.field_name].data is True:  # an unticked box is never a consent
            attributes[consent.attribute] = f"{consent.version} {now}"
    return username, form.password.data if declaration.password else None, attributes
