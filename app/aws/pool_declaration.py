"""A declaration, as TOML, from a user pool and app client that exist: `python -m app.poolcheck --write`.

The other way round from app.aws.pool: everything the pool decides is written out, and what only a
person can decide is left as comments.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from app.config.declaration import parse_declaration
from app.config.kinds import COGNITO_MANAGED, STANDARD_ATTRIBUTES, TYPE_OF_COGNITO, AttributeType
from app.config.model import MAX_VALUE_LENGTH
from app.errors import ConfigError

_PLACEHOLDER = "…"


def declaration_from_pool(
    pool: Mapping[str, Any], client: Mapping[str, Any], languages: tuple[str, ...] = ("en",)
) -> str:
    """A declaration, as TOML text, that passes the pool check against this pool and app client
    (unless the two disagree: a required attribute the client may not write).

    An operator who already has a pool should not have to copy its schema by hand: that copy is
    where drift starts. Everything the pool decides is written out (the username mode, the password
    policy, the attributes the pool requires or verifies, and every custom attribute the client
    may write, with its type and limits). What only a person can decide (labels and help texts
    per language, choices, which optional fields to offer, their order) is left as comments, so
    the file works at once and shows where to make the form friendlier.
    """
    username, username_note = _username_mode(pool)
    verified = [name for name in ("email", "phone_number") if name in (pool.get("AutoVerifiedAttributes") or [])]
    # In username mode the code goes to the first verified attribute, so the form must ask for it.
    code_attribute = username if username != "username" else next(iter(verified), None)
    writable = set(client.get("WriteAttributes") or [])  # none listed: the client may write every attribute

    standard: dict[str, list[str]] = {}
    custom: list[str] = []
    left_out: list[str] = []
    offered: list[str] = []
    for entry in pool.get("SchemaAttributes") or []:
        name = entry.get("Name", "")
        may_write = not writable or name in writable
        if name in COGNITO_MANAGED:
            continue
        if name.startswith("dev:") or entry.get("DeveloperOnlyAttribute"):
            left_out.append(f"{name}: developer-only; no app client may write it")
        elif name in STANDARD_ATTRIBUTES:
            reason = _why_asked(name, entry, username, code_attribute, verified)
            if reason:
                required, why = reason
                unwritable = "" if may_write else "; the app client may not write it (the check reports this)"
                standard[name] = _standard_table(name, entry, required, why + unwritable, languages)
            elif may_write:
                offered.append(name)
        elif not name.startswith("custom:"):
            left_out.append(f"{name}: not an attribute this app knows")
        elif not may_write:
            left_out.append(f"{name}: the app client may not write it (WriteAttributes)")
        elif entry.get("AttributeDataType") not in TYPE_OF_COGNITO:
            left_out.append(f"{name}: its type {entry.get('AttributeDataType')!r} is not one this app knows")
        elif not _name_accepted(name):
            left_out.append(f"{name}: the form takes custom names of letters, digits, '_', '.', ':' and '-' only")
        else:
            custom += _custom_table(name, entry, languages)

    lines = _header(pool, client, username, username_note, code_attribute)
    lines += _policy_lines(pool)
    # The username's attribute first, then the one the code goes to: the form shows them in this order.
    for name in sorted(standard, key=lambda name: (name != username, name != code_attribute)):
        lines += standard[name]
    lines += custom
    if offered:
        lines += [
            "",
            "# Optional standard attributes the app client may also write; add an [[attributes]] table",
            f"# for each one the form should ask for: {', '.join(offered)}.",
        ]
    if left_out:
        lines += ["", "# Left out, because the form could not send them:"]
        lines += [f"# - {reason}" for reason in left_out]
    lines += [
        "",
        "# [client_metadata]              # pairs sent as ClientMetadata to the pool's Lambda triggers",
        '# source = "web-signup"',
    ]
    return "\n".join(lines) + "\n"


def _username_mode(pool: Mapping[str, Any]) -> tuple[str, str]:
    """The declaration's username mode, and a comment that says where it came from."""
    attributes = pool.get("UsernameAttributes") or []
    aliases = pool.get("AliasAttributes") or []
    if "email" in attributes:
        also = " (the pool would take a phone number too)" if "phone_number" in attributes else ""
        return "email", f"the pool's UsernameAttributes: people sign up with their email address{also}"
    if "phone_number" in attributes:
        return "phone_number", "the pool's UsernameAttributes: people sign up with their phone number"
    if aliases:
        return "username", f"a plain username; people may then also sign in with {' or '.join(aliases)} (aliases)"
    return "username", "the pool has no UsernameAttributes: people choose a plain username"


def _why_asked(
    name: str, entry: Mapping[str, Any], username: str, code_attribute: str | None, verified: list[str]
) -> tuple[bool, str] | None:
    """Whether the form requires a standard attribute and why, or None when asking is the operator's choice."""
    if name == username:
        return True, "the username"
    if entry.get("Required"):
        return True, "the pool requires it"
    if name == code_attribute:
        return True, "the confirmation code is sent here (AutoVerifiedAttributes)"
    if name in verified:
        return False, "optional; the pool verifies it (AutoVerifiedAttributes)"
    return None


def _header(
    pool: Mapping[str, Any], client: Mapping[str, Any], username: str, note: str, code_attribute: str | None
) -> list[str]:
    lines = [
        "# The sign-up form's declaration, written by `python -m app.poolcheck --write` from user pool",
        f"# {pool.get('Id', '?')} ({pool.get('Name', '')}) and app client {client.get('ClientId', '?')}"
        f" ({client.get('ClientName', '')}).",
        "# It is written to pass the pool check as it is. What only you can decide is in comments (#):",
        "# labels and help texts per language, choices, more optional fields, and their order (the form",
        "# shows the [[attributes]] in the order below). Every key: 'The form declaration' in",
        "# docs/configuration.md.",
        "",
        f"# {note[0].upper()}{note[1:]}.",
        f"username = {_toml(username)}",
    ]
    if code_attribute is None:
        lines.append(
            "# The pool verifies neither email addresses nor phone numbers, so Cognito sends no confirmation code."
        )
    if "phone_number" in {username, code_attribute}:
        lines += [
            '# default_phone_region = "GB"            # the country of numbers typed without +country',
            '# allowed_phone_regions = ["GB", "IE"]   # codes are sent to numbers in these countries only',
        ]
    return lines


def _policy_lines(pool: Mapping[str, Any]) -> list[str]:
    policy = (pool.get("Policies") or {}).get("PasswordPolicy") or {}
    return [
        "",
        "[password_policy]  # the pool's password policy, for hints and early checks",
        f"minimum_length = {int(policy.get('MinimumLength', 8))}",
        f"require_uppercase = {_toml(bool(policy.get('RequireUppercase', False)))}",
        f"require_lowercase = {_toml(bool(policy.get('RequireLowercase', False)))}",
        f"require_numbers = {_toml(bool(policy.get('RequireNumbers', False)))}",
        f"require_symbols = {_toml(bool(policy.get('RequireSymbols', False)))}",
    ]


def _standard_table(
    name: str, entry: Mapping[str, Any], required: bool, why: str, languages: tuple[str, ...]
) -> list[str]:
    return [
        "",
        "[[attributes]]",
        f"name = {_toml(name)}",
        f"required = {_toml(required)}  # {why}",
        *_length_lines(entry),
        f"# label = {_texts(languages)}  # the app names standard attributes in every language already",
        f"# help = {_texts(languages)}",
    ]


def _custom_table(name: str, entry: Mapping[str, Any], languages: tuple[str, ...]) -> list[str]:
    declared = TYPE_OF_COGNITO[entry["AttributeDataType"]]
    lines = ["", "[[attributes]]", f"name = {_toml(name)}", f"type = {_toml(declared)}"]
    if declared == AttributeType.STRING:
        lines += _length_lines(entry)
    if declared == AttributeType.NUMBER:
        numbers = entry.get("NumberAttributeConstraints") or {}
        for key, theirs in (("min_value", "MinValue"), ("max_value", "MaxValue")):
            value = _whole(numbers.get(theirs))
            if value is not None:
                lines.append(f"{key} = {value}")
    if declared == AttributeType.BOOLEAN:
        lines.append("# required = true  # the box must then be ticked (terms of service); Cognito cannot require it")
    else:
        lines.append("# required = true  # Cognito cannot require a custom attribute; the form can")
    lines += [f"# label = {_texts(languages)}", f"# help = {_texts(languages)}"]
    if declared == AttributeType.STRING:
        lines += [
            f"# choices = {_toml_list([_PLACEHOLDER, _PLACEHOLDER])}  # a list to pick from, instead of free text",
            f"# pattern = {_toml(_PLACEHOLDER)}  # a regular expression the whole value must match",
        ]
    low = _whole((entry.get("NumberAttributeConstraints") or {}).get("MinValue"))
    defaults = {
        AttributeType.STRING: _toml(_PLACEHOLDER),
        AttributeType.NUMBER: str(low or 0),
        AttributeType.BOOLEAN: "false",
    }
    if declared in defaults:
        lines.append(f"# default = {defaults[declared]}")
    return lines


def _length_lines(entry: Mapping[str, Any]) -> list[str]:
    """The pool's length limits, where they are tighter than any value's (0 to 2048 characters)."""
    strings = entry.get("StringAttributeConstraints") or {}
    low, high = _whole(strings.get("MinLength")), _whole(strings.get("MaxLength"))
    lines = []
    if low:
        lines.append(f"min_length = {min(low, MAX_VALUE_LENGTH)}")
    if high is not None and 1 <= high < MAX_VALUE_LENGTH:
        lines.append(f"max_length = {high}")
    return lines


def _name_accepted(name: str) -> bool:
    """Whether the declaration takes this attribute name: its own rules decide, not a copy of them."""
    try:
        parse_declaration({"attributes": [{"name": name}]})
    except ConfigError:
        return False
    return True


def _whole(value: Any) -> int | None:
    """A whole number from Cognito's string constraints ("40"); None when absent or not whole."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _texts(languages: tuple[str, ...]) -> str:
    return "{ " + ", ".join(f"{language} = {_toml(_PLACEHOLDER)}" for language in languages) + " }"


def _toml(value: str | bool) -> str:
    """A TOML value: JSON's strings and booleans are TOML's too."""
    return json.dumps(value, ensure_ascii=False)


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(_toml(v) for v in values) + "]"
