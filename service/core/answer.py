"""Poe events -> neutral answer events: one state machine for streamed and whole answers.

Text goes through up to four stages: the answer's text (replacements, files: answer_text.py),
the thinking/answer split (reasoning.py), for bots on prompted tools (or native-tools bots that
read earlier rounds as text) the tool-call parser (prompt_tools.py), and for an answer asked
for as JSON the cleaner that passes on only the value (structured.py). Native tool calls arrive
in `json` events (tool_calls.py).

`feed` returns the events to stream for a Poe event and `finish` the rest, ending with the
`Finish` (streaming=False: both return nothing, and `feed` only gathers the answer).
`whole()` builds the whole answer from the final state alone (the text exactly as the bot left
it, replacements applied, and the native calls): it reads the state and changes nothing, so a
stream's own calls are never counted or sent twice.
"""

from __future__ import annotations

import logging
from typing import Any

from service.core.answer_text import AnswerText
from service.core.conversation import ToolCall
from service.core.events import (
    AnswerEvent,
    Finish,
    FinishReason,
    Images,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    ToolCallStart,
    WholeAnswer,
)
from service.core.prompt_tools import ToolCallParser
from service.core.reasoning import ReasoningSplitter
from service.core.structured import OutputFormat
from service.core.tool_calls import ToolCalls
from service.poe.client import PoeEvent

log = logging.getLogger("poe2openai.answer")

_TEXT_EVENTS = ("text", "replace_response", "file")
_CALL_EVENTS = (ToolCallStart, ToolCallDelta)


class AnswerState:
    __slots__ = (
        "_cleaner",
        "_cut",
        "_dropped_calls",
        "_format",
        "_images_sent",
        "_prompt_calls",
        "_prompt_tools",
        "_reasoning_mode",
        "_single_call",
        "_splitter",
        "_streaming",
        "_tool_parser",
        "native_calls",
        "text",
    )

    def __init__(
        self,
        reasoning: str = "reasoning_content",
        prompt_tools: list[dict[str, Any]] | None = None,
        streaming: bool = True,
        single_call: bool = False,
        output_format: OutputFormat | None = None,
    ) -> None:
        """With streaming=False, `feed` only gathers the answer for `whole()`. `single_call`
        (parallel_tool_calls: false): calls after the first are dropped, and said so in the log.
        `output_format`: the answer was asked for as JSON; only the value is passed on."""
        self._streaming = streaming
        self._single_call = single_call
        self._dropped_calls = False
        self.text = AnswerText()
        self.native_calls = ToolCalls()
        self._reasoning_mode = reasoning
        self._prompt_tools = prompt_tools
        self._splitter = ReasoningSplitter(reasoning)
        self._tool_parser = ToolCallParser(prompt_tools) if prompt_tools else None
        self._prompt_calls = 0  # prompted calls streamed so far
        self._images_sent = 0
        self._cut = False  # the bot said its answer was cut at a length limit
        self._format = output_format
        self._cleaner = output_format.cleaner() if output_format and streaming else None

    def feed(self, event: PoeEvent) -> list[AnswerEvent]:
        if event.kind == "json":
            return self._one_call(self._json(event.data))
        if not self._streaming:
            self.text.feed(event)
            return []
        if event.kind not in _TEXT_EVENTS:
            return []
        events = self._one_call(self._shape(self._splitter.feed(self.text.feed(event))))
        if len(self.text.images) > self._images_sent:
            events.append(Images(tuple(self.text.images[self._images_sent :])))
            self._images_sent = len(self.text.images)
        return events

    def finish(self) -> list[AnswerEvent]:
        """Streaming: what is still held back, then the Finish (without usage). Otherwise
        nothing: the whole answer, finish reason included, is `whole()`."""
        if not self._streaming:
            self.text.finish()
            return []
        events = self._shape(self._splitter.feed(self.text.finish()) + self._splitter.finish())
        if self._tool_parser is not None:
            events += self._clean(self._calls(self._tool_parser.finish()))
        if self._cleaner is not None and (held := self._cleaner.finish()):
            events.append(TextDelta(held))  # no JSON value in it: the text as the bot said it
        events = self._one_call(events)
        return [*events, Finish(self._reason(bool(self.native_calls.calls or self._prompt_calls)))]

    def whole(self) -> WholeAnswer:
        """The whole answer, from the final text and the native calls (after finish())."""
        splitter = ReasoningSplitter(self._reasoning_mode)
        content, reasoning = [], []
        for kind, piece in splitter.feed(self.text.content) + splitter.finish():
            (reasoning if kind == "reasoning" else content).append(piece)
        text = "".join(content)
        calls = [ToolCall(c.id, c.name, c.arguments) for c in self.native_calls.calls]
        if self._prompt_tools:
            parser = ToolCallParser(self._prompt_tools)
            parsed = parser.feed(text) + parser.finish()
            text = "".join(value for kind, value in parsed if kind == "content")
            calls += [
                ToolCall(value["id"], value["name"], value["arguments"])
                for kind, value in parsed
                if kind == "call"
            ]
        if self._single_call and len(calls) > 1:
            self._dropped()
            calls = calls[:1]
        error = None
        if self._format is not None:
            cleaner = self._format.cleaner()
            text = cleaner.feed(text) + cleaner.finish()
            if not calls:  # an answer that calls tools is not the JSON value yet
                error = self._format.check(text)
        return WholeAnswer(
            text=text,
            reasoning="".join(reasoning),
            tool_calls=calls,
            images=list(self.text.images),
            finish_reason=self._reason(bool(calls)),
            output_error=error,
        )

    def _one_call(self, events: list[AnswerEvent]) -> list[AnswerEvent]:
        """Without the events of calls after the first, when only one is wanted."""
        if not self._single_call:
            return events
        kept = [e for e in events if not (type(e) in _CALL_EVENTS and e.index > 0)]
        if len(kept) < len(events):
            self._dropped()
        return kept

    def _dropped(self) -> None:
        if not self._dropped_calls:  # once per answer
            self._dropped_calls = True
            log.info("parallel_tool_calls is false: the tool calls after the first were dropped")

    def _reason(self, called: bool) -> FinishReason:
        if called:
            return "tool_calls"
        return "max_tokens" if self._cut else "stop"

    def _json(self, data: dict[str, Any]) -> list[AnswerEvent]:
        events: list[AnswerEvent] = list(self.native_calls.from_poe_chunk(data))
        try:
            choice = data["choices"][0]
            content = choice["delta"].get("content")
            self._cut = self._cut or choice.get("finish_reason") == "length"
        except (KeyError, IndexError, TypeError, AttributeError):
            content = None
        if isinstance(content, str) and content:
            text = self.text.append(content)
            if self._streaming:
                events = self._shape(self._splitter.feed(text)) + events
        return events

    def _shape(self, pieces: list[tuple[str, str]]) -> list[AnswerEvent]:
        events: list[AnswerEvent] = []
        for kind, text in pieces:
            if kind == "reasoning":
                events.append(ReasoningDelta(text))
            elif self._tool_parser is None:
                events.append(TextDelta(text))
            else:
                events += self._calls(self._tool_parser.feed(text))
        return self._clean(events)

    def _clean(self, events: list[AnswerEvent]) -> list[AnswerEvent]:
        """Only the JSON value of the text, when the answer was asked for as JSON."""
        if self._cleaner is None:
            return events
        cleaned: list[AnswerEvent] = []
        for event in events:
            if type(event) is TextDelta:
                if text := self._cleaner.feed(event.text):
                    cleaned.append(TextDelta(text))
            else:
                cleaned.append(event)
        return cleaned

    def _calls(self, parsed: list[tuple[str, Any]]) -> list[AnswerEvent]:
        events: list[AnswerEvent] = []
        for kind, value in parsed:
            if kind == "content":
                events.append(TextDelta(value))
            else:
                index = len(self.native_calls.calls) + self._prompt_calls
                self._prompt_calls += 1
                events.append(ToolCallStart(index, value["id"], value["name"], value["arguments"]))
        return events
