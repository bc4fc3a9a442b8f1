"""Stored responses the demo starts with, so /docs' "Try it out" of GET and DELETE
/v1/responses/{id} works from its examples (authorised with the key `demo-key`)."""

from __future__ import annotations

import time
from typing import Any

from pydantic import SecretStr
from sqlalchemy.exc import IntegrityError

DEMO_KEY = SecretStr("demo-key")
EXAMPLES = ("resp_demo", "resp_demo_delete")  # the contract's examples (openapi/openai.yaml)


def _response(response_id: str) -> dict[str, Any]:
    text = "Hello from the demo: this response was stored when the demo started."
    return {
        "id": response_id,
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed",
        "model": "echo",
        "output": [
            {
                "type": "message",
                "id": "msg_" + response_id,  # item ids are unique per key
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ],
        "usage": {"input_tokens": 3, "output_tokens": 14, "total_tokens": 17},
        "error": None,
        "incomplete_details": None,
        "store": True,
    }


async def seed(stores: Any) -> None:
    responses = stores.responses
    owner = responses.owner(DEMO_KEY)
    content = [{"type": "input_text", "text": "Hello!"}]
    item = {"id": "msg_demo_in", "type": "message", "role": "user", "content": content}
    for response_id in EXAMPLES:
        if await responses.get(owner, response_id) is None:
            try:
                await responses.save(owner, _response(response_id), [item])
            except IntegrityError:  # another worker stored it first
                pass
