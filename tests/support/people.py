"""The model the structured-output clients ask for (tests/e2e/test_structured_clients.py and
tests/support/instructor_client.py): a nested model, a list, an enum and an optional field."""

from __future__ import annotations

import enum

from pydantic import BaseModel


class Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


class Address(BaseModel):
    city: str
    country: str


class Person(BaseModel):
    name: str
    age: int
    colour: Colour
    address: Address
    tags: list[str]
    nickname: str | None = None


# What StructuredBot builds from any client's schema for Person.
EXPECTED = Person(
    name="name",
    age=42,
    colour=Colour.RED,
    address=Address(city="city", country="country"),
    tags=["tags"],
    nickname="nickname",
)
