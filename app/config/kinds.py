"""The kinds of attribute a form asks for, in one table: how each is typed and checked, how its value
goes to Cognito, and which Cognito type holds it.

A kind is how a person types a value (an email address, a date, a choice from a list); a type is how
Cognito stores it (String, Number, Boolean, DateTime). A standard attribute's kind comes from
STANDARD_ATTRIBUTES, a custom one's from its declared type (TYPES), and declared choices make any
string a choice. Adding a kind touches KINDS (and STANDARD_ATTRIBUTES or TYPES, to give it to an
attribute), its example in tests/test_kinds.py, and static/app.js when the page script enhances it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

import phonenumbers
from babel import Locale
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, Field, SelectChoice, SelectField, StringField, TelField, URLField
from wtforms.validators import URL, AnyOf, DataRequired, NumberRange, Optional, Regexp
from wtforms.widgets import TextInput

from app.web.fields import (
    Characters,
    DateTimeField,
    DayField,
    EmailAddress,
    PerLanguage,
    PhoneNumber,
    Present,
    WholeNumberField,
    localized,
    range_message,
    strip,
)

if TYPE_CHECKING:
    from app.config.model import Attribute


class AttributeType(StrEnum):
    """How Cognito stores an attribute, as the declaration's `type` names it."""

    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATETIME = "datetime"


class Kind(StrEnum):
    """How a person types an attribute's value: the field, its checks and its page script."""

    TEXT = "text"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    DATE = "date"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    CHOICE = "choice"


@dataclass(frozen=True)
class FieldOptions:
    """What a field needs besides its attribute: the declaration's phone regions, the settings' email check."""

    default_phone_region: str | None = None
    allowed_phone_regions: tuple[str, ...] = ()
    check_deliverability: bool = False


class FieldFactory(Protocol):
    def __call__(self, attribute: Attribute, options: FieldOptions, required: Any, common: dict[str, Any]) -> Field: ...


@dataclass(frozen=True)
class KindRule:
    """One kind: the Cognito type that holds it, its field, its value for Cognito, its empty-field message."""

    type: AttributeType
    # The field with the checks this kind calls for. `required` is what the field left empty says;
    # `common` holds the label, help, default and render_kw every field has.
    field: FieldFactory
    # A checked value as Cognito stores it; None when nothing is to be sent.
    to_cognito: Callable[[Any], str | None]
    # What a required field of this kind left empty says, naming it by its label.
    required: Callable[[Any], Any]
    # Whether the page counts the characters typed against a declared max_length (typed text).
    counted: bool = False


def _presence(attribute: Attribute, required: Any) -> Callable[..., None]:
    return Present(required) if attribute.required else Optional()


def _typed_text(
    field_class: type[Field], *, check: Callable[[FieldOptions], Any] | None = None, **render_kw: Any
) -> FieldFactory:
    """A field of typed text: present, not too long, the declared pattern, then the kind's own `check`."""

    def make(attribute: Attribute, options: FieldOptions, required: Any, common: dict[str, Any]) -> Field:
        validators = [_presence(attribute, required), Characters(attribute.max_length, attribute.min_length)]
        if attribute.pattern:
            validators.append(Regexp(rf"(?:{attribute.pattern})\Z", message=_l("Check the format of this value.")))
        if check is not None:
            validators.append(check(options))
        common["render_kw"].update(render_kw)
        return field_class(validators=validators, filters=[strip], **common)

    return make


def _phone_page_data(options: FieldOptions) -> dict[str, Any]:
    """For the page script's country list next to a phone number: the allowed regions, named in this language."""
    return {
        "data-countries": PerLanguage(lambda: country_list(str(get_locale()), options.allowed_phone_regions)),
        "data-country-label": PerLanguage(lambda: gettext("Country or region")),
        "data-region": options.default_phone_region or "",
    }


def _phone(attribute: Attribute, options: FieldOptions, required: Any, common: dict[str, Any]) -> Field:
    common["render_kw"].update(_phone_page_data(options))
    make = _typed_text(TelField, check=lambda o: PhoneNumber(o.default_phone_region, o.allowed_phone_regions))
    return make(attribute, options, required, common)


def _number(attribute: Attribute, options: FieldOptions, required: Any, common: dict[str, Any]) -> Field:
    in_range = NumberRange(
        attribute.min_value, attribute.max_value, range_message(attribute.min_value, attribute.max_value)
    )
    # A text input: a mouse wheel over a number input changes what was typed.
    common["render_kw"]["inputmode"] = "numeric"
    return WholeNumberField(validators=[_presence(attribute, required), in_range], widget=TextInput(), **common)


def _boolean(attribute: Attribute, options: FieldOptions, required: Any, common: dict[str, Any]) -> Field:
    return BooleanField(validators=[DataRequired(required)] if attribute.required else [], **common)


def _date(attribute: Attribute, options: FieldOptions, required: Any, common: dict[str, Any]) -> Field:
    return DayField(validators=[_presence(attribute, required)], **common)


def _datetime(attribute: Attribute, options: FieldOptions, required: Any, common: dict[str, Any]) -> Field:
    return DateTimeField(validators=[_presence(attribute, required)], format="%Y-%m-%dT%H:%M", **common)


def _choice(attribute: Attribute, options: FieldOptions, required: Any, common: dict[str, Any]) -> Field:
    # A first, empty option: HTML requires one on a required list, and it says a choice is needed.
    choices = [
        SelectChoice("", _l("Choose…")),
        *(SelectChoice(value, _choice_label(attribute, value)) for value in attribute.choices),
    ]
    validators = [_presence(attribute, required), AnyOf(["", *attribute.choices], _l("Choose one of the options."))]
    return SelectField(choices=choices, validators=validators, validate_choice=False, **common)


def _choice_label(attribute: Attribute, value: str) -> Any:
    labels = attribute.choice_labels.get(value)
    return localized(labels) if labels else value


def _as_text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _as_iso(value: Any) -> str | None:
    return None if value is None or value == "" else value.isoformat()


def _enter(label: Any) -> Any:
    return _l("Enter “%(label)s”.", label=label)


KINDS: dict[Kind, KindRule] = {
    Kind.TEXT: KindRule(AttributeType.STRING, _typed_text(StringField), _as_text, _enter, counted=True),
    Kind.EMAIL: KindRule(
        AttributeType.STRING,
        _typed_text(
            EmailField,
            check=lambda options: EmailAddress(options.check_deliverability),
            autocapitalize="none",
            spellcheck="false",
        ),
        _as_text,
        _enter,
        counted=True,
    ),
    Kind.PHONE: KindRule(AttributeType.STRING, _phone, _as_text, _enter),
    Kind.URL: KindRule(
        AttributeType.STRING,
        _typed_text(URLField, check=lambda options: URL(message=_l("Enter a web address that starts with https://."))),
        _as_text,
        _enter,
    ),
    Kind.DATE: KindRule(AttributeType.STRING, _date, _as_iso, _enter),
    Kind.NUMBER: KindRule(AttributeType.NUMBER, _number, _as_text, _enter),
    Kind.BOOLEAN: KindRule(
        AttributeType.BOOLEAN,
        _boolean,
        lambda value: "true" if value else "false",  # sent either way: unticked is a value too
        lambda label: _l("Tick “%(label)s” to continue.", label=label),
    ),
    Kind.DATETIME: KindRule(AttributeType.DATETIME, _datetime, _as_iso, _enter),
    Kind.CHOICE: KindRule(
        AttributeType.STRING, _choice, _as_text, lambda label: _l("Choose “%(label)s”.", label=label)
    ),
}


@dataclass(frozen=True)
class TypeRule:
    """One Cognito type: its name in Cognito, what a declared default must be, a custom attribute's kind."""

    cognito: str  # AttributeDataType
    default: type  # the TOML value a `default` must be
    kind: Kind  # the kind of a custom attribute of this type (declared choices make it Kind.CHOICE)


TYPES: dict[AttributeType, TypeRule] = {
    AttributeType.STRING: TypeRule("String", str, Kind.TEXT),
    AttributeType.NUMBER: TypeRule("Number", int, Kind.NUMBER),
    AttributeType.BOOLEAN: TypeRule("Boolean", bool, Kind.BOOLEAN),
    AttributeType.DATETIME: TypeRule("DateTime", str, Kind.DATETIME),
}
TYPE_OF_COGNITO = {rule.cognito: attribute_type for attribute_type, rule in TYPES.items()}


@dataclass(frozen=True)
class Standard:
    """A standard attribute a person can type: its kind, its name and empty-field message in every
    language, and the browser's autofill hint."""

    kind: Kind
    label: Any
    required_message: Any  # also in the summary at the top: "Enter your first name."
    autocomplete: str | None = None


STANDARD_ATTRIBUTES: dict[str, Standard] = {
    "address": Standard(Kind.TEXT, _l("Address"), _l("Enter your address."), "street-address"),
    "birthdate": Standard(Kind.DATE, _l("Date of birth"), _l("Enter your date of birth."), "bday"),
    "email": Standard(Kind.EMAIL, _l("Email address"), _l("Enter your email address."), "email"),
    "family_name": Standard(Kind.TEXT, _l("Last name"), _l("Enter your last name."), "family-name"),
    "gender": Standard(Kind.TEXT, _l("Gender"), _l("Enter your gender."), "sex"),
    "given_name": Standard(Kind.TEXT, _l("First name"), _l("Enter your first name."), "given-name"),
    "locale": Standard(Kind.TEXT, _l("Language"), _l("Enter your language."), "language"),
    "middle_name": Standard(Kind.TEXT, _l("Middle name"), _l("Enter your middle name."), "additional-name"),
    "name": Standard(Kind.TEXT, _l("Full name"), _l("Enter your full name."), "name"),
    "nickname": Standard(Kind.TEXT, _l("Nickname"), _l("Enter a nickname."), "nickname"),
    "phone_number": Standard(Kind.PHONE, _l("Phone number"), _l("Enter your phone number."), "tel"),
    "picture": Standard(Kind.URL, _l("Picture address"), _l("Enter the address of your picture."), "photo"),
    "preferred_username": Standard(Kind.TEXT, _l("Preferred username"), _l("Enter a preferred username.")),
    "profile": Standard(Kind.URL, _l("Profile page"), _l("Enter the address of your profile page."), "url"),
    "website": Standard(Kind.URL, _l("Website"), _l("Enter the address of your website."), "url"),
    "zoneinfo": Standard(Kind.TEXT, _l("Time zone"), _l("Enter your time zone.")),
}
# Standard attributes that Cognito sets itself: a form must never send them.
COGNITO_MANAGED = {"sub", "updated_at", "email_verified", "phone_number_verified", "identities"}


@lru_cache(maxsize=32)
def country_list(locale: str, allowed: tuple[str, ...]) -> str:
    """[[region, name, calling code], ...] as JSON, sorted by name in this language."""
    names = Locale.parse(locale).territories
    regions = allowed or tuple(phonenumbers.SUPPORTED_REGIONS)
    rows = [[r, names.get(r, r), phonenumbers.country_code_for_region(r)] for r in regions]
    return json.dumps(sorted(rows, key=lambda row: str(row[1])), ensure_ascii=False)
