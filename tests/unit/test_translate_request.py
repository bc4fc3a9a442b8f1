from __future__ import annotations

import pytest

from generated.openai import CreateChatCompletionRequest
from service.errors import InvalidRequest
from service.translate.request import to_poe_query


def query(**body):
    return to_poe_query(
        CreateChatCompletionRequest.model_validate({"model": "m", **body}, strict=True)
    )


def test_roles_merge_and_params():
    q = query(
        messages=[
            {"role": "developer", "content": "d"},
            {"role": "system", "content": "s"},
            {"role": "user", "content": "u", "name": "ann"},
            {"role": "assistant", "content": None},
            {"role": "user", "content": ""},
        ],
        temperature=0.2,
        stop="END",
        logit_bias={"5": 1},
    )
    assert [(m["role"], m["content"]) for m in q["query"]] == [
        ("system", "d\n\ns"),
        ("user", "u"),
        ("bot", ""),
        ("user", ""),
    ]
    assert q["query"][1]["sender"] == {"name": "ann"}
    assert q["temperature"] == 0.2
    assert q["stop_sequences"] == ["END"]
    assert q["logit_bias"] == {"5": 1}
    assert (q["version"], q["type"], q["user_id"]) == ("1.2", "query", "")


def test_unset_options_are_not_sent():
    q = query(messages=[{"role": "user", "content": "x"}])
    assert not {"temperature", "stop_sequences", "logit_bias"} & set(q)


def test_n_above_one_is_refused():
    with pytest.raises(InvalidRequest) as caught:
        to_poe_query(CreateChatCompletionRequest.model_construct(model="m", messages=[], n=2))
    assert caught.value.param == "n"


def test_non_text_part_is_refused_with_its_path():
    with pytest.raises(InvalidRequest) as caught:
        query(
            messages=[
                {"role": "user", "content": "a"},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "x"},
                        {"type": "image_url", "image_url": {"url": "u"}},
                    ],
                },
            ]
        )
    assert caught.value.param == "messages[1].content[1]"
