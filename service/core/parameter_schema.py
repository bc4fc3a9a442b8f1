"""Values fitted to the JSON schema a bot declares for a parameter in Poe's model list.

Poe refuses a parameter value its schema does not allow, so a value either fits (coerced the
way a client means it: `"true"` for a boolean, `2048.0` for an integer, clamped to
minimum/maximum, an enum word in the enum's own spelling) or is left out, never sent as it came.
Enum words that name a level (`minimal`, `low`, ..., `max`) fall back to the nearest level the
enum offers: `minimal` when only low/medium/high exist is `low`, `xhigh` is `high`.
"""

from __future__ import annotations

import math
from typing import Any, Final

UNFIT: Final = object()  # what `fit` returns for a value the schema cannot take

# Effort and verbosity words, lowest first, as Poe's bots spell them (`reasoning_effort`,
# `thinking_level`, `output_effort`, `verbosity`); `off` is how some clients say `none`.
LEVELS: Final = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
_RANKS = {level: rank for rank, level in enumerate(LEVELS)} | {"off": 0, "disabled": 0}
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def string_options(schema: dict[str, Any]) -> list[str]:
    return [v for v in _enum(schema) if isinstance(v, str)]


def enum_word(value: str, schema: dict[str, Any], synonyms: tuple[str, ...] = ()) -> str | None:
    """`value` itself or a synonym, as the enum spells it; free text takes it as it is."""
    options = string_options(schema)
    if not options:
        return value
    by_lower = {option.lower(): option for option in options}
    for candidate in (value.lower(), *synonyms):
        if candidate in by_lower:
            return by_lower[candidate]
    return None


def nearest_level(value: str, options: list[str]) -> str | None:
    """The option nearest to a level word on the scale none..max; a tie goes to the lower
    (cheaper, faster) one, and only `none` itself becomes `none` (asking for a little
    reasoning is not asking for none). None when the word or no option is a level."""
    wanted = _RANKS.get(value.lower())
    ranked = [
        (_RANKS[o.lower()], o)
        for o in options
        if o.lower() in _RANKS and (_RANKS[o.lower()] > 0 or wanted == 0)
    ]
    if wanted is None or not ranked:
        return None
    return min(ranked, key=lambda pair: (abs(pair[0] - wanted), pair[0]))[1]


def kind_of(schema: dict[str, Any]) -> str | None:
    """The JSON type a schema wants (the first that is not null), told from its enum when it
    names none; None: anything goes."""
    declared = schema.get("type")
    types = declared if isinstance(declared, list) else [declared]
    for kind in types:
        if isinstance(kind, str) and kind != "null":
            return kind
    options = _enum(schema)
    if options and all(isinstance(v, str) for v in options):
        return "string"
    return None


def fit(value: Any, schema: dict[str, Any]) -> Any:
    """`value` as the schema takes it, or UNFIT."""
    kind = kind_of(schema)
    if kind == "boolean":
        return _boolean(value)
    if kind in ("integer", "number"):
        return _number(value, schema, whole=kind == "integer")
    if kind == "string":
        if not isinstance(value, str):
            return UNFIT
        if not string_options(schema):
            return value
        return enum_word(value, schema) or nearest_level(value, string_options(schema)) or UNFIT
    if kind == "array":
        return value if isinstance(value, list) else UNFIT
    if kind == "object":
        return value if isinstance(value, dict) else UNFIT
    options = _enum(schema)
    return value if not options or value in options else UNFIT


def _enum(schema: dict[str, Any]) -> list[Any]:
    options = schema.get("enum")
    return options if isinstance(options, list) else []


def _boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    return UNFIT


def _number(value: Any, schema: dict[str, Any], *, whole: bool) -> Any:
    if isinstance(value, bool):
        return UNFIT
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return UNFIT
    if not isinstance(value, int | float) or not math.isfinite(value):
        return UNFIT
    low, high = schema.get("minimum"), schema.get("maximum")
    if _is_number(low) and value < low:
        value = low
    if _is_number(high) and value > high:
        value = high
    if whole or (isinstance(value, float) and value.is_integer()):
        value = round(value)
    options = [v for v in _enum(schema) if _is_number(v)]
    if options and value not in options:
        value = min(options, key=lambda option: (abs(option - value), option))
    return value


def _is_number(bound: Any) -> bool:
    return isinstance(bound, int | float) and not isinstance(bound, bool)
