"""OpenAI's images API on Poe image bots, with the openai SDK: URLs and base64, OpenAI's options
mapped onto the parameters the bot declares, and the failures a client can meet."""

from __future__ import annotations

import base64
import json

import httpx
import openai
import pytest

from tests.support.fake_poe import IMAGE_BOT, MODEL_LIST, PNG_1PX
from tests.support.service import RunningService


@pytest.fixture(scope="module")
def images(fake_poe):
    """A service whose model list holds the image bot, and an SDK client on it."""
    fake_poe.state.models = [*MODEL_LIST, IMAGE_BOT]
    running = RunningService({"POE_BASE_URL": fake_poe.url}).start()
    client = openai.OpenAI(base_url=running.url + "/v1", api_key="poe-key", max_retries=0)
    # Requests never wait for Poe's list (it is fetched right after start): the declared
    # parameters apply once it is there.
    assert "imagebot" in [model.id for model in client.models.list()]
    client.running = running
    yield client
    running.stop()


def sent_parameters(image) -> dict:
    """What the fake image bot says it got, from the text it wrote beside the image."""
    return json.loads(image.revised_prompt.removeprefix("parameters "))


def test_an_image_as_a_poe_cdn_url(images, fake_poe):
    result = images.images.generate(model="imagebot", prompt="a red square")
    assert len(result.data) == 1 and result.created > 0
    assert result.data[0].url == f"{fake_poe.url}/files/image-0.png"
    assert result.data[0].b64_json is None
    assert sent_parameters(result.data[0]) == {}  # nothing asked: nothing sent


def test_images_as_base64_fetched_from_the_cdn(images):
    result = images.images.generate(
        model="imagebot", prompt="two squares", n=2, response_format="b64_json"
    )
    assert [base64.b64decode(image.b64_json) for image in result.data] == [PNG_1PX, PNG_1PX]
    assert all(image.url is None for image in result.data)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"size": "1792x1024"}, {"aspect_ratio": "16:9"}),
        ({"size": "1024x1536"}, {"aspect_ratio": "9:16"}),  # 2:3 is not offered: the nearest
        ({"size": "1024x1024", "quality": "hd"}, {"aspect_ratio": "1:1", "quality": "high"}),
        ({"size": "auto", "quality": "low", "style": "vivid"}, {"quality": "low"}),  # no style
        ({"n": 3}, {"num_images": 3}),
    ],
)
def test_openai_options_reach_the_bot_as_its_declared_parameters(images, options, expected):
    result = images.images.generate(model="imagebot", prompt="x", **options)
    assert sent_parameters(result.data[0]) == expected
    assert len(result.data) == options.get("n", 1)


def test_n_above_one_for_a_bot_without_a_count_parameter_is_a_400(images):
    with pytest.raises(openai.BadRequestError) as refused:
        images.images.generate(model="filebot", prompt="x", n=2)
    assert refused.value.body["param"] == "n" and "one image per request" in refused.value.message


def test_a_bot_that_answers_without_an_image_is_a_502_with_its_words(images):
    with pytest.raises(openai.APIStatusError) as failed:
        images.images.generate(model="imagebot", prompt="nothing")
    assert failed.value.status_code == 502
    assert failed.value.body["code"] == "no_image" and "cannot draw" in failed.value.message


def test_a_file_off_poes_hosts_is_not_fetched(images, fake_poe):
    # A private bot chooses its file URLs: fetching any of them would let it reach internal
    # addresses through the service.
    with pytest.raises(openai.APIStatusError) as failed:
        images.images.generate(model="imagebot", prompt="elsewhere", response_format="b64_json")
    assert failed.value.status_code == 502 and "CDN" in failed.value.message
    as_url = images.images.generate(model="imagebot", prompt="elsewhere")
    assert as_url.data[0].url.startswith("http://169.254.169.254/")  # a URL is only passed on


def test_a_file_over_the_size_limit_is_not_fetched_whole(images):
    with pytest.raises(openai.APIStatusError) as failed:
        images.images.generate(model="imagebot", prompt="huge", response_format="b64_json")
    assert failed.value.status_code == 502 and "larger than" in failed.value.message


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "imagebot"}, "prompt"),
        ({"model": "imagebot", "prompt": "x", "size": "big"}, "size"),
        ({"model": "imagebot", "prompt": "x", "n": 11}, "n"),
        ({"model": "imagebot", "prompt": "x", "response_format": "gif"}, "response_format"),
    ],
)
def test_bad_requests_name_the_field(images, body, param):
    response = httpx.post(
        images.running.url + "/v1/images/generations",
        json=body,
        headers={"authorization": "Bearer k"},
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == param


def test_the_unversioned_path_and_the_demo_image_bot(start_service):
    demo = start_service(args=("--demo",))
    client = openai.OpenAI(base_url=demo.url, api_key="demo", max_retries=0)  # no /v1
    result = client.images.generate(model="image", prompt="a square", response_format="b64_json")
    assert base64.b64decode(result.data[0].b64_json).startswith(b"<svg")
