"""Response headers every front adds to an answer, beside its own API's."""

from __future__ import annotations

from service.core.conversation import Conversation
from service.core.events import WholeAnswer

OUTPUT_VALID = "x-poe2openai-output-valid"


def whole_answer_headers(conversation: Conversation, whole: WholeAnswer) -> dict[str, str]:
    """For an answer asked for as JSON, whether it matched (a stream cannot say: its headers
    go before the answer; the request log records it instead)."""
    if conversation.options.output_format is None:
        return {}
    return {OUTPUT_VALID: "true" if whole.output_valid else "false"}
