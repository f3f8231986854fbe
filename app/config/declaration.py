"""The sign-up form's declaration: a TOML file that says what the form asks for, read and checked.

The declaration mirrors the user pool (username mode, password policy, attribute schema) so
that the form can check everything Cognito would check, and tell the person in their words,
before a request is sent. Every mistake in the file is collected and reported at once, naming
the attribute, so that an operator fixes the file in one pass. What a declaration is: app.config.model.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Set
from pathlib import Path
from typing import Any

import phonenumbers

from app.config.kinds import COGNITO_MANAGED, STANDARD_ATTRIBUTES, TYPES, AttributeType, Kind
from app.config.model import (
    ICONS,
    LINK,
    MAX_CUSTOM_NAME_LENGTH,
    MAX_VALUE_LENGTH,
    Attribute,
    Attribution,
    Consent,
    Declaration,
    IdentityProvider,
    LocalizedText,
    PasswordPolicy,
)
from app.errors import ConfigError

_CUSTOM_NAME = re.compile(r"[\w.:-]{1,20}", re.ASCII)

_TOP_KEYS = {
    "username",
    "password",
    "confirm_password",
    "password_policy",
    "attributes",
    "client_metadata",
    "validation_data",
    "analytics_endpoint_id",
    "default_phone_region",
    "allowed_phone_regions",
    "consents",
    "attribution",
    "prefill",
    "invitation_required",
    "identity_providers",
}
_POLICY_KEYS = {
    "minimum_length",
    "require_uppercase",
    "require_lowercase",
    "require_numbers",
    "require_symbols",
}
_ATTRIBUTE_KEYS = {
    "name",
    "label",
    "help",
    "required_message",
    "type",
    "required",
    "min_length",
    "max_length",
    "min_value",
    "max_value",
    "pattern",
    "choices",
    "default",
    "autocomplete",
}
# The browser's autofill hints (HTML's autocomplete tokens), with section-/shipping-/billing- prefixes.
_AUTOCOMPLETE = re.compile(r"(section-[\w-]+ )?((shipping|billing) )?[a-z][a-z0-9-]*|off")


def load_declaration(path: str | Path) -> Declaration:
    """Read and check the TOML file; raise ConfigError listing every problem found."""
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except OSError as err:
        raise ConfigError([f"SIGNUP_CONFIG: cannot read {path}: {err.strerror}"]) from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError([f"SIGNUP_CONFIG: {path} is not valid TOML: {err}"]) from err
    return parse_declaration(data, source=str(path))


def parse_declaration(data: Mapping[str, Any], source: str = "declaration") -> Declaration:
    """Check a parsed TOML document and build the Declaration; raise ConfigError with all problems."""
    problems: list[str] = []

    def problem(message: str) -> None:
        problems.append(f"{source}: {message}")

    _refuse_unknown_keys(data, _TOP_KEYS, "", problem)

    username = data.get("username", "username")
    if username not in ("username", "email", "phone_number"):
        problem(f"username must be 'username', 'email' or 'phone_number', not {username!r}")
        username = "username"

    password = data.get("password", True)
    if not isinstance(password, bool):
        problem("password must be true or false")
        password = True
    confirm_password = data.get("confirm_password", False)
    if not isinstance(confirm_password, bool):
        problem("confirm_password must be true or false")
        confirm_password = False
    policy = _parse_policy(data.get("password_policy", {}), problem)
    attributes = _parse_attributes(data.get("attributes", []), problem)
    if username != "username" and not any(a.name == username for a in attributes):
        # The username attribute is always sent; declaring it is optional.
        implied = _standard(username, {}, problem)
        attributes = (implied, *attributes) if implied else attributes

    client_metadata = _string_table(data, "client_metadata", problem)
    validation_data = _string_table(data, "validation_data", problem)

    endpoint = data.get("analytics_endpoint_id")
    if endpoint is not None and (not isinstance(endpoint, str) or not endpoint):
        problem("analytics_endpoint_id must be a non-empty string")
        endpoint = None

    region, allowed = _parse_phone_regions(data, problem)
    consents = _parse_consents(data.get("consents", []), problem)
    attribution = _parse_attribution(data.get("attribution", []), problem)
    typed = {a.name for a in attributes}
    for name in [c.attribute for c in consents] + [a.attribute for a in attribution if a.attribute]:
        if name in typed:
            problem(f"{name} is recorded by the app (consents, attribution), so it cannot be a form field too")
    prefill = data.get("prefill", [])
    if not isinstance(prefill, list) or not all(isinstance(p, str) for p in prefill):
        problem("prefill must be a list of attribute names such as ['email']")
        prefill = []
    for name in [p for p in prefill if p not in typed]:
        problem(f"prefill: {name!r} is not a declared attribute")
    invitation_required = data.get("invitation_required", False)
    if not isinstance(invitation_required, bool):
        problem("invitation_required must be true or false")
        invitation_required = False
    if invitation_required and "email" not in typed:
        problem("invitation_required needs an email attribute: an invitation fixes the email address")
    identity_providers = _parse_identity_providers(data.get("identity_providers", []), problem)

    if problems:
        raise ConfigError(problems)
    return Declaration(
        username=username,
        password=password,
        confirm_password=confirm_password,
        password_policy=policy,
        attributes=attributes,
        client_metadata=client_metadata,
        validation_data=validation_data,
        analytics_endpoint_id=endpoint,
        default_phone_region=region,
        allowed_phone_regions=allowed,
        consents=consents,
        attribution=attribution,
        prefill=tuple(prefill),
        invitation_required=invitation_required,
        identity_providers=identity_providers,
    )


def _parse_phone_regions(data: Mapping[str, Any], problem: Any) -> tuple[str | None, tuple[str, ...]]:
    region = data.get("default_phone_region")
    if region is not None and region not in phonenumbers.SUPPORTED_REGIONS:
        problem(f"default_phone_region {region!r} is not a region code such as 'US' or 'GB'")
        region = None
    allowed = data.get("allowed_phone_regions", [])
    if not isinstance(allowed, list) or not all(isinstance(r, str) for r in allowed):
        problem("allowed_phone_regions must be a list of region codes such as ['GB', 'IE']")
        allowed = []
    for unknown in [r for r in allowed if r not in phonenumbers.SUPPORTED_REGIONS]:
        problem(f"allowed_phone_regions: {unknown!r} is not a region code such as 'US' or 'GB'")
    return region, tuple(allowed)


_NAME = re.compile(r"[a-z][a-z0-9_]{0,30}")
_CARRIED = {"lang", "return_to", "state", "flow", "invite"}  # the query parameters the flow itself carries
_PARAMETER = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_CONSENT_KEYS = {"name", "label", "version", "attribute", "required"}
_ATTRIBUTION_KEYS = {"parameter", "attribute", "max_length"}
_PROVIDER_KEYS = {"name", "label", "icon"}
# Cognito's ProviderName: 1 to 32 characters, no spaces, not starting or ending with "_".
_PROVIDER_NAME = re.compile(r"[^\s_](\S{0,30}[^\s_])?")
# Keys that apply to attributes of one type only.
_TYPED_KEYS = {
    "min_value": AttributeType.NUMBER,
    "max_value": AttributeType.NUMBER,
    "min_length": AttributeType.STRING,
    "max_length": AttributeType.STRING,
    "pattern": AttributeType.STRING,
    "choices": AttributeType.STRING,
}


def _refuse_unknown_keys(table: Mapping[str, Any], known: Set[str], where: str, problem: Any) -> None:
    """A misspelt key would otherwise be ignored without a word."""
    for key in sorted(set(table) - known):
        problem(f"{where}unknown key {key!r}")


def _array_of_tables(raw: Any, name: str, problem: Any) -> list[Mapping[str, Any]]:
    if not isinstance(raw, list) or not all(isinstance(entry, Mapping) for entry in raw):
        problem(f"{name} must be an array of tables ([[{name}]])")
        return []
    return raw


def _parse_consents(raw: Any, problem: Any) -> tuple[Consent, ...]:
    consents = []
    for entry in _array_of_tables(raw, "consents", problem):
        name = entry.get("name")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            problem(f"consent {name!r}: name must be lowercase letters, digits and '_', such as 'terms'")
            continue
        _refuse_unknown_keys(entry, _CONSENT_KEYS, f"consent {name!r}: ", problem)
        label = _text(entry, "label", f"consent {name!r}", problem)
        if not label:
            problem(f"consent {name!r}: label is required")
        for text in label.values():
            for _, url in LINK.findall(text):
                if not url.startswith(("https://", "http://")):
                    problem(f"consent {name!r}: a link in the label must be an absolute http(s) URL, not {url!r}")
        version, attribute, required = entry.get("version"), entry.get("attribute"), entry.get("required", False)
        if not isinstance(version, str) or not 0 < len(version) <= 100:
            problem(f"consent {name!r}: version must be a short string, such as '2026-05'")
        if not isinstance(attribute, str) or not _is_custom_name(attribute):
            problem(f"consent {name!r}: attribute must be a custom attribute, such as 'custom:terms'")
        if not isinstance(required, bool):
            problem(f"consent {name!r}: required must be true or false")
        consents.append(Consent(name, label, str(version), str(attribute), required is True))
    if len({c.name for c in consents}) != len(consents):
        problem("consents: two have the same name")
    return tuple(consents)


def _parse_attribution(raw: Any, problem: Any) -> tuple[Attribution, ...]:
    found = []
    for entry in _array_of_tables(raw, "attribution", problem):
        parameter = entry.get("parameter")
        if not isinstance(parameter, str) or not _PARAMETER.fullmatch(parameter):
            problem(f"attribution {parameter!r}: parameter must be a query parameter's name, such as 'utm_source'")
            continue
        if parameter in _CARRIED:
            problem(f"attribution {parameter!r}: the app uses this parameter itself; choose another name")
        _refuse_unknown_keys(entry, _ATTRIBUTION_KEYS, f"attribution {parameter!r}: ", problem)
        attribute, limit = entry.get("attribute"), entry.get("max_length", 100)
        if attribute is not None and (not isinstance(attribute, str) or not _is_custom_name(attribute)):
            problem(f"attribution {parameter!r}: attribute must be a custom attribute, such as 'custom:utm_source'")
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_VALUE_LENGTH:
            problem(f"attribution {parameter!r}: max_length must be a whole number from 1 to {MAX_VALUE_LENGTH}")
            limit = 100
        found.append(Attribution(parameter, attribute if isinstance(attribute, str) else None, limit))
    if len({a.parameter for a in found}) != len(found):
        problem("attribution: a parameter is declared twice")
    return tuple(found)


def _parse_identity_providers(raw: Any, problem: Any) -> tuple[IdentityProvider, ...]:
    found = []
    for entry in _array_of_tables(raw, "identity_providers", problem):
        name = entry.get("name")
        if not isinstance(name, str) or not _PROVIDER_NAME.fullmatch(name) or name == "COGNITO":
            problem(
                f"identity provider {name!r}: name must be the provider's name in the pool (ProviderName, "
                "up to 32 characters without spaces), such as 'Google'"
            )
            continue
        where = f"identity provider {name!r}"
        _refuse_unknown_keys(entry, _PROVIDER_KEYS, f"{where}: ", problem)
        label = _text(entry, "label", where, problem)
        if "label" not in entry:
            problem(f"{where}: label is required (the button says “Continue with <label>”)")
        icon = entry.get("icon")
        if icon is not None and icon not in ICONS:
            problem(f"{where}: icon must be one of {', '.join(ICONS)}, not {icon!r}")
            icon = None
        found.append(IdentityProvider(name, label, icon))
    if len({p.name for p in found}) != len(found):
        problem("identity_providers: a provider is declared twice")
    return tuple(found)


def _is_custom_name(name: str) -> bool:
    return name.startswith("custom:") and bool(_CUSTOM_NAME.fullmatch(name.removeprefix("custom:")))


def _parse_policy(raw: Any, problem: Any) -> PasswordPolicy:
    if not isinstance(raw, Mapping):
        problem("password_policy must be a table")
        return PasswordPolicy()
    _refuse_unknown_keys(raw, _POLICY_KEYS, "password_policy: ", problem)
    minimum = raw.get("minimum_length", 8)
    if not isinstance(minimum, int) or isinstance(minimum, bool) or not 6 <= minimum <= 99:
        problem("password_policy.minimum_length must be a whole number from 6 to 99, as in Cognito")
        minimum = 8
    flags = {}
    for key in sorted(_POLICY_KEYS - {"minimum_length"}):
        value = raw.get(key, True)
        if not isinstance(value, bool):
            problem(f"password_policy.{key} must be true or false")
            value = True
        flags[key] = value
    return PasswordPolicy(minimum_length=minimum, **flags)


def _parse_attributes(raw: Any, problem: Any) -> tuple[Attribute, ...]:
    if not isinstance(raw, list):
        problem("attributes must be an array of tables ([[attributes]])")
        return ()
    attributes: list[Attribute] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw, start=1):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            problem(f"attribute #{index} needs a name")
            continue
        name = entry["name"]
        if name in seen:
            problem(f"attribute {name!r} is declared twice")
            continue
        seen.add(name)
        _refuse_unknown_keys(entry, _ATTRIBUTE_KEYS, f"attribute {name!r}: ", problem)
        parse = _custom if name.startswith("custom:") else _standard
        attribute = parse(name, entry, problem)
        if attribute is not None:
            attributes.append(attribute)
    return tuple(attributes)


def _standard(name: str, entry: Mapping[str, Any], problem: Any) -> Attribute | None:
    if name in COGNITO_MANAGED:
        problem(f"attribute {name!r} is set by Cognito and cannot be part of a form")
        return None
    standard = STANDARD_ATTRIBUTES.get(name)
    if standard is None:
        problem(f"attribute {name!r} is not a standard Cognito attribute; custom attributes are named 'custom:{name}'")
        return None
    if entry.get("type", "string") != "string":
        problem(f"attribute {name!r}: a standard attribute is a string; remove 'type'")
    _refuse_keys_of_other_types(name, AttributeType.STRING, entry, problem)
    return _common(name, AttributeType.STRING, standard.kind, entry, problem)


def _custom(name: str, entry: Mapping[str, Any], problem: Any) -> Attribute | None:
    own = name.removeprefix("custom:")
    if len(own) > MAX_CUSTOM_NAME_LENGTH:
        problem(
            f"attribute {name!r}: a custom name has at most {MAX_CUSTOM_NAME_LENGTH} characters "
            f"after 'custom:' (this one has {len(own)})"
        )
        return None
    if not _CUSTOM_NAME.fullmatch(own):
        problem(f"attribute {name!r}: a custom name uses letters, digits, '_', '.', ':' and '-' only")
        return None
    declared = entry.get("type", "string")
    if declared not in TYPES:
        problem(f"attribute {name!r}: type must be string, number, boolean or datetime")
        return None
    attribute_type = AttributeType(declared)
    _refuse_keys_of_other_types(name, attribute_type, entry, problem)
    return _common(name, attribute_type, TYPES[attribute_type].kind, entry, problem)


def _refuse_keys_of_other_types(
    name: str, attribute_type: AttributeType, entry: Mapping[str, Any], problem: Any
) -> None:
    for key, owner in _TYPED_KEYS.items():
        if key in entry and owner != attribute_type:
            problem(f"attribute {name!r}: {key} applies to {owner} attributes only")


def _common(name: str, attribute_type: AttributeType, kind: Kind, entry: Mapping[str, Any], problem: Any) -> Attribute:
    """The keys every attribute shares: texts, required, lengths, pattern, choices, default."""

    def whole(key: str) -> int | None:
        value = entry.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            problem(f"attribute {name!r}: {key} must be a whole number")
            return None
        return value

    min_length, max_length = whole("min_length"), whole("max_length")
    if min_length is not None and not 0 <= min_length <= MAX_VALUE_LENGTH:
        problem(f"attribute {name!r}: min_length must be from 0 to {MAX_VALUE_LENGTH}")
        min_length = None
    if max_length is not None and not 1 <= max_length <= MAX_VALUE_LENGTH:
        problem(
            f"attribute {name!r}: max_length must be from 1 to {MAX_VALUE_LENGTH} "
            "(Cognito stores at most 2048 characters)"
        )
        max_length = None
    if min_length is not None and max_length is not None and min_length > max_length:
        problem(f"attribute {name!r}: min_length is larger than max_length")

    min_value, max_value = whole("min_value"), whole("max_value")
    if min_value is not None and max_value is not None and min_value > max_value:
        problem(f"attribute {name!r}: min_value is larger than max_value")

    pattern = entry.get("pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, TypeError):
            problem(f"attribute {name!r}: pattern is not a valid regular expression")
            pattern = None

    choices, choice_labels = _choices(entry.get("choices", []), name, problem)
    if len(set(choices)) != len(choices):
        problem(f"attribute {name!r}: choices repeat a value")
    elif any(len(c) > (max_length or MAX_VALUE_LENGTH) for c in choices):
        problem(f"attribute {name!r}: a choice is longer than max_length")
    if choices:
        kind = Kind.CHOICE

    required = entry.get("required", False)
    if not isinstance(required, bool):
        problem(f"attribute {name!r}: required must be true or false")
        required = False

    autocomplete = entry.get("autocomplete")
    if autocomplete is not None and not (isinstance(autocomplete, str) and _AUTOCOMPLETE.fullmatch(autocomplete)):
        problem(f"attribute {name!r}: autocomplete must be an autofill token such as 'organization'")
        autocomplete = None

    default: str | int | bool | None = entry.get("default")
    if default is not None and (type(default) is not TYPES[attribute_type].default):
        problem(f"attribute {name!r}: default must be a {attribute_type}")
        default = None
    elif choices and default is not None and default not in choices:
        problem(f"attribute {name!r}: default {default!r} is not one of the choices")

    return Attribute(
        name=name,
        kind=kind,
        label=_text(entry, "label", f"attribute {name!r}", problem),
        help=_text(entry, "help", f"attribute {name!r}", problem),
        required_message=_text(entry, "required_message", f"attribute {name!r}", problem),
        required=required,
        min_length=min_length,
        max_length=max_length or MAX_VALUE_LENGTH,
        min_value=min_value,
        max_value=max_value,
        pattern=pattern,
        choices=tuple(choices),
        choice_labels=choice_labels,
        default=default,
        autocomplete=autocomplete,
    )


def _choices(raw: Any, name: str, problem: Any) -> tuple[list[str], dict[str, LocalizedText]]:
    """Choices: plain values ("team"), or tables with a label per language ({ value = "team", label = ... })."""
    values: list[str] = []
    labels: dict[str, LocalizedText] = {}
    if not isinstance(raw, list):
        raw = [None]
    for choice in raw:
        if isinstance(choice, str) and choice:
            values.append(choice)
        elif isinstance(choice, Mapping) and isinstance(choice.get("value"), str) and choice["value"]:
            values.append(choice["value"])
            if set(choice) - {"value", "label"}:
                problem(f"attribute {name!r}: a choice has only a value and a label")
            if "label" in choice:
                labels[choice["value"]] = _text(choice, "label", f"attribute {name!r}", problem)
        else:
            problem(f"attribute {name!r}: choices must be a list of non-empty strings or {{ value, label }} tables")
            return [], {}
    return values, labels


def _text(entry: Mapping[str, Any], key: str, where: str, problem: Any) -> LocalizedText:
    """A text for people: a string, or a table of locale = string; `where` names its owner in a problem."""
    value = entry.get(key)
    if value is None:
        return {}
    if isinstance(value, str):
        return {"": value}
    if isinstance(value, Mapping) and value and all(isinstance(v, str) for v in value.values()):
        return dict(value)
    problem(f"{where}: {key} must be a string or a table of locale = string")
    return {}


def _string_table(data: Mapping[str, Any], key: str, problem: Any) -> Mapping[str, str]:
    table = data.get(key, {})
    if not isinstance(table, Mapping) or not all(isinstance(v, str) for v in table.values()):
        problem(f"{key} must be a table of string values")
        return {}
    return dict(table)
