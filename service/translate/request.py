"""OpenAI chat request -> Poe query body. Pure: no I/O.

The request was validated against generated.openai at the edge; unset optional fields are
pydantic's MISSING sentinel, which `_given` turns into None. Files were uploaded before this
runs: `attachments` maps (message index, part index) to the Poe attachment for that part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic.experimental.missing_sentinel import MISSING

from generated.openai import CreateChatCompletionRequest
from service.errors import InvalidRequest
from service.translate.prompt_tools import (
    assistant_tool_calls_text,
    build_tool_prompt,
    tool_result_text,
)

PROTOCOL_VERSION = "1.2"

# Poe has no `assistant` (a fastapi_poe server answers 500 to it) and no `developer`.
_ROLES = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "bot",
    "tool": "tool",
}
UPLOADED_PARTS = ("image_url", "input_audio", "file")


@dataclass
class QueryPlan:
    """What the chat handler needs besides the Poe query itself."""

    query: dict[str, Any]
    prompt_tools: list[dict[str, Any]] | None = None  # tools the answer's text may call
    prompt_texts: list[str] = field(default_factory=list)  # for usage


def _given(value: Any) -> Any:
    return None if value is MISSING else value


def tool_mode(settings: dict[str, Any], entry: dict[str, Any] | None) -> str:
    """native / prompt / off: the per-model setting, else from Poe's list (`tools` in
    supported_features -> native); bots the list does not know are native, the protocol's way."""
    mode = settings.get("tools")
    if mode:
        return mode
    if entry is None:
        return "native"
    return "native" if "tools" in (entry.get("supported_features") or []) else "prompt"


def to_poe_query(
    request: CreateChatCompletionRequest,
    *,
    settings: dict[str, Any] | None = None,
    entry: dict[str, Any] | None = None,
    attachments: dict[tuple[int, int], dict[str, Any]] | None = None,
) -> QueryPlan:
    settings = settings or {}
    attachments = attachments or {}
    n = _given(request.n)
    if n is not None and n > 1:
        raise InvalidRequest("Poe returns one answer per request: `n` must be 1", param="n")
    tools = [_dump(t) for t in _given(request.tools) or []]
    tool_choice = _dump(_given(request.tool_choice))
    mode = tool_mode(settings, entry) if tools and tool_choice != "none" else "off"

    messages: list[dict[str, Any]] = []
    top_calls: list[dict[str, Any]] = []
    top_results: list[dict[str, Any]] = []
    names_by_call: dict[str, str] = {}
    last_user = max((i for i, m in enumerate(request.messages) if m.role == "user"), default=-1)
    for i, message in enumerate(request.messages):
        role = _ROLES[message.role]
        content = _flatten(_given(message.content), f"messages[{i}].content", i, attachments)
        files = [a for (mi, _), a in attachments.items() if mi == i]
        calls = [_dump(c) for c in _given(getattr(message, "tool_calls", MISSING)) or []]
        for call in calls:
            names_by_call[call["id"]] = call["function"]["name"]
        latest_round = i > last_user
        if message.role == "assistant" and calls:
            if mode == "native" and latest_round:
                top_calls += calls  # Poe wants the latest round's calls at the top level
                if not content and not files:
                    continue  # nothing left of this turn in the conversation itself
            else:
                content = "\n".join(filter(None, [content, assistant_tool_calls_text(calls)]))
        if message.role == "tool":
            call_id = message.tool_call_id
            name = names_by_call.get(call_id)
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
        name = _given(getattr(message, "name", MISSING))
        if messages and messages[-1]["role"] == role:
            # Some bots want strict user/bot alternation; Poe's own helper merges like this.
            previous = messages[-1]
            previous["content"] = "\n\n".join(p for p in (previous["content"], content) if p)
            previous["attachments"] += files
            continue
        entry_ = {
            "role": role,
            "content": content,
            "content_type": "text/markdown",
            "attachments": files,
            "parameters": {},
        }
        if name:
            entry_["sender"] = {"name": name}
        messages.append(entry_)

    prompt_tools = None
    if mode == "prompt":
        prompt_tools = tools
        instruction = build_tool_prompt(
            tools, tool_choice, _given(request.parallel_tool_calls) is not False
        )
        if messages and messages[0]["role"] == "system":
            messages[0]["content"] = f"{messages[0]['content']}\n\n{instruction}".strip()
        else:
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

    parameters = bot_parameters(request, settings, entry)
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
    temperature = _given(request.temperature)
    if temperature is not None:
        query["temperature"] = temperature
    stop = _given(request.stop)
    if stop:
        query["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    logit_bias = _given(request.logit_bias)
    if logit_bias:
        query["logit_bias"] = dict(logit_bias)
    if mode == "native":
        query["tools"] = [_fill_tool(t) for t in tools]
        if top_calls:
            query["tool_calls"] = top_calls
            query["tool_results"] = top_results
    return QueryPlan(query, prompt_tools, [m["content"] for m in messages])


def bot_parameters(
    request: CreateChatCompletionRequest, settings: dict[str, Any], entry: dict[str, Any] | None
) -> dict[str, Any]:
    """Poe `parameters`: the per-model defaults from models.yaml, with what the client sent on
    top, but only parameters Poe's model list declares for the bot (others are ignored)."""
    parameters = dict(settings.get("parameters") or {})
    declared = {p.get("name") for p in (entry or {}).get("parameters") or [] if isinstance(p, dict)}
    if not declared:
        return parameters
    sent: dict[str, Any] = dict(request.model_extra or {})
    effort = _given(request.reasoning_effort)
    if effort is not None:
        sent["reasoning_effort"] = effort
    thinking = sent.get("thinking")
    if isinstance(thinking, dict) and isinstance(thinking.get("budget_tokens"), int):
        sent.setdefault("thinking_budget", thinking["budget_tokens"])
    parameters.update({k: v for k, v in sent.items() if k in declared})
    return parameters


def _fill_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """Poe requires `description` and `parameters.type/properties/required`: clients omit them."""
    function = dict(tool.get("function") or {})
    function.setdefault("description", "")
    if function["description"] is None:
        function["description"] = ""
    parameters = dict(function.get("parameters") or {})
    parameters.setdefault("type", "object")
    parameters.setdefault("properties", {})
    parameters.setdefault("required", [])
    function["parameters"] = parameters
    function.pop("strict", None)
    return {"type": "function", "function": function}


def _dump(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_none=False)
    return value


def _flatten(
    content: Any, param: str, index: int, attachments: dict[tuple[int, int], dict[str, Any]]
) -> str:
    """Poe wants one string per message: join the text parts. Image, audio and file parts were
    uploaded and become attachments; a part that was not is refused, never dropped silently."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    texts = []
    for j, part in enumerate(content):
        kind = part.type
        if kind == "text":
            texts.append(part.text)
        elif kind == "refusal":
            texts.append(part.refusal)
        elif (index, j) not in attachments:
            raise InvalidRequest(
                f"Content parts of type `{kind}` are not supported here",
                param=f"{param}[{j}]",
                code="unsupported_content",
            )
    return "\n".join(texts)
