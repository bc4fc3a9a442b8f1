"""OpenAI's image options (`size`, `quality`, `style`, `n`) -> the parameters an image bot
declares in Poe's model list.

Image bots on Poe name their controls differently (`aspect_ratio: "16:9"`, `size:
"1024x1536"`, `quality: "high"`, `num_images`): each option goes to the declared parameter that
means the same, with a value from its enum when it has one (the nearest aspect ratio, OpenAI's
`hd`/`standard` as `high`/`medium`), and is left out when the bot declares nothing for it.
"""

from __future__ import annotations

import math
import re
from typing import Any

from service.core.catalog import ResolvedModel
from service.core.parameter_schema import enum_word, string_options
from service.errors import invalid

_RATIO_NAMES = ("aspect_ratio", "aspect", "ratio", "size", "image_size", "resolution")
_COUNT_NAMES = ("num_images", "number_of_images", "n", "num_outputs", "count", "batch_size")
# OpenAI's quality words, and the words other bots use for the same.
_QUALITY_SYNONYMS = {"hd": ("high", "hd"), "standard": ("medium", "standard")}
_DIMENSIONS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[:x×/]\s*(\d+(?:\.\d+)?)\s*$", re.IGNORECASE)


def image_parameters(
    model: ResolvedModel,
    *,
    size: str | None,
    quality: str | None,
    style: str | None,
    n: int,
) -> dict[str, Any]:
    declared = model.declared_schemas
    chosen: dict[str, Any] = {}
    if size and size != "auto":
        for name in _RATIO_NAMES:
            if name in declared:
                value = _size_value(size, declared[name], name)
                if value is not None:
                    chosen[name] = value
                break
    if quality and "quality" in declared:
        synonyms = _QUALITY_SYNONYMS.get(quality.lower(), ())
        value = enum_word(quality, declared["quality"], synonyms)
        if value is not None:
            chosen["quality"] = value
    if style and "style" in declared:
        value = enum_word(style, declared["style"])
        if value is not None:
            chosen["style"] = value
    if n > 1:
        count = next((name for name in _COUNT_NAMES if name in declared), None)
        if count is None:
            raise invalid(
                f"`{model.requested}` makes one image per request: `n` must be 1 "
                "(Poe's model list declares no count parameter for it)",
                param="n",
            )
        chosen[count] = n
    return chosen


def _size_value(size: str, schema: dict[str, Any], name: str) -> str | None:
    width, height = (int(x) for x in size.lower().split("x"))
    options = string_options(schema)
    if not options:  # free text: say it the way the parameter's name suggests
        if "size" in name or name == "resolution":
            return f"{width}x{height}"
        divisor = math.gcd(width, height)
        return f"{width // divisor}:{height // divisor}"
    if size in options:
        return size
    wanted = math.log(width / height)
    ratios = [(abs(math.log(r) - wanted), option) for option in options if (r := _ratio(option))]
    return min(ratios)[1] if ratios else None


def _ratio(option: str) -> float | None:
    match = _DIMENSIONS.match(option)
    if not match:
        return None
    width, height = float(match.group(1)), float(match.group(2))
    return width / height if width > 0 and height > 0 else None
