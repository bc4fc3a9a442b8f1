"""What the core learned about one answer, for the request log: the model as asked for, the
bot it resolved to, the token counts once they are known, and whether an answer asked for as
JSON was valid.

The request log (service/http) puts a fresh report in the context for each request and the
engine fills it in; the core stays free of HTTP, and both fronts are covered by one code path.
Outside a request (unit tests, scripts) there is no report and nothing is recorded.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class AnswerReport:
    model: str | None = None
    bot: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    output_valid: bool | None = None  # an answer asked for as JSON: whether it was valid
    key_id: str | None = None  # AUTH_MODE=keys: the issued key that asked (never its secret)
    key_name: str | None = None
    # The issued key the access layer let in (service/access/caller.py), to be settled when
    # the request is over, and which server-held Poe key served it (a digest).
    admitted: Any = None
    poe_account: str | None = None


current_report: ContextVar[AnswerReport | None] = ContextVar("answer_report", default=None)
