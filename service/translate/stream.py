"""Poe events -> OpenAI deltas: one state machine for streamed and whole answers.

Text goes through three stages: the answer's text (replacements, files: answer_text.py), the
thinking/answer split (reasoning.py), and, for bots on prompted tools, the tool-call parser
(prompt_tools.py). Native tool calls arrive in `json` events (tool_calls.py). `feed` returns
the deltas to stream for an event; `message()` is the whole answer for stream=false, computed
from the final text so it is exactly what the bot left (replacements applied).
"""

from __future__ import annotations

from typing import Any

from service.poe.client import PoeEvent
from service.translate.answer_text import AnswerText
from service.translate.prompt_tools import ToolCallParser
from service.translate.reasoning import ReasoningSplitter
from service.translate.tool_calls import ToolCalls

Delta = dict[str, Any]


class AnswerTranslator:
    __slots__ = (
        "_images_sent",
        "_prompt_tools",
        "_reasoning_mode",
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
    ) -> None:
        """With streaming=False, `feed` only gathers the answer for `message()`."""
        self._streaming = streaming
        self.text = AnswerText()
        self.native_calls = ToolCalls()
        self._reasoning_mode = reasoning
        self._prompt_tools = prompt_tools
        self._splitter = ReasoningSplitter(reasoning)
        self._tool_parser = ToolCallParser(prompt_tools) if prompt_tools else None
        self._images_sent = 0

    def feed(self, event: PoeEvent) -> list[Delta]:
        if event.kind == "json":
            return self._json(event.data)
        if not self._streaming:
            self.text.feed(event)
            return []
        deltas = self._shape(
            self._splitter.feed(self.text.feed(event))
            if event.kind in ("text", "replace_response", "file")
            else []
        )
        if len(self.text.images) > self._images_sent:
            deltas.append(
                {"images": [_image(url) for url in self.text.images[self._images_sent :]]}
            )
            self._images_sent = len(self.text.images)
        return deltas

    def finish(self) -> list[Delta]:
        if not self._streaming:
            self.text.finish()
            return []
        pieces = self._splitter.feed(self.text.finish()) + self._splitter.finish()
        deltas = self._shape(pieces)
        if self._tool_parser is not None:
            deltas += self._calls(self._tool_parser.finish())
        return deltas

    @property
    def finish_reason(self) -> str:
        """After finish() (and message() for a whole answer, which parses prompted calls)."""
        return "tool_calls" if self.native_calls.calls else "stop"

    def message(self) -> dict[str, Any]:
        """The whole answer as a chat.completion message (after finish())."""
        whole = AnswerTranslator(self._reasoning_mode, self._prompt_tools)
        whole.native_calls = self.native_calls  # already accumulated from json events
        pieces = whole._splitter.feed(self.text.content) + whole._splitter.finish()
        content, reasoning = [], []
        for kind, text in pieces:
            (reasoning if kind == "reasoning" else content).append(text)
        text = "".join(content)
        if whole._tool_parser is not None:
            events = whole._tool_parser.feed(text) + whole._tool_parser.finish()
            text = "".join(value for kind, value in events if kind == "content")
            for kind, value in events:
                if kind == "call":
                    whole.native_calls.add_whole(value["name"], value["arguments"], value["id"])
        message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
        if reasoning:
            message["reasoning_content"] = "".join(reasoning)
        if whole.native_calls.calls:
            message["tool_calls"] = whole.native_calls.calls
            if not text.strip():
                message["content"] = None
        if self.text.images:
            message["images"] = [_image(url) for url in self.text.images]
        return message

    def _json(self, data: dict[str, Any]) -> list[Delta]:
        deltas: list[Delta] = [{"tool_calls": [d]} for d in self.native_calls.from_poe_chunk(data)]
        try:
            content = data["choices"][0]["delta"].get("content")
        except (KeyError, IndexError, TypeError, AttributeError):
            content = None
        if isinstance(content, str) and content:
            text = self.text.append(content)
            if self._streaming:
                deltas = self._shape(self._splitter.feed(text)) + deltas
        return deltas

    def _shape(self, pieces: list[tuple[str, str]]) -> list[Delta]:
        deltas: list[Delta] = []
        for kind, text in pieces:
            if kind == "reasoning":
                deltas.append({"reasoning_content": text})
            elif self._tool_parser is None:
                deltas.append({"content": text})
            else:
                deltas += self._calls(self._tool_parser.feed(text))
        return deltas

    def _calls(self, events: list[tuple[str, Any]]) -> list[Delta]:
        deltas: list[Delta] = []
        for kind, value in events:
            if kind == "content":
                deltas.append({"content": value})
            else:
                delta = self.native_calls.add_whole(value["name"], value["arguments"], value["id"])
                deltas.append({"tool_calls": [delta]})
        return deltas


def _image(url: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}}
