"""Split a Poe reasoning bot's streamed text into its thinking and its answer.

Reasoning bots on Poe stream their thinking as ordinary markdown: a marker line (`*Thinking...*`,
`Thinking...`, `_Thinking..._` or `**Thinking...**`) at the very start, then lines quoted with
`> ` (a bare `>` is an empty quoted line), then the answer as ordinary lines, usually after a
blank line. For example::

    *Thinking...*

    > The user asks X.
    >
    > Done.

    The answer is 4.

`ReasoningSplitter(mode).feed(text)` takes the text in chunks split anywhere and returns pieces
`(kind, text)`, kind "reasoning" or "content", never empty; `finish()` flushes what is held.
Only what is needed to decide is held back: leading whitespace and a partial marker at the very
start, the marker line until the first quoted line confirms it, and the start of a line inside
the thinking (its indentation, or a `>` whose following space is not known yet). Once the answer
has started (or the text did not start with the marker), `feed` passes text straight through.

Modes:

- "reasoning_content": the thinking (marker line and `> ` prefixes removed, line breaks between
  quoted lines kept) as "reasoning" pieces, the answer as "content".
- "think_tags": everything as "content", the thinking wrapped in `<think>\\n...\\n</think>\\n\\n`.
- "content": a pass-through, everything as "content" unchanged.
- "drop": the thinking removed, only the answer.

A marker line that is not followed by a quoted line (only blank lines, then ordinary text, or
the end) is not thinking: that text is content, unchanged. The blank lines between the thinking
and the answer belong to neither; blank lines between quoted lines are kept in the thinking.
"""

from __future__ import annotations

from typing import Literal

Mode = Literal["reasoning_content", "think_tags", "content", "drop"]
Kind = Literal["reasoning", "content"]
Piece = tuple[Kind, str]

MODES: tuple[str, ...] = ("reasoning_content", "think_tags", "content", "drop")

MARKERS: tuple[str, ...] = (
    "*Thinking...*",
    "**Thinking...**",
    "_Thinking..._",
    "__Thinking...__",
    "Thinking...",
)

THINK_OPEN = "<think>\n"
THINK_CLOSE = "\n</think>\n\n"

_LEADING_SPACE = " \t\r\n"  # allowed before the marker
_LINE_SPACE = " \t\r"  # allowed after the marker, and before `>` on a thinking line

# States.
_START = 0  # at the very start: leading whitespace and maybe (part of) the marker line held
_LINE = 1  # inside the thinking, at the start of a line (its indentation held)
_GT = 2  # just after the `>` of a quoted line: one space after it is dropped
_QUOTE = 3  # inside a quoted line
_ANSWER = 4  # everything else is content

_HOLD = -1  # _marker_end: could still become a marker line
_NO = -2  # _marker_end: is not a marker line


def _marker_end(text: str) -> int:
    """Where a marker line at the start of `text` (no leading space) ends, after its newline;
    _HOLD if `text` could still become one, _NO if it cannot."""
    hold = False
    for marker in MARKERS:
        if len(text) <= len(marker):
            if marker.startswith(text):
                hold = True
        elif text.startswith(marker):
            rest = text[len(marker) :].lstrip(_LINE_SPACE)
            if not rest:
                hold = True
            elif rest[0] == "\n":
                return len(text) - len(rest) + 1
    return _HOLD if hold else _NO


def _add(out: list[Piece], kind: Kind, text: str) -> None:
    if not text:
        return
    if out and out[-1][0] == kind:
        out[-1] = (kind, out[-1][1] + text)
    else:
        out.append((kind, text))


class ReasoningSplitter:
    __slots__ = ("_buf", "_mode", "_newlines", "_opened", "_raw", "_said", "_state")

    def __init__(self, mode: str = "reasoning_content") -> None:
        if mode not in MODES:
            raise ValueError(f"unknown reasoning mode {mode!r}; expected one of {MODES}")
        self._mode = mode
        self._state = _ANSWER if mode == "content" else _START
        # _START: the text so far; _LINE: the indentation of the current line.
        self._buf = ""
        # Everything since the start, while the marker line is not yet confirmed by a `>` line.
        self._raw = ""
        self._opened = False  # a quoted line confirmed the marker: the thinking has begun
        self._said = False  # some thinking text was given out
        self._newlines = 0  # line breaks owed to the thinking before its next text

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def thinking(self) -> bool:
        """Whether the text began with thinking (a marker line and a quoted line)."""
        return self._opened

    def feed(self, text: str) -> list[Piece]:
        if self._state == _ANSWER:
            return [("content", text)] if text else []
        out: list[Piece] = []
        if self._state == _START:
            text = self._start(text, out)
        if text:
            self._think(text, out)
        return out

    def finish(self) -> list[Piece]:
        out: list[Piece] = []
        if self._state == _START:
            _add(out, "content", self._buf)
        elif self._state != _ANSWER:
            if not self._opened:
                _add(out, "content", self._raw)
            elif self._mode == "think_tags":
                _add(out, "content", THINK_CLOSE)
        self._state = _ANSWER
        self._buf = self._raw = ""
        return out

    def _start(self, text: str, out: list[Piece]) -> str:
        """Decide whether the text starts with a marker line; return the text after it."""
        self._buf += text
        rest = self._buf.lstrip(_LEADING_SPACE)
        if not rest:
            return ""
        end = _marker_end(rest)
        if end == _HOLD:
            return ""
        if end == _NO:
            self._state = _ANSWER
            _add(out, "content", self._buf)
            self._buf = ""
            return ""
        end += len(self._buf) - len(rest)
        self._raw, text = self._buf[:end], self._buf[end:]
        self._buf = ""
        self._state = _LINE
        return text

    def _think(self, text: str, out: list[Piece]) -> None:
        i, n = 0, len(text)
        while i < n:
            state = self._state
            if state == _QUOTE:
                j = text.find("\n", i)
                end = n if j < 0 else j
                if end > i:
                    self._reason(text[i:end], out)
                if j < 0:
                    return
                self._newlines += 1
                self._state = _LINE
                i = j + 1
            elif state == _GT:
                if text[i] == " ":
                    i += 1
                self._state = _QUOTE
            else:  # _LINE
                start = i
                while i < n and text[i] in _LINE_SPACE:
                    i += 1
                if not self._opened:
                    self._raw += text[start:i]
                self._buf += text[start:i]
                if i == n:
                    return
                char = text[i]
                if char == ">":
                    if not self._opened:
                        self._opened = True
                        self._raw = ""
                        if self._mode == "think_tags":
                            _add(out, "content", THINK_OPEN)
                    self._buf = ""
                    self._state = _GT
                    i += 1
                elif char == "\n":
                    if not self._opened:
                        self._raw += char
                    self._newlines += 1
                    self._buf = ""
                    i += 1
                else:
                    self._answer(text[i:], out)
                    return

    def _reason(self, text: str, out: list[Piece]) -> None:
        if self._newlines:
            if self._said:
                text = "\n" * self._newlines + text
            self._newlines = 0
        self._said = True
        if self._mode == "reasoning_content":
            _add(out, "reasoning", text)
        elif self._mode == "think_tags":
            _add(out, "content", text)

    def _answer(self, text: str, out: list[Piece]) -> None:
        """The answer starts with `text` (its line's indentation is held in _buf)."""
        if not self._opened:
            text = self._raw + text
        else:
            text = self._buf + text
            if self._mode == "think_tags":
                text = THINK_CLOSE + text
        self._state = _ANSWER
        self._buf = self._raw = ""
        _add(out, "content", text)
