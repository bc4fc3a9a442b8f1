"""Poe's model list entries -> OpenAI model objects. Pure, no I/O."""

from __future__ import annotations

from typing import Any

# Poe's `created` is in milliseconds; OpenAI clients expect seconds. Anything above this is
# certainly milliseconds (1e11 seconds is the year 5138).
_MILLISECONDS_THRESHOLD = 100_000_000_000


def to_openai_model(entry: dict[str, Any]) -> dict[str, Any]:
    """One Poe list entry as an OpenAI `Model`, with the optional extras clients read."""
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
    """A custom model from models.yaml (`created` and `owned_by` optional) as an OpenAI model."""
    model: dict[str, Any] = {
        "id": entry["id"],
        "object": "model",
        "created": int(entry.get("created") or 0),
        "owned_by": entry.get("owned_by") or "custom",
    }
    if entry.get("display_name"):
        model["name"] = entry["display_name"]
    return model


def admin_view(entry: Any, overlay: Any) -> dict[str, Any]:
    """A Poe model joined with its settings, for the admin page (openapi/admin.yaml AdminModel).
    The saved settings show even while the overlay is off; `shown` is what /v1/models does."""
    settings = overlay.settings.get(entry.id.lower(), {})
    model = entry.openai
    return {
        "id": entry.id,
        "source": "poe",
        "shown": not overlay.enabled or settings.get("enable") is not False,
        "shown_as": settings.get("mapping") or entry.id,
        "name": model.get("name"),
        "owned_by": model.get("owned_by"),
        "description": model.get("description"),
        "input_modalities": (model.get("architecture") or {}).get("input_modalities", []),
        "context_length": model.get("context_length"),
        "pricing": entry.poe.get("pricing"),
        "supported_features": model.get("supported_features", []),
        "settings": settings,
    }


def custom_view(custom: dict[str, Any], overlay_enabled: bool) -> dict[str, Any]:
    """A custom model from models.yaml, for the admin page (listed only with the overlay on)."""
    return {
        "id": custom["id"],
        "source": "custom",
        "shown": overlay_enabled,
        "shown_as": custom["id"],
        "name": custom.get("display_name"),
        "owned_by": custom.get("owned_by") or "custom",
        "settings": {},
    }
