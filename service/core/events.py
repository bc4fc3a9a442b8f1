"""What an answer is made of, front-neutral: the events a stream carries and the whole answer.

Each front encodes these into its own frames (OpenAI chat chunks, Anthropic content blocks) or
its own JSON body. A stream is a sequence of events ending with one `Finish`; `WholeAnswer`
is the same answer at once, built from the final state (answer.py), and `events()` replays it
as a stream for answers that are held back and sent once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from service.core.conversation import ToolCall

# stop: the bot ended its turn; tool_calls: it wants tool results; max_tokens: it was cut.
FinishReason = Literal["stop", "tool_calls", "max_tokens"]


class TextDelta(NamedTuple):
    text: str


class ReasoningDelta(NamedTuple):
    text: str


class ToolCallStart(NamedTuple):
    """A new tool call; `arguments` is its first fragment (the whole arguments for calls that
    arrive complete, as prompted calls do)."""

    index: int
    id: str
    name: str
    arguments: str = ""


class ToolCallDelta(NamedTuple):
    index: int
    arguments: str  # a fragment: the fragments of one call concatenate to its JSON arguments


class Images(NamedTuple):
    urls: tuple[str, ...]  # images the bot produced (also linked in the text as markdown)


class Usage(NamedTuple):
    input_tokens: int
    output_tokens: int


class Finish(NamedTuple):
    reason: FinishReason
    usage: Usage | None = None  # when the front asked for it


AnswerEvent = TextDelta | ReasoningDelta | ToolCallStart | ToolCallDelta | Images | Finish


@dataclass(slots=True)
class WholeAnswer:
    text: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    finish_reason: FinishReason = "stop"
    # When the answer was asked for as JSON: None if `text` is a valid value, else why not.
    output_error: str | None = None

    @property
    def output_valid(self) -> bool:
        return self.output_error is None

    def said(self) -> str:
        """Everything the bot produced, for the output token count."""
        text = self.text if self.text.strip() or not self.tool_calls else ""
        parts = [self.reasoning, text, *(call.arguments for call in self.tool_calls)]
        return "\n".join(p for p in parts if p)

    def events(self) -> list[AnswerEvent]:
        """The answer as stream events (without the Finish): thinking, text, calls, images."""
        events: list[AnswerEvent] = []
        if self.reasoning:
            events.append(ReasoningDelta(self.reasoning))
        if self.text:
            events.append(TextDelta(self.text))
        for index, call in enumerate(self.tool_calls):
            events.append(ToolCallStart(index, call.id, call.name, call.arguments))
        if self.images:
            events.append(Images(tuple(self.images)))
        return events
