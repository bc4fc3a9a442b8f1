from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from service.core.reasoning import MARKERS, MODES, THINK_CLOSE, THINK_OPEN, ReasoningSplitter

EXAMPLE = "*Thinking...*\n\n> The user asks X.\n> Let me compute.\n>\n> Done.\n\nThe answer is 4."
EXAMPLE_THOUGHT = "The user asks X.\nLet me compute.\n\nDone."
SHORT = "Thinking...\n> short thought\n\nAnswer"

# (stream, its thinking, its answer); thinking None: the stream has no thinking part.
STREAMS: list[tuple[str, str | None, str]] = [
    (EXAMPLE, EXAMPLE_THOUGHT, "The answer is 4."),
    (SHORT, "short thought", "Answer"),
    ("Thinking...\n> short thought\nAnswer", "short thought", "Answer"),
    ("*Thinking...*\n> a\n> b\n\n\nAnswer\n> quoted answer\n", "a\nb", "Answer\n> quoted answer\n"),
    ("_Thinking..._\n\n> a\n\n> b\n\nAnswer", "a\n\nb", "Answer"),
    ("**Thinking...**\n>a\n>  b\n>\n\nAnswer", "a\n b", "Answer"),
    ("\n\n  *Thinking...*  \n> a\n\nAnswer", "a", "Answer"),
    ("Thinking...\n\n> a\n> > nested\n\n  indented answer", "a\n> nested", "  indented answer"),
    ("*Thinking...*\n> only thinking\n", "only thinking", ""),
    ("*Thinking...*\n> only thinking", "only thinking", ""),
    ("*Thinking...*\n>\n> a\n>\n", "a", ""),
    (
        "Thinking...\n> a\n\nThinking... again\n> not thinking",
        "a",
        "Thinking... again\n> not thinking",
    ),
    # Not thinking: no marker, the marker not at the start, not alone on its line, no quote.
    ("The answer is 4.", None, "The answer is 4."),
    ("", None, ""),
    ("\n\n", None, "\n\n"),
    ("Answer\n*Thinking...*\n> not thinking", None, "Answer\n*Thinking...*\n> not thinking"),
    ("Thinking... about it\n> a\n\nAnswer", None, "Thinking... about it\n> a\n\nAnswer"),
    ("*Thinking...", None, "*Thinking..."),
    ("*Thinking...*", None, "*Thinking...*"),
    ("*Thinking...*\n", None, "*Thinking...*\n"),
    ("*Thinking...*\n\nAnswer", None, "*Thinking...*\n\nAnswer"),
    ("Thinking...\nAnswer", None, "Thinking...\nAnswer"),
    ("*Thinking...**\n> a\n\nAnswer", None, "*Thinking...**\n> a\n\nAnswer"),
    ("> Thinking...\n> a", None, "> Thinking...\n> a"),
]


def expected(stream: str, thought: str | None, answer: str, mode: str) -> tuple[str, str]:
    """(reasoning text, content text) that `mode` gives for `stream`."""
    if mode == "content" or thought is None:
        return "", stream
    if mode == "reasoning_content":
        return thought, answer
    if mode == "think_tags":
        return "", THINK_OPEN + thought + THINK_CLOSE + answer
    return "", answer  # drop


def run(chunks: list[str], mode: str = "reasoning_content") -> list[tuple[str, str]]:
    splitter = ReasoningSplitter(mode)
    pieces = [piece for chunk in chunks for piece in splitter.feed(chunk)]
    return pieces + splitter.finish()


def joined(pieces: list[tuple[str, str]]) -> tuple[str, str]:
    assert all(kind in ("reasoning", "content") and text for kind, text in pieces), pieces
    reasoning = "".join(text for kind, text in pieces if kind == "reasoning")
    content = "".join(text for kind, text in pieces if kind == "content")
    return reasoning, content


def split(text: str, cuts: list[int]) -> list[str]:
    points = sorted({min(cut, len(text)) for cut in cuts})
    return [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]


# --- the examples, whole ---


def test_example_reasoning_content():
    assert run([EXAMPLE]) == [("reasoning", EXAMPLE_THOUGHT), ("content", "The answer is 4.")]
    assert run([SHORT]) == [("reasoning", "short thought"), ("content", "Answer")]


def test_example_think_tags():
    assert run([EXAMPLE], "think_tags") == [
        ("content", f"<think>\n{EXAMPLE_THOUGHT}\n</think>\n\nThe answer is 4.")
    ]
    assert run([SHORT], "think_tags") == [("content", "<think>\nshort thought\n</think>\n\nAnswer")]


def test_example_content_is_a_pass_through():
    assert run([EXAMPLE], "content") == [("content", EXAMPLE)]
    assert run([SHORT], "content") == [("content", SHORT)]
    splitter = ReasoningSplitter("content")
    assert splitter.feed("*Thin") == [("content", "*Thin")]
    assert splitter.feed("") == []
    assert splitter.finish() == []


def test_example_drop():
    assert run([EXAMPLE], "drop") == [("content", "The answer is 4.")]
    assert run([SHORT], "drop") == [("content", "Answer")]


def test_thinking_without_an_answer_closes_the_tag_at_the_end():
    assert run(["*Thinking...*\n> a\n> b\n"], "think_tags") == [
        ("content", "<think>\na\nb"),  # from feed
        ("content", "\n</think>\n\n"),  # from finish
    ]
    assert run(["*Thinking...*\n> a\n> b\n"], "drop") == []
    assert run(["*Thinking...*\n> a\n> b\n"]) == [("reasoning", "a\nb")]


def test_no_marker_is_all_content():
    text = "The answer is 4.\n> a quote\n\nThinking..."
    for mode in MODES:
        assert run([text], mode) == [("content", text)]


def test_marker_not_at_the_start_stays_content():
    text = "Sure.\n*Thinking...*\n> not a thought\n\nEnd"
    for mode in MODES:
        assert run([text], mode) == [("content", text)]


def test_thinking_marker_inside_the_answer_stays_content():
    text = "Thinking...\n> a\n\nAnswer\nThinking...\n> b\n"
    assert run([text]) == [("reasoning", "a"), ("content", "Answer\nThinking...\n> b\n")]


def test_marker_without_a_quoted_line_is_content():
    for text in ("Thinking...\nAnswer", "*Thinking...*\n\n\nAnswer", "*Thinking...*\n\n"):
        for mode in MODES:
            assert run([text], mode) == [("content", text)]


def test_unfinished_marker_is_content():
    for text in ("*Thin", "  Thinking..", "*Thinking...*", "*Thinking...*  "):
        splitter = ReasoningSplitter()
        assert splitter.feed(text) == []
        assert splitter.finish() == [("content", text)]


def test_unknown_mode():
    with pytest.raises(ValueError, match="unknown reasoning mode"):
        ReasoningSplitter("xml")


@pytest.mark.parametrize(("stream", "thought", "answer"), STREAMS)
@pytest.mark.parametrize("mode", MODES)
def test_streams_whole(stream: str, thought: str | None, answer: str, mode: str):
    assert joined(run([stream], mode)) == expected(stream, thought, answer, mode)
    splitter = ReasoningSplitter(mode)
    splitter.feed(stream)
    splitter.finish()
    assert splitter.thinking == (thought is not None and mode != "content")


@pytest.mark.parametrize(("stream", "thought", "answer"), STREAMS)
@pytest.mark.parametrize("mode", MODES)
def test_streams_one_character_at_a_time(stream: str, thought: str | None, answer: str, mode: str):
    assert joined(run(list(stream), mode)) == expected(stream, thought, answer, mode)


# --- streaming: hold back only what is needed ---


def test_streams_as_early_as_possible():
    splitter = ReasoningSplitter()
    assert splitter.feed("\n*Thin") == []  # maybe the marker
    assert splitter.feed("king...*") == []  # the marker, its line not ended
    assert splitter.feed("\n\n") == []  # not thinking until a quoted line
    assert splitter.feed(">") == []  # maybe "> "
    assert splitter.feed(" The us") == [("reasoning", "The us")]
    assert splitter.feed("er asks.\n") == [("reasoning", "er asks.")]
    assert splitter.feed(">") == []
    assert splitter.feed("\n") == []  # an empty quoted line
    assert splitter.feed("> Done.") == [("reasoning", "\n\nDone.")]
    assert splitter.feed("\n\n") == []  # maybe more thinking
    assert splitter.feed("The") == [("content", "The")]
    assert splitter.feed(" answer\n\n> 4") == [("content", " answer\n\n> 4")]
    assert splitter.finish() == []


def test_think_tags_stream_early():
    splitter = ReasoningSplitter("think_tags")
    assert splitter.feed("Thinking...\n") == []
    assert splitter.feed("> a") == [("content", "<think>\na")]
    assert splitter.feed("\n\nB") == [("content", "\n</think>\n\nB")]
    assert splitter.feed("c") == [("content", "c")]
    assert splitter.finish() == []


def test_plain_text_streams_at_once():
    splitter = ReasoningSplitter()
    assert splitter.feed("Hello") == [("content", "Hello")]
    assert splitter.feed(" *Thinking...*\n> x") == [("content", " *Thinking...*\n> x")]
    assert splitter.finish() == []
    splitter = ReasoningSplitter()
    assert splitter.feed("Th") == []  # maybe "Thinking..."
    assert splitter.feed("e") == [("content", "The")]


def test_after_the_answer_starts_feed_passes_through():
    splitter = ReasoningSplitter()
    splitter.feed(SHORT)
    for text in ("x", "\n", "> y", "*Thinking...*\n"):
        assert splitter.feed(text) == [("content", text)]
    assert splitter.feed("") == []


# --- properties ---


@given(
    case=st.sampled_from(STREAMS),
    mode=st.sampled_from(MODES),
    cuts=st.lists(st.integers(min_value=0, max_value=80), max_size=20),
)
def test_any_split_gives_the_same_result(
    case: tuple[str, str | None, str], mode: str, cuts: list[int]
):
    stream, thought, answer = case
    chunks = split(stream, cuts)
    assert "".join(chunks) == stream
    assert joined(run(chunks, mode)) == joined(run([stream], mode))
    assert joined(run(chunks, mode)) == expected(stream, thought, answer, mode)


# Streams made of the pieces that matter: markers, quotes, blank lines, ordinary text.
_PARTS = st.sampled_from(
    [
        *("*Thinking...*", "Thinking...", "**Thinking...**", "_Thinking..._", "*Thin", "> ", ">"),
        *("\n", "\n\n", " ", "\t", "a", "b c", "*", "_", "."),
    ]
)


@given(
    parts=st.lists(_PARTS, max_size=12),
    mode=st.sampled_from(MODES),
    cuts=st.lists(st.integers(min_value=0, max_value=60), max_size=15),
)
def test_any_split_of_any_stream_gives_the_same_result(parts: list[str], mode: str, cuts):
    stream = "".join(parts)
    assert joined(run(split(stream, cuts), mode)) == joined(run([stream], mode))


@given(parts=st.lists(_PARTS, max_size=12))
def test_the_modes_agree(parts: list[str]):
    stream = "".join(parts)
    splitter = ReasoningSplitter()
    thought, answer = joined(splitter.feed(stream) + splitter.finish())
    if not splitter.thinking:
        assert thought == ""
        for mode in MODES:
            assert joined(run([stream], mode)) == ("", stream)
        return
    assert joined(run([stream], "content")) == ("", stream)
    assert joined(run([stream], "drop")) == ("", answer)
    assert joined(run([stream], "think_tags")) == ("", THINK_OPEN + thought + THINK_CLOSE + answer)
    assert not thought.startswith("\n") and not thought.endswith("\n")
    assert not answer.startswith("\n")


@given(text=st.text(max_size=40), mode=st.sampled_from(MODES), cuts=st.lists(st.integers(0, 40)))
def test_text_without_the_marker_is_unchanged(text: str, mode: str, cuts: list[int]):
    assume(not any(text.lstrip(" \t\r\n").startswith(marker) for marker in MARKERS))
    assert joined(run(split(text, cuts), mode)) == ("", text)
