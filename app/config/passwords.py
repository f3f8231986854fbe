"""The pool's password policy as a list of rules: the server's check, the hint before typing and the
page script's live checklist all read this one list, so they always say the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from babel.lists import format_list
from flask_babel import get_locale, gettext, lazy_ngettext
from flask_babel import lazy_gettext as _l

from app.config.model import PasswordPolicy

# The characters Cognito counts as symbols in a password policy (its developer guide's list, and a
# space that neither starts nor ends the password). Others, such as € or £, are allowed but count
# as no symbol: the rule lists these, so a person who typed one sees why.
SYMBOLS = "^$*.[]{}()?-\"!@#%&/\\,><':;|_~`+= "


@dataclass(frozen=True)
class Rule:
    """One requirement. `key` names the page script's check for it (static/app.js)."""

    key: str
    needs: Any  # what a password needs, as it reads after "Your password needs"
    met: Callable[[str], bool]


def password_rules(policy: PasswordPolicy) -> tuple[Rule, ...]:
    minimum = policy.minimum_length
    rules: list[Rule] = [
        Rule(
            "length",
            lazy_ngettext("at least %(num)d character", "at least %(num)d characters", minimum),
            lambda p: len(p) >= minimum,
        )
    ]
    for wanted, key, needs, pattern in (
        (policy.require_uppercase, "upper", _l("an uppercase letter"), "[A-Z]"),
        (policy.require_lowercase, "lower", _l("a lowercase letter"), "[a-z]"),
        (policy.require_numbers, "number", _l("a number"), "[0-9]"),
    ):
        if wanted:
            rules.append(Rule(key, needs, _contains(pattern)))
    if policy.require_symbols:
        listed = " ".join(SYMBOLS.strip())  # the space counts too, inside a password: said, not listed
        rules.append(
            Rule(
                "symbol",
                _l("a symbol, one of %(symbols)s", symbols=listed),
                lambda p: any(c in SYMBOLS for c in p.strip()),
            )
        )
    return tuple(rules)


def _contains(pattern: str) -> Callable[[str], bool]:
    return lambda password: re.search(pattern, password) is not None


def needs(rules: Sequence[Rule]) -> str:
    """ "Your password needs at least 8 characters, a number and a symbol." for the given rules."""
    listed = format_list([str(rule.needs) for rule in rules], locale=get_locale())
    return gettext("Your password needs %(rules)s.", rules=listed)
