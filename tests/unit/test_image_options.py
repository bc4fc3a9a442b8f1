"""OpenAI's image options onto the parameters image bots declare, however they name them."""

from __future__ import annotations

import pytest

from generated.admin import ModelSettings
from service.core.catalog import ResolvedModel
from service.core.image_options import image_parameters
from service.errors import ServiceError


def bot(*parameters: tuple[str, dict]) -> ResolvedModel:
    entry = {"id": "b", "parameters": [{"name": n, "schema": s} for n, s in parameters]}
    return ResolvedModel.of("b", "b", ModelSettings(), entry)


RATIOS = ("aspect_ratio", {"type": "string", "enum": ["1:1", "4:3", "16:9", "9:16"]})
SIZES = ("size", {"type": "string", "enum": ["1024x1024", "1536x1024", "1024x1536"]})


@pytest.mark.parametrize(
    ("model", "size", "expected"),
    [
        (bot(RATIOS), "1792x1024", {"aspect_ratio": "16:9"}),
        (bot(RATIOS), "1200x900", {"aspect_ratio": "4:3"}),
        (bot(RATIOS), "1000x1900", {"aspect_ratio": "9:16"}),
        (bot(SIZES), "1536x1024", {"size": "1536x1024"}),  # offered as it is
        (bot(SIZES), "1792x1024", {"size": "1536x1024"}),  # the nearest shape
        (bot(("aspect_ratio", {"type": "string"})), "1536x1024", {"aspect_ratio": "3:2"}),
        (bot(("image_size", {"type": "string"})), "640x480", {"image_size": "640x480"}),
        (bot(RATIOS), "auto", {}),
        (bot(), "1024x1024", {}),  # nothing declared: nothing sent
    ],
)
def test_size_becomes_the_declared_shape(model, size, expected):
    assert image_parameters(model, size=size, quality=None, style=None, n=1) == expected


def test_quality_and_style_by_the_bots_own_words():
    model = bot(("quality", {"enum": ["Low", "Medium", "High"]}), ("style", {"enum": ["vivid"]}))
    chosen = image_parameters(model, size=None, quality="hd", style="natural", n=1)
    assert chosen == {"quality": "High"}  # natural is not offered: left out
    assert image_parameters(model, size=None, quality="standard", style="vivid", n=1) == {
        "quality": "Medium",
        "style": "vivid",
    }


def test_n_needs_a_declared_count():
    assert image_parameters(
        bot(("number_of_images", {"type": "integer"})), size=None, quality=None, style=None, n=4
    ) == {"number_of_images": 4}
    with pytest.raises(ServiceError) as refused:
        image_parameters(bot(RATIOS), size=None, quality=None, style=None, n=2)
    assert refused.value.param == "n" and refused.value.status == 400
