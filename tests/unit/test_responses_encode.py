"""The Response object's parts (service/fronts/responses/encode.py)."""

from __future__ import annotations

import pytest

from service.core.conversation import ToolCall
from service.core.events import WholeAnswer
from service.errors import ErrorKind, ServiceError, from_poe
from service.fronts.responses.encode import failure, finished, output_items
from service.poe.errors import PoeError, PoeFailure


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (PoeFailure.INSUFFICIENT_POINTS, "insufficient_quota"),
        (PoeFailure.TOO_LONG, "context_length_exceeded"),
        (PoeFailure.RATE_LIMITED, "rate_limit_exceeded"),
        (PoeFailure.UPSTREAM, "server_error"),
        (PoeFailure.TIMEOUT, "server_error"),
        (PoeFailure.BAD_REQUEST, "invalid_prompt"),
    ],
)
def test_poe_failures_get_the_codes_codex_acts_on(kind, code):
    assert failure(from_poe(PoeError(kind, "It failed.")))["code"] == code


def test_a_rate_limit_says_how_long_to_wait():
    error = from_poe(PoeError(PoeFailure.RATE_LIMITED, "Slow down.", retry_after=7))
    assert failure(error) == {
        "code": "rate_limit_exceeded",
        "message": "Slow down. Please try again in 7s.",
    }
    own = ServiceError(ErrorKind.RATE_LIMITED, "Too many requests", headers={"retry-after": "3"})
    assert failure(own)["message"].endswith("try again in 3s.")


def test_output_items_come_reasoning_text_calls():
    whole = WholeAnswer(
        text="Let me look.", reasoning="hmm", tool_calls=[ToolCall("call_1", "f", "{}")]
    )
    items = output_items(whole, "resp_1")
    assert [i["type"] for i in items] == ["reasoning", "message", "function_call"]
    assert [i["id"][:3] for i in items] == ["rs_", "msg", "fc_"]
    assert items[2]["call_id"] == "call_1"
    only_call = output_items(WholeAnswer(tool_calls=[ToolCall("c", "f", "{}")]), "resp_1")
    assert [i["type"] for i in only_call] == ["function_call"]
    assert [i["type"] for i in output_items(WholeAnswer(), "resp_1")] == [
        "message"
    ]  # empty, not nothing


def test_a_cut_answer_is_incomplete():
    head = {"id": "resp_1", "status": "in_progress"}
    done = finished(head, [], {}, "max_tokens")
    assert (done["status"], done["incomplete_details"]) == (
        "incomplete",
        {"reason": "max_output_tokens"},
    )
    assert finished(head, [], {}, "tool_calls")["status"] == "completed"


def test_an_output_item_id_names_its_response_and_other_ids_name_none():
    from service.fronts.responses.encode import output_item_id, response_of_item

    item_id = output_item_id("msg_", "resp_0123abcd", 2)
    assert item_id.startswith("msg_") and response_of_item(item_id) == "resp_0123abcd"
    assert response_of_item("fc_" + "ab_cd" + "_10") == "resp_ab_cd"
    for foreign in ("msg_67ccd3a9da748190", "rs_", "item", "msg__1", "msg_x_y"):
        assert response_of_item(foreign) is None
