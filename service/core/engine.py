"""The one engine call every front makes: a conversation in, an answer out.

`Engine.answer` resolves the model (catalog + models.yaml), uploads the files (before anything
is sent to the bot, so a refused upload leaves nothing half-sent), builds the Poe query and
returns an `Answer`: `stream()` yields batches of neutral events (one batch per network read,
so a front can answer a read with one write) ending with a `Finish`, `complete()` gathers the
whole answer. Failures are `ServiceError`s; after the first batch they end the stream.

An answer asked for as JSON that does not validate is given as it is (clients such as
instructor and pydantic-ai retry with the error themselves), unless the model's
`reask_invalid_output` setting asks the bot once more, with the error; its stream is then held
back until the answer is final.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from functools import partial
from typing import Any

from service.access.caller import Caller
from service.core import tokens
from service.core.answer import AnswerState
from service.core.catalog import ModelCatalog, ResolvedModel, loose_name
from service.core.conversation import Conversation
from service.core.events import AnswerEvent, Finish, Usage, WholeAnswer
from service.core.files import AttachmentResolver
from service.core.query import QueryPlan, build_query
from service.core.report import current_report
from service.errors import ServiceError, from_poe, model_not_allowed
from service.poe.client import PoeClient, PoeEvent
from service.poe.errors import PoeError, PoeFailure
from service.storage.models_config import ModelsStore

log = logging.getLogger("poe2openai.engine")
# Parameter names are the client's: only plain ones go into a header or a log line.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.\-\[\]]{1,64}")
_MAX_NAMED = 20


@dataclass(frozen=True, slots=True)
class Engine:
    poe: PoeClient
    catalog: ModelCatalog
    models_config: ModelsStore
    attachments: AttachmentResolver
    exact_usage: bool = True  # o200k_base counts; False: estimates from the length

    async def resolve(self, model: str) -> ResolvedModel:
        resolved = self.catalog.resolve(model, (await self.models_config.current()).overlay)
        report = current_report.get()
        if report is not None:  # for the request log
            report.model, report.bot = model, resolved.bot
        return resolved

    async def answer(
        self, caller: Caller, model: str, conversation: Conversation, *, usage: bool = False
    ) -> Answer:
        """`usage`: the Finish carries token counts (and `input_tokens()` is ready early)."""
        resolved = await self.resolve(model)
        if not may_use(caller, resolved):
            raise model_not_allowed(model)
        files = conversation.file_parts()
        attachments = {}
        if files:
            try:
                got = await self.attachments.resolve_all([p for _, _, p in files], caller.poe_key)
            except PoeError as err:
                raise from_poe(err) from None
            attachments = {(i, j): a for (i, j, _), a in zip(files, got, strict=True)}
        plan = build_query(conversation, resolved, attachments)
        answer = Answer(self, caller, resolved, plan, usage)
        if plan.dropped_parameters:
            log.info(
                "parameters %s not sent to %s: not declared by the bot, or no value fits",
                answer.dropped_parameters,
                resolved.bot,
            )
        return answer

    async def nearest(self, model: str) -> list[str]:
        """Listed models with names close to `model`."""
        return self.catalog.nearest(model, (await self.models_config.current()).overlay)

    async def count_input(self, model: str, conversation: Conversation) -> int:
        """The input tokens of a conversation as the bot would get it (files not counted)."""
        unsent = {(i, j): {} for i, j, _ in conversation.file_parts()}  # nothing is uploaded
        plan = build_query(conversation, await self.resolve(model), unsent)
        count = await tokens.prompt_tokens(plan.prompt_texts, self.exact_usage)
        report = current_report.get()
        if report is not None:
            report.input_tokens = count
        return count

    async def bot_files(self, urls: list[str]) -> list[bytes]:
        """The files of an answer (images an image bot made), fetched from Poe's CDN."""
        try:
            return await self.attachments.fetch_all(urls)
        except PoeError as err:
            raise from_poe(err) from None


async def answer_events(
    poe_batches: AsyncIterator[list[PoeEvent]], state: AnswerState, hold_back: bool
) -> AsyncIterator[list[AnswerEvent]]:
    """Poe's event batches -> answer event batches, the last ending with the Finish. With
    `hold_back` (the per-model replace_response switch, for bots that rewrite their answer)
    nothing is sent until the end, then the whole answer, exactly as the bot left it."""
    async with aclosing(poe_batches):
        async for batch in poe_batches:
            events = [e for event in batch for e in state.feed(event)]
            if events and not hold_back:
                yield events
    rest = state.finish()
    if hold_back:
        whole = state.whole()
        rest = [*whole.events(), Finish(whole.finish_reason)]
    yield rest


class Answer:
    def __init__(
        self, engine: Engine, caller: Caller, model: ResolvedModel, plan: QueryPlan, usage: bool
    ) -> None:
        self._engine = engine
        self._caller = caller
        self.model = model
        self._plan = plan
        self._usage = usage
        self._input_tokens: int | None = None
        self._report = current_report.get()
        self._reask = plan.output_format is not None and model.reask_invalid_output
        self._spent = Usage(0, 0)  # a first answer that was asked again
        self._prompt_texts = plan.prompt_texts

    @property
    def dropped_parameters(self) -> str:
        """The names of what the client asked of the bot and it was not sent, comma-separated
        (names that are not plain words are counted, not shown)."""
        names = self._plan.dropped_parameters
        plain = [n for n in names if _PLAIN_NAME.fullmatch(n)][:_MAX_NAMED]
        if len(plain) < len(names):
            plain.append(f"({len(names) - len(plain)} more)")
        return ", ".join(plain)

    async def input_tokens(self) -> int:
        if self._input_tokens is None:
            self._input_tokens = self._spent.input_tokens + await tokens.prompt_tokens(
                self._prompt_texts, self._engine.exact_usage
            )
            if self._report is not None:
                self._report.input_tokens = self._input_tokens
        return self._input_tokens

    async def stream(self) -> AsyncIterator[list[AnswerEvent]]:
        """Event batches as Poe answers, the last ending with the Finish (with usage when
        asked for)."""
        if self._reask:  # the answer may be asked for again: nothing is sent before it is final
            whole, usage = await self.complete()
            yield [*whole.events(), Finish(whole.finish_reason, usage)]
            return
        hold_back = self.model.replace_response
        state = self._state(streaming=not hold_back)
        batches = answer_events(self._poe_events(self._plan.query), state, hold_back)
        try:
            async with aclosing(batches):
                async for events in batches:
                    finish = events[-1]
                    if type(finish) is Finish and (self._usage or self._plan.output_format):
                        whole = state.whole()
                        self._checked(whole)
                        if self._usage:
                            events[-1] = finish._replace(usage=await self._count(whole))
                    yield events
        except PoeError as err:
            raise await self._failure(err) from None

    async def complete(self) -> tuple[WholeAnswer, Usage | None]:
        whole = await self._whole(self._plan.query)
        if self._reask and not whole.output_valid:
            log.info("the answer is not valid JSON for its schema: the bot is asked once more")
            first = await tokens.text_tokens(whole.said(), self._engine.exact_usage)
            self._spent = Usage(await self.input_tokens(), first)
            query = _asked_again(self._plan.query, whole)
            self._prompt_texts = [m["content"] for m in query["query"]]
            self._input_tokens = None
            whole = await self._whole(query)
        self._checked(whole)
        return whole, (await self._count(whole) if self._usage else None)

    async def _whole(self, query: dict[str, Any]) -> WholeAnswer:
        state = self._state(streaming=False)
        try:
            async with aclosing(self._poe_events(query)) as batches:
                async for batch in batches:
                    for event in batch:
                        state.feed(event)
        except PoeError as err:
            raise await self._failure(err) from None
        state.finish()
        return state.whole()

    def _checked(self, whole: WholeAnswer) -> None:
        if self._plan.output_format is None:
            return
        if not whole.output_valid:
            log.info("the answer is not valid JSON for its schema: %s", whole.output_error)
        if self._report is not None:
            self._report.output_valid = whole.output_valid

    async def _failure(self, err: PoeError) -> ServiceError:
        """Poe's failure for the client; an unknown bot's names the listed models close to
        what was asked (a typo, a name from another provider's catalogue)."""
        nearest = None
        if err.kind is PoeFailure.NOT_FOUND:
            nearest = await self._engine.nearest(self.model.requested)
        return from_poe(err, self.model.bot, nearest)

    def _state(self, streaming: bool) -> AnswerState:
        return AnswerState(
            self.model.reasoning,
            self._plan.prompt_tools,
            streaming=streaming,
            single_call=self._plan.single_call,
            output_format=self._plan.output_format,
        )

    def _poe_events(self, query: dict[str, Any]) -> AsyncIterator[list[PoeEvent]]:
        # The caller's pacing decides when, and on which of its Poe keys, the query goes.
        return self._caller.query(partial(self._engine.poe.stream, self.model.bot, query))

    async def _count(self, whole: WholeAnswer) -> Usage:
        """Usage of the answer, and of a first one that was asked again (Poe counts both)."""
        output = await tokens.text_tokens(whole.said(), self._engine.exact_usage)
        output += self._spent.output_tokens
        if self._report is not None:
            self._report.output_tokens = output
        return Usage(await self.input_tokens(), output)


def _asked_again(query: dict[str, Any], whole: WholeAnswer) -> dict[str, Any]:
    """The query once more, with the bot's invalid answer and what is wrong with it."""
    again = copy.copy(query)
    messages = list(query["query"])
    parameters = messages[-1].get("parameters") or {}
    told = (
        f"That answer is not valid: {whole.output_error}. Answer again with only the "
        "corrected JSON value."
    )
    messages += [
        _message("bot", whole.text),
        _message("user", told, parameters),
    ]
    again["query"] = messages
    return again


def _message(role: str, content: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "role": role,
        "content": content,
        "content_type": "text/markdown",
        "attachments": [],
        "parameters": parameters or {},
    }


def may_use(caller: Caller, model: ResolvedModel) -> bool:
    """A key's allowed models are names as clients send them (aliases included): the name
    asked for or the bot it reaches, case, dots and date suffixes aside."""
    allowed = caller.client_key.limits.get("models") if caller.client_key else None
    if not allowed:
        return True
    names = {loose_name(name) for name in allowed}
    return loose_name(model.requested) in names or loose_name(model.bot) in names
