"""The functions other parts of the service call to move metrics, and the model label rule."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from service.core.catalog import CatalogView, ModelEntry
from service.ops import metrics
from service.storage.models_config import Overlay


def sample(name: str, **labels: str) -> float:
    text = metrics.exposition().decode()
    for family in text_string_to_metric_families(text):
        for one in family.samples:
            if one.name == name and one.labels == labels:
                return one.value
    return 0.0


class _Catalog:
    """What the labels read from the catalog: its current view, as its own lookups leave it."""

    def __init__(self, ids: list[str], aliases: dict[str, str] | None = None) -> None:
        entries = [ModelEntry({"id": i, "object": "model"}, {"id": i}) for i in ids]
        overlay = Overlay(enabled=bool(aliases), aliases=aliases or {})
        self._cached_view = (entries, overlay, CatalogView.build(entries, overlay))


@pytest.fixture
def catalog(monkeypatch):
    catalog = _Catalog(["GPT-4o", "Claude-Sonnet-4.5"], aliases={"smart": "GPT-4o"})
    monkeypatch.setattr(metrics.model_label, "catalog", catalog)
    return catalog


def test_limit_rejected_counts_per_limit():
    before = sample("poe2openai_limit_rejections_total", limit="rpm")
    metrics.limit_rejected("rpm")
    metrics.limit_rejected("rpm")
    assert sample("poe2openai_limit_rejections_total", limit="rpm") == before + 2


def test_points_spent_adds_up_per_known_model_and_others_are_other(catalog):
    known = sample("poe2openai_points_total", model="GPT-4o")
    other = sample("poe2openai_points_total", model="other")
    metrics.points_spent("gpt-4o", 12.5)
    metrics.points_spent("GPT-4o", 0.5)
    metrics.points_spent("someones-private-bot", 3)
    assert sample("poe2openai_points_total", model="GPT-4o") == known + 13
    assert sample("poe2openai_points_total", model="other") == other + 3


def test_points_balance_shows_the_latest_value():
    metrics.points_balance(1000)
    metrics.points_balance(975.5)
    assert sample("poe2openai_poe_points_balance") == 975.5


@pytest.mark.parametrize(
    ("asked", "label"),
    [
        ("GPT-4o", "GPT-4o"),
        ("gpt-4O", "GPT-4o"),  # every spelling of one model is one label
        ("claude-sonnet-4-5-20250929", "Claude-Sonnet-4.5"),  # found loosely
        ("smart", "smart"),  # an alias in models.yaml
        ("whatever-a-client-sends", "other"),
    ],
)
def test_a_model_label_is_a_name_the_catalog_knows(catalog, asked, label):
    assert metrics.model_label(asked) == label


def test_without_a_model_list_every_name_is_other(monkeypatch):
    monkeypatch.setattr(metrics.model_label, "catalog", None)
    assert metrics.model_label("GPT-4o") == "other"


@pytest.mark.parametrize(
    ("route", "front"),
    [
        ("poe2openai.chat.chat_completions", "chat"),
        ("poe2openai.anthropic.messages_unversioned", "messages"),
        ("poe2openai.responses.create_response", "responses"),
        ("poe2openai.admin.keys_list", "admin"),
        ("poe2openai.health.healthz", "other"),
        (None, "other"),  # no route: a 404
    ],
)
def test_the_front_comes_from_the_route(route, front):
    assert metrics.front_of(SimpleNamespace(name=route) if route else None) == front
