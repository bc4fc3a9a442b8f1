"""Response headers every front adds to an answer, beside its own API's."""

from __future__ import annotations

from service.core.conversation import Conversation
from service.core.engine import Answer
from service.core.events import WholeAnswer

DROPPED_PARAMETERS = "x-poe2openai-dropped-params"
OUTPUT_VALID = "x-poe2openai-output-valid"


def answer_headers(answer: Answer) -> dict[str, str]:
    """Known before the answer starts: the parameters the client asked for and the bot does
    not take (none when nothing was dropped)."""
    names = answer.dropped_parameters
    return {DROPPED_PARAMETERS: names} if names else {}


def whole_answer_headers(conversation: Conversation, whole: WholeAnswer) -> dict[str, str]:
    """For an answer asked for as JSON, whether it matched (a stream cannot say: its headers
    go before the answer; the request log records it instead)."""
    if conversation.options.output_format is None:
        return {}
    return {OUTPUT_VALID: "true" if whole.output_valid else "false"}
