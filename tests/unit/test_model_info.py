from __future__ import annotations

from service.core.model_info import model_view
from tests.support.fake_poe import MODEL_LIST


def test_full_entry():
    model = model_view(MODEL_LIST[0])
    assert model == {
        "id": "claude-sonnet-4.6",
        "object": "model",
        "created": 1770262891,
        "owned_by": "Anthropic",
        "name": "Claude-Sonnet-4.6",
        "description": "Anthropic's Claude Sonnet 4.6",
        "context_length": 983040,
        "architecture": {
            "input_modalities": ["text", "image"],
            "output_modalities": ["text"],
            "modality": "text,image->text",
        },
        "supported_features": ["web_search", "tools"],
    }


def test_minimal_entry_gets_the_four_required_keys():
    assert model_view({"id": "x"}) == {
        "id": "x",
        "object": "model",
        "created": 0,
        "owned_by": "poe",
    }


def test_created_already_in_seconds_is_kept():
    assert model_view({"id": "x", "created": 1723456789})["created"] == 1723456789


def test_context_length_from_context_window():
    entry = {"id": "x", "context_window": {"context_length": 4096}, "context_length": None}
    assert model_view(entry)["context_length"] == 4096


def test_bad_types_are_tolerated():
    model = model_view(
        {
            "id": "x",
            "created": "yesterday",
            "context_length": True,
            "metadata": None,
            "architecture": None,
        }
    )
    assert model["created"] == 0
    assert "context_length" not in model and "architecture" not in model
