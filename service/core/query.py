"""A conversation -> the Poe query body. Pure: no I/O.

Files were uploaded before this runs: `attachments` maps (turn index, part index) to the Poe
attachment for that part. Tools reach the bot natively (Poe's `tools`, `tool_calls`,
`tool_results`) or, for bots without native tools, described in the system message and called
in the answer's text (prompt_tools.py). An answer asked for as JSON is asked for in the system
message too (structured.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from service.core.conversation import Conversation, FilePart, TextPart, ToolCall, Turn
from service.core.prompt_tools import (
    EARLIER_ROUNDS_NOTE,
    assistant_tool_calls_text,
    build_tool_prompt,
    native_tool_instruction,
    tool_result_text,
)

if TYPE_CHECKING:
    from service.core.catalog import ResolvedModel
    from service.core.structured import OutputFormat

PROTOCOL_VERSION = "1.2"

# Poe has no `assistant` (a fastapi_poe server answers 500 to it).
_ROLES = {"system": "system", "user": "user", "assistant": "bot", "tool": "tool"}


@dataclass
class QueryPlan:
    """The Poe query and what answering it needs besides."""

    query: dict[str, Any]
    prompt_tools: list[dict[str, Any]] | None = None  # tools the answer's text may call
    prompt_texts: list[str] = field(default_factory=list)  # for usage
    # parallel_tool_calls: false, which no bot can be told for sure: calls after the first are
    # dropped from the answer.
    single_call: bool = False
    output_format: OutputFormat | None = None  # the answer is cleaned and checked as JSON


def build_query(
    conversation: Conversation,
    model: ResolvedModel,
    attachments: dict[tuple[int, int], dict[str, Any]] | None = None,
) -> QueryPlan:
    attachments = {} if attachments is None else attachments
    tools = [_flat_tool(t) for t in conversation.tools]
    choice = conversation.tool_choice
    mode = model.tool_mode if tools and choice != "none" else "off"

    messages: list[dict[str, Any]] = []
    top_calls: list[dict[str, Any]] = []
    top_results: list[dict[str, Any]] = []
    names_by_call: dict[str, str] = {}
    rounds_as_text = False  # a native-tools bot sees earlier tool rounds written out
    turns = conversation.turns
    last_user = max((i for i, t in enumerate(turns) if t.role == "user"), default=-1)
    for i, turn in enumerate(turns):
        role = _ROLES[turn.role]
        content = _text(turn)
        files = [attachments[i, j] for j, p in enumerate(turn.parts) if isinstance(p, FilePart)]
        for call in turn.tool_calls:
            names_by_call[call.id] = call.name
        latest_round = i > last_user
        if turn.role == "assistant" and turn.tool_calls:
            if mode == "native" and latest_round:
                top_calls += [_poe_call(c) for c in turn.tool_calls]  # Poe wants them on top
                if not content and not files:
                    continue  # nothing left of this turn in the conversation itself
            else:
                calls = [_flat_call(c) for c in turn.tool_calls]
                content = "\n".join(filter(None, [content, assistant_tool_calls_text(calls)]))
                rounds_as_text = rounds_as_text or mode == "native"
        if turn.role == "tool":
            call_id = turn.tool_call_id or ""
            name = names_by_call.get(call_id)
            if turn.is_error:
                content = f"Error: {content}" if content else "Error"
            if mode == "native" and latest_round:
                top_results.append(
                    {
                        "role": "tool",
                        "name": name or "",
                        "tool_call_id": call_id,
                        "content": content,
                    }
                )
                continue
            role, content = "user", tool_result_text(name, call_id, content)
            rounds_as_text = rounds_as_text or mode == "native"
        if messages and messages[-1]["role"] == role:
            # Some bots want strict user/bot alternation; Poe's own helper merges like this.
            previous = messages[-1]
            previous["content"] = "\n\n".join(p for p in (previous["content"], content) if p)
            previous["attachments"] += files
            continue
        message = {
            "role": role,
            "content": content,
            "content_type": "text/markdown",
            "attachments": files,
            "parameters": {},
        }
        if turn.name:
            message["sender"] = {"name": turn.name}
        messages.append(message)

    prompt_tools = None
    parallel = conversation.parallel_tool_calls
    if mode == "prompt":
        prompt_tools = tools
        _add_to_system(messages, build_tool_prompt(tools, _choice(choice), parallel))
    elif mode == "native":
        # Poe's protocol carries tools but no tool_choice: the bot is told in words.
        _add_to_system(messages, native_tool_instruction(_choice(choice), parallel))
        if rounds_as_text:
            # Poe takes only the latest round natively. A model that reads the earlier ones
            # as text may answer in that form too: such calls are taken out of its text.
            _add_to_system(messages, EARLIER_ROUNDS_NOTE)
            prompt_tools = tools
    output_format = conversation.options.output_format
    if output_format is not None:
        _add_to_system(messages, output_format.instruction())

    parameters = bot_parameters(conversation, model)
    if parameters:
        for message in reversed(messages):
            if message["role"] == "user":
                message["parameters"] = parameters
                break

    query: dict[str, Any] = {
        "version": PROTOCOL_VERSION,
        "type": "query",
        "query": messages,
        "user_id": "",
        "conversation_id": "",
        "message_id": "",
    }
    options = conversation.options
    if options.temperature is not None:
        query["temperature"] = options.temperature
    if options.stop:
        query["stop_sequences"] = list(options.stop)
    if options.logit_bias:
        query["logit_bias"] = dict(options.logit_bias)
    if mode == "native":
        query["tools"] = [_poe_tool(t) for t in tools]
        if top_calls:
            query["tool_calls"] = top_calls
            query["tool_results"] = top_results
    single_call = mode != "off" and not parallel
    return QueryPlan(
        query, prompt_tools, [m["content"] for m in messages], single_call, output_format
    )


def _add_to_system(messages: list[dict[str, Any]], instruction: str) -> None:
    """Append to the system message, or start the conversation with one."""
    if not instruction:
        return
    if messages and messages[0]["role"] == "system":
        messages[0]["content"] = f"{messages[0]['content']}\n\n{instruction}".strip()
        return
    messages.insert(
        0,
        {
            "role": "system",
            "content": instruction,
            "content_type": "text/markdown",
            "attachments": [],
            "parameters": {},
        },
    )


def bot_parameters(conversation: Conversation, model: ResolvedModel) -> dict[str, Any]:
    """Poe `parameters`: the per-model defaults from models.yaml, with what the client sent on
    top, but only parameters Poe's model list declares for the bot (others are ignored)."""
    parameters = dict(model.parameters)
    declared = model.declared_parameters
    if not declared:
        return parameters
    options = conversation.options
    sent = dict(options.parameters)
    if options.reasoning_effort is not None:
        sent["reasoning_effort"] = options.reasoning_effort
    if options.thinking_budget is not None:
        sent.setdefault("thinking_budget", options.thinking_budget)
    parameters.update({k: v for k, v in sent.items() if k in declared})
    return parameters


def _text(turn: Turn) -> str:
    """Poe wants one string per message: the text parts joined."""
    return "\n".join(p.text for p in turn.parts if isinstance(p, TextPart))


def _choice(choice: Any) -> str | dict[str, Any] | None:
    name = getattr(choice, "name", None)
    return {"name": name} if name else choice


def _flat_tool(tool: Any) -> dict[str, Any]:
    flat: dict[str, Any] = {"name": tool.name, "description": tool.description}
    if tool.parameters is not None:
        flat["parameters"] = tool.parameters
    return flat


def _poe_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """Poe requires `description` and `parameters.type/properties/required`: clients omit them."""
    parameters = dict(tool.get("parameters") or {})
    parameters.setdefault("type", "object")
    parameters.setdefault("properties", {})
    parameters.setdefault("required", [])
    function = {
        "name": tool["name"],
        "description": tool.get("description") or "",
        "parameters": parameters,
    }
    return {"type": "function", "function": function}


def _flat_call(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "name": call.name, "arguments": call.arguments}


def _poe_call(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }
