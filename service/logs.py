"""Log lines: one format in every process (Sanic's workers included), text or JSON, each line
written while serving a request stamped with that request's id.

The id travels in a context variable rather than through every call: the request log
(service/http/request_log.py) sets it around each request, and any line logged meanwhile, by
our code or a library's, carries it.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# Sanic's own loggers: they get our level (their records reach our root handler).
_SANIC_LOGGERS = ("sanic.root", "sanic.error", "sanic.server", "sanic.access", "sanic.websockets")


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None)
        record.request_tag = f" [{rid}]" if rid else ""
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors; a request log line also carries its
    fields (`request_fields`) as keys of their own."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None)
        if rid:
            entry["request_id"] = rid
        fields = getattr(record, "request_fields", None)
        if fields:
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(level: str, log_format: str = "text") -> None:
    """Route every log line (ours, Sanic's, the libraries') through one stderr handler. Safe to
    call again: it replaces the handler rather than adding a second one."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(_RequestId())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    level = level.upper()
    root.setLevel(level)
    for name in _SANIC_LOGGERS:
        logging.getLogger(name).setLevel(level)
    # httpx logs every upstream request at INFO: too chatty (and costly) for a proxy.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLevelName(level)))
