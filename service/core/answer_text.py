"""The text of a Poe answer: text, replace_response and file events, as markdown.

`AnswerText.feed(event)` returns the text to send for that event ("" when nothing);
`finish()` returns what is still held back. `content` is the answer as a whole, exactly what
`fastapi_poe.get_final_response` would return (the last replacement plus the text after it),
with files as markdown. Images the bot produced are also listed in `images`.
"""

from __future__ import annotations

import re
from typing import Any

from service.poe.client import PoeEvent

# `![alt][ref]`: a bot's reference to a file it sent with `inline_ref`.
_INLINE_REF = re.compile(r"(!?\[[^\]\n]*\])\[([^\]\n]+)\]")
# The unfinished start of such a reference at the end of the text received so far.
_PARTIAL_REF = re.compile(r"!?\[[^\]\n]*(?:\](?:\[[^\]\n]*)?)?\Z")
# How much text may be held back while a reference might still be completing.
_MAX_HELD = 512


class AnswerText:
    __slots__ = ("_held", "_refs", "_used_refs", "content", "content_type", "images")

    def __init__(self) -> None:
        self.content = ""  # what the answer says now (replacements applied)
        self.content_type = "text/markdown"
        self.images: list[str] = []  # URLs of images the bot sent, in order
        self._refs: dict[str, str] = {}  # inline_ref -> markdown target
        self._used_refs: set[str] = set()
        self._held = ""

    def feed(self, event: PoeEvent) -> str:
        kind, data = event
        if kind == "text":
            return self._append(str(data.get("text") or ""))
        if kind == "replace_response":
            return self._replace(str(data.get("text") or ""))
        if kind == "file":
            return self._file(data)
        if kind == "meta":
            self.content_type = str(data.get("content_type") or self.content_type)
        # suggested_reply, data, json and unknown events are not part of the text.
        return ""

    def append(self, text: str) -> str:
        """Text from elsewhere (a json event's content) joins the answer like a text event."""
        return self._append(text)

    def finish(self) -> str:
        """Flush held text and show files the text never referred to."""
        out = self._flush()
        for ref, url in self._refs.items():
            if ref not in self._used_refs:
                out += self._add(_separated(self.content + out, url))
        return out

    def _append(self, text: str) -> str:
        if not text:
            return ""
        if self._refs or self._held:
            text = self._resolve(self._held + text)
        return self._add(text)

    def _add(self, text: str) -> str:
        self.content += text
        return text

    def _replace(self, text: str) -> str:
        # Streaming cannot take text back: send only what extends the text already sent, else
        # start the new version on a new paragraph, so nothing the bot said is lost.
        self._held = ""  # superseded, never sent
        sent = self.content
        new = self._resolve(text) if self._refs else text
        out = new[len(sent) :] if new.startswith(sent) else ("\n\n" if sent else "") + new
        self.content = new
        return out

    def _file(self, data: dict[str, Any]) -> str:
        url = str(data.get("url") or "")
        if not url:
            return ""
        name = str(data.get("name") or "file")
        is_image = str(data.get("content_type") or "").startswith("image/")
        if is_image:
            self.images.append(url)
        markdown = f"![{name}]({url})" if is_image else f"[{name}]({url})"
        ref = data.get("inline_ref")
        if ref:
            self._refs[str(ref)] = markdown
            return ""  # the text will refer to it; finish() shows it if not
        return self._add(_separated(self.content, markdown))

    def _resolve(self, text: str) -> str:
        """Resolve complete references; hold back a tail that may be one still arriving."""
        self._held = ""
        start = len(text) - min(len(text), _MAX_HELD)
        for complete in _INLINE_REF.finditer(text, start):
            start = complete.end()  # a finished reference is not the start of another
        partial = _PARTIAL_REF.search(text, start)
        if partial:
            text, self._held = text[: partial.start()], text[partial.start() :]
        return _INLINE_REF.sub(self._target, text)

    def _target(self, match: re.Match[str]) -> str:
        ref = match.group(2)
        markdown = self._refs.get(ref)
        if markdown is None:
            return match.group(0)
        self._used_refs.add(ref)
        url = markdown[markdown.rindex("(") :]
        return match.group(1) + url

    def _flush(self) -> str:
        held, self._held = self._held, ""
        return self._add(_INLINE_REF.sub(self._target, held)) if held else ""


def _separated(before: str, markdown: str) -> str:
    if not before or before.endswith("\n\n"):
        return markdown
    return ("\n" if before.endswith("\n") else "\n\n") + markdown
