"""The form fields and checks that attribute kinds are built from (app.config.kinds): declared texts in the
request's language, email addresses and phone numbers normalised as they are checked, and numbers
and dates that say plainly when they cannot be read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import phonenumbers
from babel import Locale
from babel.lists import format_list
from email_validator import EmailNotValidError, validate_email
from flask import request
from flask_babel import LazyString, get_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, Field, IntegerField
from wtforms.validators import StopValidation, ValidationError

from app.web.i18n import DEFAULT


class Present:
    """A required value, checked once the spaces around it are gone: a first name of only spaces is
    no first name, and says so on its field (WTForms' InputRequired looks at the raw text)."""

    def __init__(self, message: Any) -> None:
        self.message = message
        self.field_flags = {"required": True}

    def __call__(self, form: FlaskForm, field: Field) -> None:
        data = field.data
        if data is None or (isinstance(data, str) and not data.strip()):
            field.errors[:] = []
            raise StopValidation(self.message)


class Characters:
    """At most (and at least) so many characters, counted after the spaces around them are gone.

    Unlike WTForms' Length it gives the input no `maxlength`: a browser cuts what is pasted past it
    without a word. Here an over-long value comes back whole, saying by how much it is over, and
    the page script counts as the person types (GOV.UK's character count).
    """

    def __init__(self, maximum: int, minimum: int | None = None) -> None:
        self.maximum = maximum
        self.minimum = minimum

    def __call__(self, form: FlaskForm, field: Field) -> None:
        length = len(field.data or "")
        if length > self.maximum:
            raise ValidationError(too_long(self.maximum, length))
        if self.minimum and 0 < length < self.minimum:
            raise ValidationError(_l("Use at least %(low)d characters.", low=self.minimum))


def too_long(maximum: int, length: int) -> str:
    """'Use at most 64 characters. You have 16 too many.'"""
    return ngettext(
        "Use at most %(max)d characters. You have %(num)d character too many.",
        "Use at most %(max)d characters. You have %(num)d characters too many.",
        length - maximum,
        max=maximum,
    )


def localized(text: Mapping[str, str], builtin: Any = None) -> LazyString:
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


class PerLanguage:
    """An attribute value of a rendered field worked out when it is rendered, in the page's language.

    Unlike a LazyString it has no __html__, so WTForms escapes it like any text.
    """

    def __init__(self, make: Callable[[], str]) -> None:
        self._make = make

    def __str__(self) -> str:
        return self._make()


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
        # The page script's country list, when there is one, says where a local number belongs (in
        # the post, or in the draft the page was shown again from: app.web.forms.refill).
        chosen = getattr(form, "posted", request.form).get(f"{field.name}_region", "")
        region = chosen if chosen in phonenumbers.SUPPORTED_REGIONS else self.default_region
        try:
            number = phonenumbers.parse(field.data, region)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise ValidationError(_l("Enter a phone number with its country code, like +44 7400 123456."))
        if self.allowed_regions and phonenumbers.region_code_for_number(number) not in self.allowed_regions:
            territories = Locale.parse(str(get_locale())).territories
            names = format_list([territories.get(r, r) for r in self.allowed_regions], locale=get_locale())
            raise ValidationError(gettext("We can only send codes to phone numbers in %(regions)s.", regions=names))
        field.data = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


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


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def range_message(low: int | None, high: int | None) -> Any:
    if low is not None and high is not None:
        return _l("Enter a whole number from %(low)d to %(high)d.", low=low, high=high)
    if low is not None:
        return _l("Enter a whole number of at least %(low)d.", low=low)
    if high is not None:
        return _l("Enter a whole number of at most %(high)d.", high=high)
    return _l("Enter a whole number.")
