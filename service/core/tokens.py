"""Token counts for `usage`, offline: OpenAI's o200k_base vocabulary as shipped in the
`bpe-openai` wheel (tiktoken itself would download it), run by tiktoken's fast encoder.

For Poe's non-OpenAI models any count is an estimate; o200k is the closest public one.
Loading takes ~0.5 s and ~110 MB, so it happens once, off the event loop: right after start
(`warm`), so that no request waits for it unless it comes in the first second.

Counting is linear at best (~5 MB/s of prose) and worse on long runs without spaces (1 MB of
"aaaa..." takes 1.1 s), so a large text is counted in a thread (the encoder releases the GIL),
a few at a time, and a text too large to be worth the CPU is estimated from its length.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import logging
import time
from collections.abc import Callable
from importlib.resources import files

import tiktoken

log = logging.getLogger("poe2openai.tokens")

_O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
# tiktoken_ext.openai_public.o200k_base's pattern (tiktoken 0.14).
_O200K_PATTERN = "|".join([
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""\p{N}{1,3}""",
    r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
    r"""\s*[\r\n]+""",
    r"""\s+(?!\S)""",
    r"""\s+""",
])  # fmt: skip
# Per-message overhead in OpenAI's chat format (role and separators).
_TOKENS_PER_MESSAGE = 3
# 8 KiB of text costs up to ~5 ms to count: more than that would stall every other request.
OFF_LOOP_CHARS = 8 * 1024
# ~250k tokens, beyond most bots' context; counting more would take seconds of a core.
EXACT_MAX_CHARS = 1024 * 1024
# Counts running in threads at once: two cores, and the rest of the service needs one.
_counting = asyncio.Semaphore(2)

_encoding: tiktoken.Encoding | None = None
_loading: asyncio.Future[tiktoken.Encoding] | None = None


def _load() -> tiktoken.Encoding:
    raw = gzip.decompress(files("bpe_openai").joinpath("data/o200k_base.tiktoken.gz").read_bytes())
    if hashlib.sha256(raw).hexdigest() != _O200K_SHA256:
        raise RuntimeError("o200k_base vocabulary does not match its known hash")
    ranks = {
        base64.b64decode(token): int(rank)
        for token, rank in (line.split() for line in raw.splitlines() if line)
    }
    encoding = tiktoken.Encoding(
        name="o200k_base",
        pat_str=_O200K_PATTERN,
        mergeable_ranks=ranks,
        special_tokens={"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
    )
    encoding._mergeable_ranks = {}  # the Rust encoder has its own copy: free ~25 MB
    return encoding


async def encoding() -> tiktoken.Encoding:
    global _encoding, _loading
    if _encoding is None:
        if _loading is None:
            _loading = asyncio.ensure_future(asyncio.to_thread(_load))
        _encoding = await asyncio.shield(_loading)
    return _encoding


async def warm() -> None:
    """Load the vocabulary now (in a thread), so that the first requests do not wait for it."""
    started = time.monotonic()
    await encoding()
    log.info("usage tokenizer o200k_base loaded in %.2f s", time.monotonic() - started)


def _estimate(text: str) -> int:
    # ~4 bytes of UTF-8 per token on average for English prose in o200k_base.
    return (len(text.encode()) + 3) // 4


async def prompt_tokens(prompt: list[str], exact: bool = True) -> int:
    """The tokens of a conversation's messages, with the chat format's per-message overhead.
    `exact`: count with o200k_base; else estimate from the length."""
    total = await _count(prompt, exact) + _TOKENS_PER_MESSAGE * len(prompt)
    return total + (3 if prompt else 0)  # every reply is primed with <|start|>assistant


async def text_tokens(text: str, exact: bool = True) -> int:
    return await _count([text], exact)


async def _count(texts: list[str], exact: bool) -> int:
    size = sum(map(len, texts))
    if not exact or size > EXACT_MAX_CHARS:
        return sum(map(_estimate, texts))
    count = (await encoding()).encode_ordinary
    if size <= OFF_LOOP_CHARS:
        return _exact(count, texts)
    async with _counting:
        return await asyncio.to_thread(_exact, count, texts)


def _exact(count: Callable[[str], list[int]], texts: list[str]) -> int:
    return sum(len(count(text)) for text in texts)
