"""What a declaration is: the username mode, the password policy, the attributes the form asks for,
what the app records itself (consents, attribution) and the identity providers offered as buttons.
Read and checked by app.config.declaration;
how each kind of attribute is typed and sent is app.config.kinds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from app.config.kinds import KINDS, AttributeType, Kind

UsernameMode = Literal["username", "email", "phone_number"]
# A text for people: one string, or one string per locale ({en = "...", de = "..."}).
LocalizedText = Mapping[str, str]

MAX_VALUE_LENGTH = 2048  # Cognito: an attribute value is at most 2048 characters
MAX_CUSTOM_NAME_LENGTH = 20  # Cognito: the part after "custom:" is 1-20 characters
LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")  # [text](https://...) in a consent's label
# The icons a provider's button may show (templates/icons/<name>.svg); "building" for a company's SAML or OIDC IdP.
ICONS = ("amazon", "apple", "building", "facebook", "google", "microsoft")


@dataclass(frozen=True)
class PasswordPolicy:
    """The pool's password policy, repeated here so the form can explain it before Cognito refuses."""

    minimum_length: int = 8
    require_uppercase: bool = True
    require_lowercase: bool = True
    require_numbers: bool = True
    require_symbols: bool = True


@dataclass(frozen=True)
class Attribute:
    """One user-pool attribute the form asks for."""

    name: str  # the Cognito name: "email" or "custom:company"
    kind: Kind = Kind.TEXT  # how it is typed (app.config.kinds)
    label: LocalizedText = field(default_factory=dict)
    help: LocalizedText = field(default_factory=dict)
    required_message: LocalizedText = field(default_factory=dict)  # instead of the built-in "Enter …"
    required: bool = False
    min_length: int | None = None
    max_length: int = MAX_VALUE_LENGTH
    min_value: int | None = None
    max_value: int | None = None
    pattern: str | None = None
    choices: tuple[str, ...] = ()
    choice_labels: Mapping[str, LocalizedText] = field(default_factory=dict)  # by value; the value itself if none
    default: str | int | bool | None = None
    autocomplete: str | None = None  # the browser's autofill hint, over the standard attribute's own

    @property
    def type(self) -> AttributeType:
        """How Cognito stores it: its kind's type."""
        return KINDS[self.kind].type

    @property
    def is_custom(self) -> bool:
        return self.name.startswith("custom:")

    @property
    def field_name(self) -> str:
        return field_name(self.name)


@dataclass(frozen=True)
class Consent:
    """A box to tick, such as the terms of service. Ticked, it is recorded in `attribute` as the
    document's version and the time, "2026-05 2026-11-27T09:30:00Z"; unticked, nothing is recorded."""

    name: str  # the checkbox is consent_<name>
    label: LocalizedText  # may link to the document: "I accept the [terms](https://example.com/terms)"
    version: str
    attribute: str  # a custom attribute
    required: bool = False

    @property
    def field_name(self) -> str:
        return f"consent_{self.name}"


@dataclass(frozen=True)
class Attribution:
    """A query parameter of the form's address (utm_source, ref) kept through the flow and sent to
    Cognito: as `attribute` when given, else as ClientMetadata under the parameter's name."""

    parameter: str
    attribute: str | None = None
    max_length: int = 100


@dataclass(frozen=True)
class IdentityProvider:
    """A provider the pool federates (Google, Apple, a company's SAML or OIDC IdP), offered as a button
    that goes to Managed Login's authorize address with `identity_provider=<name>` (app.signup.signin)."""

    name: str  # the ProviderName the pool knows it by: "Google", "SignInWithApple", "CompanyIdP"
    label: LocalizedText  # the button says "Continue with <label>"
    icon: str | None = None  # one of ICONS


@dataclass(frozen=True)
class Declaration:
    """Everything the TOML file declares, checked."""

    username: UsernameMode = "username"
    password: bool = True  # False: no password (a pool with passwordless sign-in)
    confirm_password: bool = False  # True: the password typed twice, instead of shown on request
    password_policy: PasswordPolicy = field(default_factory=PasswordPolicy)
    attributes: tuple[Attribute, ...] = ()
    client_metadata: Mapping[str, str] = field(default_factory=dict)
    validation_data: Mapping[str, str] = field(default_factory=dict)
    analytics_endpoint_id: str | None = None
    default_phone_region: str | None = None
    allowed_phone_regions: tuple[str, ...] = ()  # empty: any country
    consents: tuple[Consent, ...] = ()
    attribution: tuple[Attribution, ...] = ()
    prefill: tuple[str, ...] = ()  # attributes a link may fill in (?email=...)
    invitation_required: bool = False  # sign-up only through an invitation link (app.invite)
    identity_providers: tuple[IdentityProvider, ...] = ()  # buttons above the sign-up form

    @property
    def recorded_attributes(self) -> tuple[Attribute, ...]:
        """The custom attributes the app writes itself (consents, attribution), as long as it writes
        them: the pool needs them too, and the pool check compares them like the form's."""
        consents = [
            Attribute(c.attribute, max_length=len(c.version) + len(" 2026-01-01T00:00:00Z")) for c in self.consents
        ]
        return tuple(
            consents + [Attribute(a.attribute, max_length=a.max_length) for a in self.attribution if a.attribute]
        )

    @property
    def written_attributes(self) -> tuple[Attribute, ...]:
        """Every attribute a sign-up may send: what the form asks for and what the app records."""
        return self.attributes + self.recorded_attributes

    @property
    def username_attribute(self) -> Attribute | None:
        """The attribute that doubles as the username (email or phone mode), if any."""
        if self.username == "username":
            return None
        return next(a for a in self.attributes if a.name == self.username)

    @property
    def code_attribute(self) -> str | None:
        """Where Cognito sends confirmation codes: the username's attribute, else email, else phone."""
        if self.username != "username":
            return self.username
        names = {a.name for a in self.attributes}
        return next((name for name in ("email", "phone_number") if name in names), None)

    @property
    def form_attributes(self) -> tuple[Attribute, ...]:
        """The attributes that get a field of their own (the username attribute is the username field)."""
        return tuple(a for a in self.attributes if a.name != self.username)


def field_name(attribute_name: str) -> str:
    """The HTML form name of an attribute: "custom:company" becomes "custom_company"."""
    return attribute_name.replace(":", "_")


def untranslated(declaration: Declaration, languages: tuple[str, ...], default: str = "en") -> list[str]:
    """Each declared text that has no version in an enabled language, named for the operator's log.

    A plain-string label on a standard attribute is the default language's: the other languages
    use the app's own translation of that attribute's name, so it is not listed.
    """
    found = []
    for attribute in declaration.attributes:
        texts = {"label": attribute.label, "help": attribute.help, "required_message": attribute.required_message}
        texts |= {f"label of choice {value!r}": label for value, label in attribute.choice_labels.items()}
        for what, text in texts.items():
            if not text or (what == "label" and not attribute.is_custom and set(text) <= {"", default}):
                continue
            missing = [language for language in languages if language != default and language not in text]
            if missing:
                shown = text.get(default) or next(iter(text.values()))
                found.append(f"{attribute.name}: {what} has no {'/'.join(missing)} text; those pages show {shown!r}")
        unlabelled = [value for value in attribute.choices if value not in attribute.choice_labels]
        if unlabelled:
            found.append(f"{attribute.name}: choices {unlabelled} have no label; pages show the values themselves")
    return found
