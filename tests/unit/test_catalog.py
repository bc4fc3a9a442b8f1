"""Model names: forgiving where a name stands for one model, exact where it could stand for two."""

from __future__ import annotations

from service.core.catalog import CatalogView, ModelCatalog, ModelEntry
from service.storage.models_config import Overlay


def view(*ids: str) -> CatalogView:
    entries = [ModelEntry({"id": i, "object": "model", "name": i}, {"id": i}) for i in ids]
    return CatalogView.build(entries, Overlay())


def bot_for(catalog_view: CatalogView, name: str) -> str:
    return ModelCatalog._resolve(name, catalog_view, Overlay()).bot


def test_loose_names_and_provider_prefixes_find_the_one_model():
    models = view("claude-sonnet-4.6", "gpt-5")
    for name in (
        "claude-sonnet-4-6-20250929",
        "anthropic/claude-sonnet-4-6",
        "poe/Claude_Sonnet_4.6",
    ):
        assert bot_for(models, name) == "claude-sonnet-4.6"
    assert bot_for(models, "openai/gpt-5") == "gpt-5"


def test_a_loose_name_of_two_models_is_passed_on_as_it_is():
    models = view("gpt-4.1", "gpt-4-1")  # differ only by a dot: neither is guessed
    assert bot_for(models, "gpt-4.1") == "gpt-4.1" and bot_for(models, "GPT-4-1") == "gpt-4-1"
    assert bot_for(models, "gpt_4_1") == "gpt_4_1"


def test_nearest_names_closest_first_at_most_five():
    models = view("gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-4o", "gpt-4.1", "o3", "claude-opus-4.1")
    assert models.nearest("gpt-5-min")[0] == "gpt-5-mini"
    assert len(models.nearest("gpt-5x")) <= 5
    assert models.nearest("openai/gpt-5-nan")[0] == "gpt-5-nano"
    assert models.nearest("qqzx-private") == []
