"""A valid JSON value for a JSON schema, as StructuredBot answers it: deterministic, so tests
know what a client parses. Strings are named after the property that holds them (`{"city":
"city"}`), integers are 42 and numbers 4.5 unless the schema's bounds say otherwise.

Covers what clients send for pydantic, zod and hand-written schemas: objects (every property,
required or not; `additionalProperties`), arrays (`items`, `prefixItems`, `minItems`), strings
(`enum`, `const`, `format`, `minLength`, `maxLength`), bounded numbers, `anyOf` / `oneOf` (the
first branch that is not null), `allOf`, and `$ref` into `$defs` or `definitions`.
"""

from __future__ import annotations

import math
from typing import Any

FORMATS = {
    "date": "2024-05-17",
    "date-time": "2024-05-17T12:30:00Z",
    "time": "12:30:00Z",
    "email": "ada@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "0b6f8a3e-2c1d-4e5f-9a7b-3c2d1e0f9a8b",
    "ipv4": "192.0.2.1",
}
MAX_DEPTH = 6


def instance(
    schema: dict[str, Any] | bool,
    root: dict[str, Any] | None = None,
    name: str = "text",
    depth: int = 0,
) -> Any:
    """A value `schema` accepts; `root` is the document `$ref`s point into (default: `schema`).
    Past a few levels of nesting arrays get only the items they need, so a recursive schema
    (a tree) ends."""
    if schema is True or schema == {}:
        return name
    assert isinstance(schema, dict), schema
    root = schema if root is None else root
    if "$ref" in schema:
        return instance(_resolve(schema["$ref"], root), root, name, depth)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            branch = next(b for b in schema[key] if not _is_null(b))
            return instance({**_rest(schema, key), **branch}, root, name, depth)
    if "allOf" in schema:
        merged = _rest(schema, "allOf")
        for part in schema["allOf"]:
            merged = _merge(merged, _resolve(part["$ref"], root) if "$ref" in part else part)
        return instance(merged, root, name, depth)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind is None:
        kind = _guess_type(schema)
    return BUILDERS[kind](schema, root, name, depth)


def _resolve(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    assert ref.startswith("#"), f"only local $refs: {ref}"
    node: Any = root
    for part in ref.lstrip("#").strip("/").split("/") if ref != "#" else []:
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null"


def _rest(schema: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k != key}


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    merged = {**a, **b}
    if "properties" in a and "properties" in b:
        merged["properties"] = {**a["properties"], **b["properties"]}
    return merged


def _guess_type(schema: dict[str, Any]) -> str:
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    if "minimum" in schema or "maximum" in schema:
        return "number"
    return "string"


def _object(schema: dict[str, Any], root: dict[str, Any], name: str, depth: int) -> dict[str, Any]:
    properties = schema.get("properties", {})
    value = {key: instance(sub, root, key, depth + 1) for key, sub in properties.items()}
    extra = schema.get("additionalProperties")
    if not value and isinstance(extra, dict) and extra:
        value[name] = instance(extra, root, name, depth + 1)  # a map: one entry
    return value


def _array(schema: dict[str, Any], root: dict[str, Any], name: str, depth: int) -> list[Any]:
    value = [instance(sub, root, name, depth + 1) for sub in schema.get("prefixItems", [])]
    items = schema.get("items", {} if not value else False)
    wanted = 1 if depth < MAX_DEPTH and not value else len(value)
    count = max(schema.get("minItems", 0), wanted)
    if items is not False:
        value += [instance(items, root, name, depth + 1) for _ in range(count - len(value))]
    return value[: schema.get("maxItems", len(value))]


def _string(schema: dict[str, Any], root: dict[str, Any], name: str, depth: int) -> str:
    value = FORMATS.get(schema.get("format", ""), name)
    value = value.ljust(schema.get("minLength", 0), "x")
    return value[: schema.get("maxLength", len(value))]


def _number(schema: dict[str, Any], root: dict[str, Any], name: str, depth: int, integer=False):
    step = 1 if integer else 0.5
    low = max(schema.get("minimum", -math.inf), schema.get("exclusiveMinimum", -math.inf) + step)
    high = min(schema.get("maximum", math.inf), schema.get("exclusiveMaximum", math.inf) - step)
    if low > high and not integer:  # a narrow interval: its middle
        floor = max(schema.get("minimum", -math.inf), schema.get("exclusiveMinimum", -math.inf))
        ceiling = min(schema.get("maximum", math.inf), schema.get("exclusiveMaximum", math.inf))
        return (floor + ceiling) / 2
    value = min(max(42 if integer else 4.5, low), high)
    return math.ceil(value) if integer else value


def _integer(schema: dict[str, Any], root: dict[str, Any], name: str, depth: int) -> int:
    return _number(schema, root, name, depth, integer=True)


BUILDERS = {
    "object": _object,
    "array": _array,
    "string": _string,
    "number": _number,
    "integer": _integer,
    "boolean": lambda *_: True,
    "null": lambda *_: None,
}


def mismatch(value: Any) -> Any:
    """A value of another JSON type: strings become numbers, everything else a string."""
    return 12345 if isinstance(value, str) else f"not {json_type(value)}"


def json_type(value: Any) -> str:
    return {dict: "an object", list: "an array", bool: "a boolean", str: "a string"}.get(
        type(value), "a number" if value is not None else "null"
    )


def wrong_instance(schema: dict[str, Any]) -> Any:
    """A value `schema` refuses (for its usual shapes): every property of the valid object
    holds a value of another type."""
    value = instance(schema)
    if isinstance(value, dict) and value:
        return {key: mismatch(item) for key, item in value.items()}
    return mismatch(value)
