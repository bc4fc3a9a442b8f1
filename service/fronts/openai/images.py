"""POST /v1/images/generations (and /images/generations): OpenAI's images API on Poe's image
bots. The bot's whole answer is awaited (Poe advises against streaming media bots), and its
files are returned as Poe CDN URLs or, for `b64_json`, fetched and encoded."""

from __future__ import annotations

import asyncio
import base64
import re
import time

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from generated.openai import CreateImageRequest
from service.access.caller import caller_from_headers
from service.contracts import given
from service.core.conversation import AnswerOptions, Conversation, TextPart, Turn
from service.core.engine import Engine
from service.core.image_options import image_parameters
from service.errors import ErrorKind, ServiceError, from_poe
from service.http.json_body import parse_body
from service.poe import cdn
from service.poe.errors import PoeError

bp = Blueprint("images")

# The markdown an image bot writes around its files (`![alt][ref]`, `![alt](url)`, reference
# definitions): not part of what it said about the image.
_IMAGE_MARKDOWN = re.compile(r"!\[[^\]]*\](?:\[[^\]]*\]|\([^)]*\))|^\[[^\]]+\]:\s*\S+.*$", re.M)


@bp.post("/v1/images/generations")
@bp.post("/images/generations", name="images_unversioned")
async def create_image(request: Request) -> HTTPResponse:
    caller = caller_from_headers(request.headers)
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
        files = await _fetch_all(request, whole.images)
        data = [{"b64_json": base64.b64encode(file).decode()} for file in files]
    else:
        data = [{"url": url} for url in whole.images]
    if said:
        for image in data:
            image["revised_prompt"] = said
    return json({"created": int(time.time()), "data": data})


async def _fetch_all(request: Request, urls: list[str]) -> list[bytes]:
    settings = request.app.ctx.settings
    http = request.app.ctx.poe.http
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(
                    cdn.download(
                        http,
                        url,
                        poe_base_url=settings.poe_base_url,
                        max_bytes=settings.poe_upload_max_bytes,
                        timeout=settings.poe_upload_timeout,
                    )
                )
                for url in urls
            ]
    except BaseExceptionGroup as failed:
        first = failed.exceptions[0]
        if isinstance(first, PoeError):
            raise from_poe(first) from None
        raise first from None
    return [task.result() for task in tasks]
