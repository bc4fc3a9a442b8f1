"""Token counts for `usage`, offline: OpenAI's o200k_base vocabulary as shipped in the
`bpe-openai` wheel (tiktoken itself would download it), run by tiktoken's fast encoder.

For Poe's non-OpenAI models any count is an estimate; o200k is the closest public one.
Loading takes ~0.5 s and ~110 MB, so it happens once, on first need, off the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
from collections.abc import Callable
from importlib.resources import files

import tiktoken

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


def _estimate(text: str) -> int:
    # ~4 bytes of UTF-8 per token on average for English prose in o200k_base.
    return (len(text.encode()) + 3) // 4


async def prompt_tokens(prompt: list[str], exact: bool = True) -> int:
    """The tokens of a conversation's messages, with the chat format's per-message overhead.
    `exact`: count with o200k_base (loaded on first use); else estimate from the length."""
    count = (await encoding()).encode_ordinary if exact else None
    total = sum(_tokens(count, text) + _TOKENS_PER_MESSAGE for text in prompt)
    return total + (3 if prompt else 0)  # every reply is primed with <|start|>assistant


async def text_tokens(text: str, exact: bool = True) -> int:
    count = (await encoding()).encode_ordinary if exact else None
    return _tokens(count, text)


def _tokens(count: Callable[[str], list[int]] | None, text: str) -> int:
    return len(count(text)) if count is not None else _estimate(text)
