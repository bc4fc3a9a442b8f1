"""Asks poe2openai for a Person with instructor (JSON_SCHEMA mode) and prints one JSON line:
{"object": ...} or {"error": {"name", "message"}}. Runs in instructor's own virtualenv
(tests/support/instructor_env.py), from the repository root.

    python -m tests.support.instructor_client <base_url> <message>
"""

from __future__ import annotations

import json
import sys

import instructor
from openai import OpenAI

from tests.support.people import Person


def main(base_url: str, message: str) -> None:
    client = instructor.from_openai(
        OpenAI(base_url=base_url, api_key="k", max_retries=0), mode=instructor.Mode.JSON_SCHEMA
    )
    try:
        person = client.chat.completions.create(
            model="structbot",
            response_model=Person,
            messages=[{"role": "user", "content": message}],
            max_retries=0,
        )
        output = {"object": person.model_dump(mode="json")}
    except Exception as err:
        output = {"error": {"name": type(err).__name__, "message": str(err)}}
    print(json.dumps(output))


if __name__ == "__main__":
    main(*sys.argv[1:3])
