"""The model list in Anthropic's shape, for clients that send `anthropic-version` (Claude
Code's gateway model discovery, the anthropic SDK's `models.list`)."""

from __future__ import annotations

import datetime
from typing import Any

from sanic import Request


def wants_anthropic(request: Request) -> bool:
    return "anthropic-version" in request.headers


def anthropic_model(model: dict[str, Any]) -> dict[str, Any]:
    created = datetime.datetime.fromtimestamp(model.get("created") or 0, datetime.UTC)
    return {
        "type": "model",
        "id": model["id"],
        "display_name": model.get("name") or model["id"],
        "created_at": created.isoformat().replace("+00:00", "Z"),
    }


def anthropic_model_list(models: list[dict[str, Any]]) -> dict[str, Any]:
    data = [anthropic_model(m) for m in models]
    return {
        "data": data,
        "has_more": False,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }
