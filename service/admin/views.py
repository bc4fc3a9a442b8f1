"""The admin page's view of the models: Poe's list joined with models.yaml (openapi/admin.yaml
AdminModel). Pure, no I/O."""

from __future__ import annotations

from typing import Any


def admin_view(entry: Any, overlay: Any) -> dict[str, Any]:
    """A Poe model joined with its settings, for the admin page (openapi/admin.yaml AdminModel).
    The saved settings show even while the overlay is off; `shown` is what /v1/models does."""
    settings = overlay.saved_settings(entry.id)
    model = entry.model
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
