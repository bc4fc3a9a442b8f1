#!/usr/bin/env python3
"""Where a request's CPU goes, by layer: py-spy's collapsed stacks of the proxy under load,
each sample given to the innermost frame that belongs to a layer (standard-library frames such
as json, re or uuid count for the code that called them, so `json.dumps` in a front is that
front's response encoding).

Usage: scripts/bench_layers.py STACKS.collapsed.txt [--per-request N --unit "M instr"]
(`scripts/bench --profile DIR` writes the stacks; --per-request spreads N, e.g. the
instructions per request from scripts/bench_callgrind.py, over the layers.)
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

# (path fragment, layer), first match wins; checked against one frame's file.
LAYERS = [
    ("service/poe/sse.py", "SSE parsing (ours)"),
    ("service/poe/client.py", "Poe client (ours: events, timeouts, retries)"),
    ("service/core/query.py", "Poe query build"),
    ("service/core/tokens.py", "usage: tokenizer (tiktoken)"),
    ("tiktoken/", "usage: tokenizer (tiktoken)"),
    ("service/http/json_body.py", "request parsing + validation"),
    ("service/fronts/openai/chat_request.py", "request parsing + validation"),
    ("service/fronts/anthropic/request.py", "request parsing + validation"),
    ("generated/", "request parsing + validation"),
    ("pydantic", "request parsing + validation"),
    ("service/access/", "core (caller, engine, answer)"),
    ("service/core/", "core (caller, engine, answer)"),
    ("service/fronts/", "front: handler + response body (JSON encoding)"),
    ("service/http/middleware.py", "our middleware (request id, CORS)"),
    ("service/http/", "our HTTP plumbing (SSE writer, errors)"),
    ("service/", "other service code"),
    ("httpx_aiohttp/", "httpx-aiohttp transport"),
    ("httpx/", "httpx"),
    ("httpcore/", "httpx"),
    ("aiohttp/", "aiohttp client"),
    ("yarl/", "aiohttp client"),
    ("multidict/", "aiohttp client"),
    ("sanic/response/", "Sanic response (headers, send)"),
    ("sanic_routing/", "Sanic (HTTP/1.1, protocol, routing, request)"),
    ("sanic/", "Sanic (HTTP/1.1, protocol, routing, request)"),
    ("logging/", "logging"),
    ("asyncio/", "event loop (asyncio, uvloop, sockets)"),
    ("uvloop/", "event loop (asyncio, uvloop, sockets)"),
]
IDLE = "event loop (asyncio, uvloop, sockets)"


def layer_of(stack: list[str]) -> str:
    for frame in reversed(stack):
        where = frame.partition(" (")[2]
        for fragment, layer in LAYERS:
            if fragment in where:
                return layer
    return IDLE


def layers(path: Path) -> tuple[int, collections.Counter[str]]:
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        total += int(count)
        counts[layer_of(stack.split(";"))] += int(count)
    return total, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stacks", type=Path)
    parser.add_argument("--per-request", type=float, help="spread this cost over the layers")
    parser.add_argument("--unit", default="M instr")
    args = parser.parse_args()
    total, counts = layers(args.stacks)
    print(f"{total} samples")
    for layer, n in counts.most_common():
        share = n / total
        cost = f"  {share * args.per_request:6.3f} {args.unit}" if args.per_request else ""
        print(f"{100 * share:5.1f} %{cost}  {layer}")


if __name__ == "__main__":
    main()
