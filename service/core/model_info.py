"""Poe's model list entries -> the model objects clients see. Pure, no I/O.

The service's own model shape is OpenAI's `Model` (plus the extras clients read); the
Anthropic front derives its list from it.
"""

from __future__ import annotations

from typing import Any

# Poe's `created` is in milliseconds; OpenAI clients expect seconds. Anything above this is
# certainly milliseconds (1e11 seconds is the year 5138).
_MILLISECONDS_THRESHOLD = 100_000_000_000


def model_view(entry: dict[str, Any]) -> dict[str, Any]:
    """One Poe list entry as a `Model`, with the optional extras clients read."""
    created = entry.get("created")
    if isinstance(created, bool) or not isinstance(created, int | float) or created < 0:
        created = 0
    elif created > _MILLISECONDS_THRESHOLD:
        created = created / 1000
    model: dict[str, Any] = {
        "id": entry["id"],
        "object": "model",
        "created": int(created),
        "owned_by": entry.get("owned_by") or "poe",
    }
    metadata = entry.get("metadata") or {}
    if metadata.get("display_name"):
        model["name"] = metadata["display_name"]
    if entry.get("description"):
        model["description"] = entry["description"]
    context_length = entry.get("context_length") or (entry.get("context_window") or {}).get(
        "context_length"
    )
    if isinstance(context_length, int) and not isinstance(context_length, bool):
        model["context_length"] = context_length
    architecture = entry.get("architecture") or {}
    if architecture:
        model["architecture"] = {
            key: architecture[key]
            for key in ("input_modalities", "output_modalities", "modality")
            if architecture.get(key) is not None
        }
    if entry.get("supported_features"):
        model["supported_features"] = list(entry["supported_features"])
    return model


def custom_model(entry: dict[str, Any]) -> dict[str, Any]:
    """A custom model from models.yaml (`created` and `owned_by` optional) as a `Model`."""
    model: dict[str, Any] = {
        "id": entry["id"],
        "object": "model",
        "created": int(entry.get("created") or 0),
        "owned_by": entry.get("owned_by") or "custom",
    }
    if entry.get("display_name"):
        model["name"] = entry["display_name"]
    return model
