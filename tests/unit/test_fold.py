"""Stream and whole answer can never disagree: for every demo bot, with its text split anywhere
and its events batched anyhow, each front's stream folded by that front's own SDK (the openai
SDK's ChatCompletionStreamState, the anthropic SDK's accumulate_event) equals the whole answer
that front returns for the same events."""

from __future__ import annotations

import asyncio
import itertools
import json
from functools import cache
from typing import Any

import pytest
from anthropic._models import construct_type
from anthropic.lib.streaming._messages import accumulate_event
from anthropic.types import RawMessageStreamEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletionChunk

from service.core.answer import AnswerState
from service.core.engine import answer_events
from service.demo import upstream as demo
from service.fronts.anthropic.encode import BlockWriter, content_blocks, stop_reason
from service.fronts.openai.chat_encode import ChunkWriter, finish_reason, message
from service.poe.client import PoeEvent

TOOL = {
    "type": "function",
    "function": {
        "name": "lookup",
        "description": "Looks a word up",
        "parameters": {"type": "object", "properties": {"word": {"type": "string"}}},
    },
}


class Wire:
    """Where Sanic would put the frames: the socket. Collects the bytes."""

    def __init__(self) -> None:
        self.data = bytearray()

    async def respond(self, **_: Any) -> Wire:
        return self

    async def send(self, frame: bytes) -> None:
        self.data += frame

    async def eof(self) -> None:
        return None


@cache
def bot_events(name: str) -> tuple[PoeEvent, ...]:
    """What the demo bot sends, as the Poe client hands it over (up to `error` or the end)."""
    query = {
        "query": [{"role": "user", "content": "hello"}],
        "tools": [TOOL],
        "_demo_base": "http://127.0.0.1:9",
    }

    async def collect() -> list[PoeEvent]:
        events = []
        async for kind, data in demo.BOTS[name][0](query):
            if kind == "error":
                break
            events.append(PoeEvent(kind, data))
        return events

    real_sleep = asyncio.sleep

    async def no_wait(_: float) -> None:
        await real_sleep(0)

    asyncio.sleep = no_wait  # the demo bots pace themselves; the test need not wait
    try:
        return tuple(asyncio.run(collect()))
    finally:
        asyncio.sleep = real_sleep


@st.composite
def delivered(draw: st.DrawFn, events: tuple[PoeEvent, ...]) -> list[list[PoeEvent]]:
    """The events with each text split anywhere, in batches of any size."""
    pieces: list[PoeEvent] = []
    for event in events:
        text = event.data.get("text")
        if event.kind != "text" or not text:
            pieces.append(event)
            continue
        cuts = sorted(draw(st.sets(st.integers(1, max(1, len(text) - 1)), max_size=6)))
        bounds = [0, *cuts, len(text)]
        pieces += [
            PoeEvent("text", {"text": text[a:b]}) for a, b in itertools.pairwise(bounds) if b > a
        ]
    batches: list[list[PoeEvent]] = []
    while pieces:
        size = draw(st.integers(1, len(pieces)))
        batches.append(pieces[:size])
        pieces = pieces[size:]
    return batches


def whole_answer(batches: list[list[PoeEvent]]) -> Any:
    state = AnswerState(prompt_tools=None, streaming=False)
    for batch in batches:
        for event in batch:
            state.feed(event)
    state.finish()
    return state.whole()


async def _source(batches: list[list[PoeEvent]]) -> Any:
    for batch in batches:
        yield list(batch)


async def _wire(
    writer_class: type, batches: list[list[PoeEvent]], hold_back: bool, **kw: Any
) -> bytes:
    wire = Wire()
    writer = writer_class(wire, **kw)
    state = AnswerState(streaming=not hold_back)
    async for events in answer_events(_source(batches), state, hold_back):
        await writer.events(events)
    return bytes(wire.data)


def openai_fold(frames: bytes) -> Any:
    state = ChatCompletionStreamState()
    for frame in frames.decode().split("\n\n"):
        if frame.startswith("data: {"):
            state.handle_chunk(ChatCompletionChunk.model_validate(json.loads(frame[6:])))
    return state.get_final_completion().choices[0]


def anthropic_fold(frames: bytes) -> Any:
    snapshot, buffers = None, {}
    for frame in frames.decode().strip().split("\n\n"):
        data = json.loads(frame.split("\ndata: ", 1)[1])
        event = construct_type(type_=RawMessageStreamEvent, value=data)
        snapshot = accumulate_event(event=event, current_snapshot=snapshot, json_bufs=buffers)
    return snapshot


@pytest.mark.parametrize("bot", list(demo.BOTS))
@given(data=st.data())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_each_fronts_folded_stream_equals_its_whole_answer(bot, data):
    batches = data.draw(delivered(bot_events(bot)))
    whole = whole_answer(batches)
    hold_back = bot == "replace"  # a bot that rewrites its answer: its replace_response setting

    chat = openai_fold(
        asyncio.run(
            _wire(
                ChunkWriter,
                batches,
                hold_back,
                completion_id="c",
                created=1,
                model=bot,
                include_usage=False,
            )
        )
    )
    expected = message(whole)
    folded = chat.message
    assert folded.content == expected["content"]
    assert getattr(folded, "reasoning_content", None) == expected.get("reasoning_content")
    calls = [(c.id, c.function.name, c.function.arguments) for c in folded.tool_calls or []]
    assert calls == [
        (c["id"], c["function"]["name"], c["function"]["arguments"])
        for c in expected.get("tool_calls", [])
    ]
    assert chat.finish_reason == finish_reason(whole.finish_reason)

    messages = anthropic_fold(
        asyncio.run(
            _wire(BlockWriter, batches, hold_back, message_id="msg_1", model=bot, input_tokens=1)
        )
    )
    assert [b.model_dump(exclude_none=True) for b in messages.content] == content_blocks(whole)
    assert messages.stop_reason == stop_reason(whole.finish_reason)
