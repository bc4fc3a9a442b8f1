"""One INFO line per request, written when the request is over (for a stream: when it ends):
id, method, path, status, model (as asked for), bot (as resolved), duration, time to first
byte, tokens and outcome (`ok`, the error's code, `client_disconnected`...).

Never a key, a header, a query string or message text: only the fields above. While a request
is served its id is in the logging context (service/logs.py), so every line logged meanwhile
carries it. The model, bot and tokens come from the core's AnswerReport, which the engine fills
in for whichever front asked; errors and the first byte are noted by the error handler and the
event stream (`note_error`, `note_first_byte`), into the record of the request in the context.
"""

from __future__ import annotations

import json
import logging
import time
from asyncio import CancelledError
from contextvars import ContextVar
from time import perf_counter
from typing import Any

from sanic import Request, Sanic

from service import logs
from service.access.usage import UsageRecord
from service.core.report import AnswerReport, current_report
from service.errors import ServiceError
from service.http.middleware import request_id
from service.ops import metrics

log = logging.getLogger("poe2openai.request")


class RequestRecord:
    __slots__ = ("first_byte", "outcome", "report", "started")

    def __init__(self) -> None:
        self.started = perf_counter()
        self.first_byte: float | None = None
        self.outcome: str | None = None
        self.report = AnswerReport()


_current: ContextVar[RequestRecord | None] = ContextVar("request_record", default=None)


def note_error(error: ServiceError) -> None:
    record = _current.get()
    if record is not None and record.outcome is None:
        record.outcome = error.code or error.kind.name.lower()


def note_first_byte() -> None:
    """For streams: the response starts on its first frame, long before the request is over."""
    record = _current.get()
    if record is not None and record.first_byte is None:
        record.first_byte = perf_counter()


class RequestLoggingSanic(Sanic):
    """Sanic with every request wrapped, however it ends: a response middleware would miss a
    client that disconnects (Sanic cancels the handler, and no middleware runs), and a signal
    handler costs more per request than this one call."""

    __slots__ = ()

    async def handle_request(self, request: Request) -> None:  # type: ignore[override]
        record = RequestRecord()
        record_token = _current.set(record)
        id_token = logs.request_id.set(request_id(request))
        report_token = current_report.set(record.report)
        ended: BaseException | None = None
        try:
            await super().handle_request(request)
        except BaseException as exc:
            ended = exc
            raise
        finally:
            _finish(request, record, ended)
            current_report.reset(report_token)
            logs.request_id.reset(id_token)
            _current.reset(record_token)


def _finish(request: Request, record: RequestRecord, ended: BaseException | None) -> None:
    """The metrics, the log line, and for an issued key's request its usage record and
    limits settled."""
    now = perf_counter()
    stream = request.stream
    response = getattr(stream, "response", None) if stream is not None else None
    status = response.status if response is not None else None
    if record.outcome is not None:
        outcome = record.outcome
    elif isinstance(ended, CancelledError):
        lost = request.conn_info is not None and request.conn_info.lost
        outcome = "client_disconnected" if lost else "cancelled"
    elif ended is not None:
        outcome = "internal_error"
    else:
        outcome = "ok" if status is not None and status < 400 else "error"
    report = record.report
    duration = round((now - record.started) * 1000, 1)
    ttfb = round(((record.first_byte or now) - record.started) * 1000, 1)
    metrics.request_done(request, report, outcome, record.started, record.first_byte, now)
    if report.admitted is not None:
        request.app.ctx.callers.finished(
            report.admitted,
            UsageRecord(
                at=int(time.time() * 1000 - duration),
                key_id=report.key_id,
                poe_account=report.poe_account,
                front=metrics.front_of(request.route),
                model=report.model,
                bot=report.bot,
                input_tokens=report.input_tokens or 0,
                output_tokens=report.output_tokens or 0,
                ttft_ms=int(ttfb),
                duration_ms=int(duration),
                outcome=outcome,
            ),
        )
    if log.isEnabledFor(logging.INFO):
        _write(request, status, outcome, report, duration, ttfb)


def _write(
    request: Request,
    status: int | None,
    outcome: str,
    report: AnswerReport,
    duration: float,
    ttfb: float,
) -> None:
    fields: dict[str, Any] = {
        "method": request.method,
        "path": request.path,
        "status": status,
        "model": report.model,
        "bot": report.bot,
        "duration_ms": duration,
        "ttfb_ms": ttfb,
        "prompt_tokens": report.input_tokens,
        "completion_tokens": report.output_tokens,
        "output_valid": report.output_valid,
        "key_id": report.key_id,
        "key_name": report.key_name,
        "outcome": outcome,
    }
    parts = [_shown(request.method), _shown(request.path), str(status or "-")]
    if report.model is not None:
        parts.append("model=" + _shown(report.model))
    if report.bot is not None:
        parts.append("bot=" + _shown(report.bot))
    if report.key_id is not None:
        parts.append(f"key={report.key_id} key_name={_shown(report.key_name or '')}")
    parts.append(f"duration_ms={duration} ttfb_ms={ttfb}")
    if report.input_tokens is not None or report.output_tokens is not None:
        parts.append(f"tokens={_count(report.input_tokens)}/{_count(report.output_tokens)}")
    if report.output_valid is not None:
        parts.append("output_valid=" + ("true" if report.output_valid else "false"))
    parts.append("outcome=" + outcome)
    # The record log.info() would make, without its walk up the stack for the caller's file
    # and line (never shown): about half the cost of the line.
    record = log.makeRecord(
        log.name, logging.INFO, __file__, 0, " ".join(parts), (), None,
        extra={"request_fields": fields},
    )  # fmt: skip
    log.handle(record)


def _shown(value: str) -> str:
    """A client-chosen string (path, model name) as one token that cannot forge a log line."""
    if value.isascii() and value.isprintable() and " " not in value and value:
        return value
    return json.dumps(value)


def _count(tokens: int | None) -> str:
    return "-" if tokens is None else str(tokens)
