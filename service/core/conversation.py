"""The conversation every front parses its request into, and the core answers. No I/O.

It holds what Poe can act on, in neutral terms: turns with text and file parts, the assistant's
earlier tool calls and the results sent back, the tools on offer, and options for the answer.
System text is a turn of its own (OpenAI allows system messages anywhere; Anthropic's `system`
becomes the first turn).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from service.core.structured import OutputFormat

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(slots=True)
class TextPart:
    text: str


@dataclass(frozen=True, slots=True)
class FilePart:
    """An image, audio clip or document to attach: a URL (http(s) for Poe to fetch, or a
    `data:` URI) or base64 `data`. `param` is where it was in the request, for a 400."""

    param: str
    url: str | None = None
    data: str | None = None
    media_type: str | None = None  # as declared; None: told from the name or the bytes
    filename: str | None = None
    fallback_type: str = "application/octet-stream"  # for a URL whose name tells no type


Part = TextPart | FilePart


@dataclass(slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text, as clients and Poe carry it


@dataclass(slots=True)
class Turn:
    role: Role
    parts: list[Part] = field(default_factory=list)
    name: str | None = None  # the sender's name, where the client gave one
    tool_calls: list[ToolCall] = field(default_factory=list)  # assistant turns
    tool_call_id: str | None = None  # tool turns: the call this result answers
    is_error: bool = False  # tool turns: the tool reported a failure


@dataclass(slots=True)
class ToolSpec:
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None  # JSON schema of the arguments


@dataclass(frozen=True, slots=True)
class NamedTool:
    """tool_choice naming the one function the answer must call."""

    name: str


ToolChoice = Literal["auto", "none", "required"] | NamedTool | None


@dataclass(slots=True)
class AnswerOptions:
    stop: list[str] | None = None
    temperature: float | None = None
    max_tokens: int | None = None  # Poe takes no limit; kept for the answer's finish reason
    reasoning_effort: str | None = None
    thinking_budget: int | None = None
    logit_bias: dict[str, Any] | None = None
    output_format: OutputFormat | None = None  # the answer is asked for as JSON
    # Further bot parameters the client sent (extra fields); only those Poe's model list
    # declares for the bot reach it.
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Conversation:
    turns: list[Turn]
    tools: list[ToolSpec] = field(default_factory=list)
    tool_choice: ToolChoice = None
    parallel_tool_calls: bool = True
    options: AnswerOptions = field(default_factory=AnswerOptions)

    def file_parts(self) -> list[tuple[int, int, FilePart]]:
        """(turn index, part index, part) of every file part, in order."""
        return [
            (i, j, part)
            for i, turn in enumerate(self.turns)
            for j, part in enumerate(turn.parts)
            if isinstance(part, FilePart)
        ]
