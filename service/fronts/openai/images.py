"""POST /v1/images/generations (and /images/generations): OpenAI's images API on Poe's image
bots. The bot's whole answer is awaited (Poe advises against streaming media bots), and its
files are returned as Poe CDN URLs or, for `b64_json`, fetched and encoded."""

from __future__ import annotations

import base64
import re
import time

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from generated.openai import CreateImageRequest
from service.contracts import given
from service.core.conversation import AnswerOptions, Conversation, TextPart, Turn
from service.core.engine import Engine
from service.core.image_options import image_parameters
from service.errors import ErrorKind, ServiceError
from service.http.json_body import parse_body

bp = Blueprint("images")

# The markdown an image bot writes around its files (`![alt][ref]`, `![alt](url)`, reference
# definitions): not part of what it said about the image.
_IMAGE_MARKDOWN = re.compile(r"!\[[^\]]*\](?:\[[^\]]*\]|\([^)]*\))|^\[[^\]]+\]:\s*\S+.*$", re.M)


@bp.post("/v1/images/generations")
@bp.post("/images/generations", name="images_unversioned")
async def create_image(request: Request) -> HTTPResponse:
    caller = await request.app.ctx.callers.of(request.headers)
    body = parse_body(request.body, CreateImageRequest)
    engine: Engine = request.app.ctx.engine
    parameters = image_parameters(
        await engine.resolve(body.model),
        size=given(body.size),
        quality=given(body.quality),
        style=given(body.style),
        n=int(body.n or 1),
    )
    conversation = Conversation(
        [Turn("user", [TextPart(body.prompt)])], options=AnswerOptions(parameters=parameters)
    )
    answer = await engine.answer(caller, body.model, conversation)
    whole, _ = await answer.complete()
    if not whole.images:
        raise ServiceError(
            ErrorKind.UPSTREAM,
            f"`{body.model}` answered without an image"
            + (f": {whole.text[:300]}" if whole.text.strip() else ""),
            code="no_image",
        )
    said = _IMAGE_MARKDOWN.sub("", whole.text).strip()
    if given(body.response_format) == "b64_json":
        files = await engine.bot_files(whole.images)
        data = [{"b64_json": base64.b64encode(file).decode()} for file in files]
    else:
        data = [{"url": url} for url in whole.images]
    if said:
        for image in data:
            image["revised_prompt"] = said
    return json({"created": int(time.time()), "data": data})
