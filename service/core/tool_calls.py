"""Native tool calls in a Poe answer: `json` events shaped like OpenAI chat chunks.

Poe streams a call as a first delta with its `index`, `id` and `function.name`, then deltas
with `arguments` fragments. `from_poe_chunk` turns one event into neutral events (a start per
new call, a fragment per piece of arguments) and accumulates the calls for the whole answer.
"""

from __future__ import annotations

import uuid
from typing import Any

from service.core.conversation import ToolCall
from service.core.events import ToolCallDelta, ToolCallStart


def new_call_id() -> str:
    return "call_" + uuid.uuid4().hex[:24]


class ToolCalls:
    __slots__ = ("_by_poe_index", "calls")

    def __init__(self) -> None:
        self.calls: list[ToolCall] = []  # accumulated, for the whole answer
        self._by_poe_index: dict[int, int] = {}

    def from_poe_chunk(self, data: dict[str, Any]) -> list[ToolCallStart | ToolCallDelta]:
        try:
            deltas = data["choices"][0]["delta"].get("tool_calls") or []
        except (KeyError, IndexError, TypeError, AttributeError):
            return []
        out: list[ToolCallStart | ToolCallDelta] = []
        for position, delta in enumerate(deltas):
            if not isinstance(delta, dict):
                continue
            poe_index = delta.get("index", position)
            function = delta.get("function") or {}
            fragment = function.get("arguments") or ""
            index = self._by_poe_index.get(poe_index)
            if index is None:
                index = len(self.calls)
                call = ToolCall(delta.get("id") or new_call_id(), function.get("name") or "", "")
                self.calls.append(call)
                self._by_poe_index[poe_index] = index
                out.append(ToolCallStart(index, call.id, call.name))
            if fragment:
                self.calls[index].arguments += fragment
                out.append(ToolCallDelta(index, fragment))
        return out
