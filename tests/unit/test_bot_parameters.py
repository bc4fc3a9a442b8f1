"""Portable controls and the client's own parameters onto what a bot declares in Poe's list."""

from __future__ import annotations

import pytest

from generated.admin import ModelSettings
from service.core.bot_parameters import bot_parameters
from service.core.catalog import ResolvedModel
from service.core.conversation import AnswerOptions
from service.core.parameter_schema import UNFIT, fit
from tests.support.fake_poe import PARAMETER_BOTS

# As Poe's list declares them for real bots.
GPT = {p["name"]: p["schema"] for p in PARAMETER_BOTS[0]["parameters"]}
GROK_EFFORT = {"reasoning_effort": {"enum": ["low", "medium", "high"]}}
GEMINI_LEVEL = {"thinking_level": {"enum": ["low", "high"]}}
CLAUDE_BUDGET = {"thinking_budget": {"type": "number", "minimum": 0, "maximum": 63999}}
SONNET_EFFORT = {"output_effort": {"enum": ["max", "high", "medium", "low", "none"]}}
GLM_SWITCH = {"enable_thinking": {"type": "boolean"}}
QWEN_SEARCH = {"enable_web_search": {"type": "boolean"}}


def bot(declared: dict | None, settings: dict | None = None) -> ResolvedModel:
    entry = None
    if declared is not None:
        entry = {"id": "b", "parameters": [{"name": n, "schema": s} for n, s in declared.items()]}
    return ResolvedModel.of("b", "b", ModelSettings.model_validate(settings or {}), entry)


def sent(declared: dict | None, settings: dict | None = None, **options):
    result = bot_parameters(AnswerOptions(**options), bot(declared, settings))
    return result.values, list(result.dropped)


@pytest.mark.parametrize(
    ("declared", "effort", "expected"),
    [
        (GROK_EFFORT, "minimal", {"reasoning_effort": "low"}),
        (GROK_EFFORT, "xhigh", {"reasoning_effort": "high"}),
        (GROK_EFFORT, "HIGH", {"reasoning_effort": "high"}),
        (GPT, "minimal", {"reasoning_effort": "low"}),  # a little reasoning is not none
        (GPT, "none", {"reasoning_effort": "none"}),
        (GEMINI_LEVEL, "medium", {"thinking_level": "low"}),  # a tie: the cheaper one
        (SONNET_EFFORT, "xhigh", {"output_effort": "high"}),  # by level, not enum order
        (CLAUDE_BUDGET, "high", {"thinking_budget": 24576}),
        (CLAUDE_BUDGET, "max", {"thinking_budget": 63999}),  # clamped
        (CLAUDE_BUDGET, "none", {"thinking_budget": 0}),
        (GLM_SWITCH, "none", {"enable_thinking": False}),
        (GLM_SWITCH, "low", {"enable_thinking": True}),
    ],
)
def test_an_effort_becomes_the_declared_level_budget_or_switch(declared, effort, expected):
    assert sent(declared, reasoning_effort=effort) == (expected, [])


@pytest.mark.parametrize(
    ("declared", "budget", "expected"),
    [
        (CLAUDE_BUDGET, 2048, {"thinking_budget": 2048}),
        (CLAUDE_BUDGET, 100_000, {"thinking_budget": 63999}),
        ({"budget_tokens": {"type": "integer", "minimum": 1024}}, 10, {"budget_tokens": 1024}),
        (GROK_EFFORT, 1024, {"reasoning_effort": "low"}),
        (GROK_EFFORT, 10_000, {"reasoning_effort": "medium"}),
        (GROK_EFFORT, 31_999, {"reasoning_effort": "high"}),
        (GPT, 0, {"reasoning_effort": "none"}),
    ],
)
def test_a_budget_becomes_the_declared_budget_clamped_or_a_level(declared, budget, expected):
    assert sent(declared, thinking_budget=budget, thinking=True) == (expected, [])


def test_effort_and_budget_each_reach_their_own_parameter():
    declared = GROK_EFFORT | CLAUDE_BUDGET
    assert sent(declared, reasoning_effort="low", thinking_budget=4096) == (
        {"reasoning_effort": "low", "thinking_budget": 4096},
        [],
    )
    # Only an effort declared: the effort wins, the budget is not sent and says so.
    values, dropped = sent(GROK_EFFORT, reasoning_effort="high", thinking_budget=1024)
    assert (values, dropped) == ({"reasoning_effort": "high"}, ["thinking_budget"])


def test_thinking_off_turns_the_bots_reasoning_down():
    assert sent(GLM_SWITCH, thinking=False)[0] == {"enable_thinking": False}
    assert sent(GPT, thinking=False)[0] == {"reasoning_effort": "none"}
    assert sent(GROK_EFFORT, thinking=False)[0] == {"reasoning_effort": "low"}


def test_web_search_and_verbosity_under_the_names_the_bot_uses():
    assert sent(QWEN_SEARCH, web_search=True) == ({"enable_web_search": True}, [])
    assert sent(GPT, web_search=True, verbosity="low") == (
        {"web_search": True, "verbosity": "low"},
        [],
    )
    assert sent(GPT, verbosity="max") == ({"verbosity": "high"}, [])


def test_what_the_bot_does_not_declare_is_dropped_by_the_clients_name():
    values, dropped = sent(
        QWEN_SEARCH,
        reasoning_effort="high",
        thinking_budget=2048,
        thinking=True,
        verbosity="low",
        named={"thinking_budget": "thinking", "thinking": "thinking"},
        parameters={"top_k": 3, "enable_web_search": True},
    )
    assert values == {"enable_web_search": True}
    assert dropped == ["reasoning_effort", "thinking", "verbosity", "top_k"]


def test_an_enum_value_off_the_enum_is_never_sent():
    assert sent(GROK_EFFORT, reasoning_effort="ultra") == ({}, ["reasoning_effort"])
    values, dropped = sent(GEMINI_LEVEL, parameters={"thinking_level": "turbo"})
    assert (values, dropped) == ({}, ["thinking_level"])


def test_explicit_parameters_are_validated_against_their_schema():
    declared = GPT | CLAUDE_BUDGET | {"seed_word": {"type": "string"}}
    values, dropped = sent(
        declared,
        parameters={
            "web_search": "true",  # a boolean, said as text
            "thinking_budget": "90000",  # a number, said as text, clamped
            "reasoning_effort": "minimal",  # the nearest level
            "verbosity": 3,  # wrong type
            "seed_word": ["a"],  # wrong type
        },
    )
    assert values == {"web_search": True, "thinking_budget": 63999, "reasoning_effort": "low"}
    assert dropped == ["verbosity", "seed_word"]


def test_explicit_parameters_win_over_mapped_controls_and_defaults_stay_beneath():
    values, _ = sent(
        GPT,
        settings={"parameters": {"verbosity": "high", "web_search": True, "custom": 1}},
        reasoning_effort="low",
        web_search=False,
        parameters={"reasoning_effort": "high"},
    )
    # models.yaml's defaults are the operator's, sent as they are (undeclared `custom` too).
    assert values == {
        "verbosity": "high",
        "web_search": False,
        "custom": 1,
        "reasoning_effort": "high",
    }


def test_a_listed_bot_declaring_nothing_gets_nothing_from_the_client():
    assert sent({}, web_search=True, parameters={"x": 1}) == ({}, ["web_search", "x"])


def test_a_private_bot_gets_explicit_parameters_and_plainly_named_controls():
    values, dropped = sent(
        None,
        settings={"parameters": {"mode": "a"}},
        reasoning_effort="high",
        web_search=True,
        thinking_budget=2048,
        thinking=True,
        named={"thinking_budget": "thinking", "thinking": "thinking"},
        parameters={"mode": "b", "anything": {"goes": True}},
    )
    assert values == {
        "mode": "b",
        "anything": {"goes": True},
        "reasoning_effort": "high",
        "web_search": True,
    }
    assert dropped == ["thinking"]  # Anthropic's thinking has no name a private bot may know


@pytest.mark.parametrize(
    ("value", "schema", "expected"),
    [
        (1, {"type": "boolean"}, True),
        ("off", {"type": "boolean"}, False),
        ("maybe", {"type": "boolean"}, UNFIT),
        (2048.0, {"type": "integer"}, 2048),
        (True, {"type": "integer"}, UNFIT),
        (-5, {"type": "integer", "minimum": 0}, 0),
        (0.5, {"type": "number", "minimum": 0, "maximum": 1}, 0.5),
        (3, {"type": "integer", "enum": [1, 2, 4]}, 2),
        ("High", {"type": "string", "enum": ["low", "high"]}, "high"),
        ("x", {"type": ["string", "null"]}, "x"),
        ({"a": 1}, {"type": "object"}, {"a": 1}),
        ("b", {"enum": ["a", 1]}, UNFIT),
        ("anything", {}, "anything"),
    ],
)
def test_values_fit_the_declared_schema(value, schema, expected):
    assert fit(value, schema) == expected


def test_an_effort_or_budget_is_translated_only_where_its_own_parameter_is_missing():
    declared = GROK_EFFORT | CLAUDE_BUDGET
    assert sent(declared, thinking_budget=2048)[0] == {"thinking_budget": 2048}
    assert sent(declared, reasoning_effort="high")[0] == {"reasoning_effort": "high"}
    assert sent(declared, thinking=False)[0] == {"reasoning_effort": "low"}
