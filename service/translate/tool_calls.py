"""Tool calls in the answer, as the OpenAI SDK accumulators need them.

Each call has an `index` on every delta; `id`, `type` and `function.name` only in its first
delta (a repeated id or name is concatenated by the SDKs: "call_1call_1"); later deltas carry
only `index` and an `arguments` fragment. Calls come from Poe's `json` events (native tools)
or from the prompted-tools parser; both end up here.
"""

from __future__ import annotations

import uuid
from typing import Any


class ToolCalls:
    __slots__ = ("_by_poe_index", "calls")

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []  # accumulated, for a whole (non-stream) answer
        self._by_poe_index: dict[int, int] = {}

    def from_poe_chunk(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """OpenAI tool-call deltas for one Poe `json` event shaped like an OpenAI chunk."""
        try:
            deltas = data["choices"][0]["delta"].get("tool_calls") or []
        except (KeyError, IndexError, TypeError, AttributeError):
            return []
        out = []
        for position, delta in enumerate(deltas):
            if not isinstance(delta, dict):
                continue
            poe_index = delta.get("index", position)
            function = delta.get("function") or {}
            fragment = function.get("arguments") or ""
            index = self._by_poe_index.get(poe_index)
            if index is None:
                index = self._start(delta.get("id"), function.get("name") or "")
                self._by_poe_index[poe_index] = index
                out.append(self._first_delta(index))
            if fragment:
                self.calls[index]["function"]["arguments"] += fragment
                out.append({"index": index, "function": {"arguments": fragment}})
        return out

    def add_whole(self, name: str, arguments: str, call_id: str | None = None) -> dict[str, Any]:
        """One complete call (prompted tools): a single delta with everything."""
        index = self._start(call_id, name)
        self.calls[index]["function"]["arguments"] = arguments
        delta = self._first_delta(index)
        delta["function"]["arguments"] = arguments
        return delta

    def _start(self, call_id: str | None, name: str) -> int:
        self.calls.append(
            {
                "id": call_id or "call_" + uuid.uuid4().hex[:24],
                "type": "function",
                "function": {"name": name, "arguments": ""},
            }
        )
        return len(self.calls) - 1

    def _first_delta(self, index: int) -> dict[str, Any]:
        call = self.calls[index]
        return {
            "index": index,
            "id": call["id"],
            "type": "function",
            "function": {"name": call["function"]["name"], "arguments": ""},
        }
