"""StructuredBot's values (tests/support/schema_instance.py): what it builds validates against
the schema it was built from, and its `wrong` value does not."""

from __future__ import annotations

import enum
import json
from datetime import date, datetime

import jsonschema
import pytest
from pydantic import BaseModel, Field

from tests.support.fake_poe import PREAMBLE, PROSE, REMARK, structured_answer
from tests.support.schema_instance import instance, wrong_instance


class Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


class Address(BaseModel):
    city: str
    zip_code: str = Field(min_length=10)


class Person(BaseModel):
    name: str
    age: int = Field(ge=50, lt=60)
    colour: Colour
    address: Address
    previous: list[Address] = Field(min_length=2)
    tags: list[str]
    nickname: str | None = None
    score: float = Field(gt=0, le=1)
    born: date
    seen: datetime
    email: str = Field(json_schema_extra={"format": "email"})
    scores: dict[str, int]
    kind: str = Field(json_schema_extra={"const": "person"})


class Tree(BaseModel):
    label: str
    children: list[Tree] = []


HAND_WRITTEN = [
    {"type": "object", "properties": {"n": {"type": "integer", "minimum": 100}}},
    {"type": "array", "items": {"type": "number", "maximum": -3}, "minItems": 3, "maxItems": 3},
    {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.1},
    {"type": ["null", "string"], "enum": ["a", "b", None]},
    {"oneOf": [{"type": "null"}, {"type": "boolean"}]},
    {
        "allOf": [{"$ref": "#/definitions/a"}, {"properties": {"b": {"type": "integer"}}}],
        "definitions": {
            "a": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
        },
    },
    {"type": "string", "format": "uri", "maxLength": 12},
    {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": False},
]
SCHEMAS = [Person.model_json_schema(), Tree.model_json_schema(), *HAND_WRITTEN]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_every_instance_validates(schema):
    value = instance(schema)
    jsonschema.validate(value, schema, format_checker=jsonschema.FormatChecker())


def test_values_are_named_after_their_properties():
    person = Person.model_validate(instance(Person.model_json_schema()))
    assert (person.name, person.age, person.colour, person.nickname) == (
        "name",
        50,
        "red",
        "nickname",
    )
    assert person.address == Address(city="city", zip_code="zip_codexx")
    assert len(person.previous) == 2 and person.tags == ["tags"]
    assert person.scores == {"scores": 42} and person.kind == "person"


@pytest.mark.parametrize("schema", [Person.model_json_schema(), Tree.model_json_schema()])
def test_wrong_instance_does_not_validate(schema):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(wrong_instance(schema), schema)


def test_answer_fences_the_value_between_a_preamble_and_a_remark():
    schema = Tree.model_json_schema()
    system = f"Answer with JSON only.\nJSON schema: {json.dumps(schema)}\nNo prose."
    answer = structured_answer(system, "a tree please")
    assert answer.startswith(PREAMBLE + "```json\n") and answer.endswith("\n```" + REMARK)
    fenced = answer.removeprefix(PREAMBLE + "```json\n").removesuffix("\n```" + REMARK)
    assert json.loads(fenced) == instance(schema)


def test_answer_without_a_schema():
    assert '{\n  "answer": "hi"\n}' in structured_answer("Reply with a JSON object.", "hi")
    assert structured_answer("Reply with a JSON object.", "say it in prose") == PROSE
    assert structured_answer("", "hi") == PROSE
