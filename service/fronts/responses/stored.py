"""The Responses front's side of stored responses (service/storage/responses.py): the input
items as they are kept (each with an id), a conversation continued from
`previous_response_id`, and the response kept before its last event is sent, so a client that
follows up at once always finds it."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import SecretStr, ValidationError

from generated.openai import CreateResponse
from service.access.caller import Caller
from service.contracts import given
from service.errors import ServiceError, invalid, not_found
from service.fronts.responses.encode import new_id, response_of_item

log = logging.getLogger("poe2openai.responses")

_ID_PREFIXES = {"message": "msg_", "function_call": "fc_", "function_call_output": "fco_"}


def owner_key(caller: Caller) -> SecretStr:
    """What a stored response belongs to: the issued key (AUTH_MODE=keys), else the Poe key."""
    if caller.client_key is not None:
        return SecretStr("client-key:" + caller.client_key.id)
    return caller.poe_key


def input_items(body: CreateResponse) -> list[dict[str, Any]]:
    """This request's input as items with ids, as input_items.list shows them."""
    if isinstance(body.input, str):
        content = [{"type": "input_text", "text": body.input}]
        return [{"id": new_id("msg_"), "type": "message", "role": "user", "content": content}]
    items = []
    for item in body.input:
        kept = {
            k: v for k, v in item.model_dump(mode="json", by_alias=True).items() if v is not None
        }
        kept.setdefault("type", "message")
        if kept["type"] == "message" and isinstance(kept.get("content"), str):
            # As OpenAI lists them: text as a content part.
            part = "output_text" if kept.get("role") == "assistant" else "input_text"
            kept["content"] = [{"type": part, "text": kept["content"]}]
        if not kept.get("id"):
            kept["id"] = new_id(_ID_PREFIXES.get(kept["type"], "item_"))
        items.append(kept)
    return items


def references(body: CreateResponse) -> list[tuple[int, str]]:
    """(index, item id) of each `item_reference` in the input."""
    if isinstance(body.input, str):
        return []
    return [
        (i, str(getattr(item, "id", "")))
        for i, item in enumerate(body.input)
        if given(getattr(item, "type", None)) == "item_reference"
    ]


async def with_references(store: Any, owner: str, body: CreateResponse) -> CreateResponse:
    """The request with each `item_reference` replaced by the stored output item it names
    (the AI SDK refers to its previous step's reasoning and message this way)."""
    wanted = references(body)
    if not wanted:
        return body
    found = await _stored_items(store, owner, [item_id for _, item_id in wanted])
    for index, item_id in wanted:
        if item_id not in found:
            raise invalid(
                f"Item with id '{item_id}' not found (it may have expired, been deleted, or "
                "belong to another key).",
                param=f"input[{index}]",
                code="item_not_found",
            )
    at = dict(wanted)
    items = [
        found[at[i]] if i in at else item.model_dump(mode="json", by_alias=True)
        for i, item in enumerate(body.input)
    ]
    full = CreateResponse.model_validate({"model": body.model, "input": items})
    return body.model_copy(update={"input": full.input})


async def _stored_items(store: Any, owner: str, item_ids: list[str]) -> dict[str, Any]:
    """The output items of this owner's stored responses, by id (those that exist)."""
    named = {item_id: response_of_item(item_id) for item_id in item_ids}
    responses = await store.get_many(owner, {r for r in named.values() if r is not None})
    found = {}
    for item_id, response_id in named.items():
        response = responses.get(response_id) if response_id else None
        for item in (response or {}).get("output") or []:
            if item.get("id") == item_id:
                found[item_id] = item
    return found


def with_history(
    body: CreateResponse, history: list[dict[str, Any]], items: list[dict[str, Any]]
) -> CreateResponse:
    """The request with the stored conversation before its own input."""
    try:
        full = CreateResponse.model_validate({"model": body.model, "input": history + items})
    except ValidationError:  # stored by an older version of the contract
        raise invalid(
            "The conversation of `previous_response_id` can no longer be read: send the "
            "whole conversation as input items instead",
            param="previous_response_id",
            code="previous_response_not_found",
        ) from None
    return body.model_copy(update={"input": full.input})


def previous_not_found(response_id: str) -> ServiceError:
    return invalid(
        f"Previous response with id '{response_id}' not found (it may have expired, been "
        "deleted, or belong to another key).",
        param="previous_response_id",
        code="previous_response_not_found",
    )


def response_not_found(response_id: str) -> ServiceError:
    return not_found(
        f"Response with id '{response_id}' not found.",
        param="response_id",
        code="response_not_found",
    )


class Keeper:
    """Keeps one response when it is final (completed, incomplete or failed). A store that
    cannot be written is logged, never the client's failure: the answer is still good."""

    def __init__(
        self, store: Any, owner: str, items: list[dict[str, Any]], previous: str | None
    ) -> None:
        self._store = store
        self._owner = owner
        self._items = items
        self._previous = previous

    async def keep(self, response: dict[str, Any]) -> None:
        try:
            await self._store.save(self._owner, response, self._items, self._previous)
        except Exception as exc:
            log.warning("response %s could not be stored: %s", response.get("id"), exc)


def store_wanted(body: CreateResponse) -> bool:
    return given(body.store) is not False
