from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from service.core.answer_text import AnswerText
from service.poe.client import PoeEvent

CAT = "https://pfst.cf2.poecdn.net/base/image/cat.png"


def run(events: list[tuple[str, dict]]) -> tuple[str, str]:
    """(what a stream sends, the whole answer)"""
    translator = AnswerText()
    sent = "".join(translator.feed(PoeEvent(kind, data)) for kind, data in events)
    sent += translator.finish()
    return sent, translator.content


def text(value: str) -> tuple[str, dict]:
    return ("text", {"text": value})


def test_text_pieces_concatenate():
    assert run([text("Hel"), text("lo")]) == ("Hello", "Hello")


def test_replace_that_extends_sends_only_the_rest():
    assert run([text("Hello"), ("replace_response", {"text": "Hello world"}), text("!")]) == (
        "Hello world!",
        "Hello world!",
    )


def test_replace_that_rewrites_starts_a_new_paragraph():
    sent, whole = run([text("Draft"), ("replace_response", {"text": "Final"}), text(" answer")])
    assert whole == "Final answer"  # what fastapi_poe.get_final_response returns
    assert sent == "Draft\n\nFinal answer"  # nothing the bot said is lost


def test_replace_as_first_event():
    assert run([("replace_response", {"text": "Only"})]) == ("Only", "Only")


def test_events_that_are_not_the_answer_never_leak():
    events = [
        ("meta", {"content_type": "text/plain"}),
        text("a"),
        ("suggested_reply", {"text": "more?"}),
        ("data", {"metadata": "x"}),
        ("unknown_future_event", {"text": "no"}),
        text("b"),
    ]
    translator = AnswerText()
    assert "".join(translator.feed(PoeEvent(*e)) for e in events) == "ab"
    assert translator.content_type == "text/plain"


def test_file_without_reference_becomes_markdown():
    events = [
        text("Done."),
        ("file", {"url": CAT, "content_type": "image/png", "name": "c.png"}),
        ("file", {"url": "https://x/r.pdf", "content_type": "application/pdf", "name": "r.pdf"}),
    ]
    sent, whole = run(events)
    assert whole == f"Done.\n\n![c.png]({CAT})\n\n[r.pdf](https://x/r.pdf)"
    assert sent == whole


def test_inline_reference_resolved():
    events = [
        ("file", {"url": CAT, "content_type": "image/png", "name": "c.png", "inline_ref": "r1"}),
        text("See ![a cat][r1]."),
    ]
    assert run(events) == (f"See ![a cat]({CAT}).", f"See ![a cat]({CAT}).")


@given(st.lists(st.integers(min_value=0, max_value=40), max_size=8))
def test_inline_reference_split_anywhere(cuts):
    message = "See ![a cat][r1] and [link][r1] done"
    points = [*sorted(set(cuts)), len(message)]
    pieces, start = [], 0
    for point in points:
        pieces.append(message[start:point])
        start = point
    events = [
        ("file", {"url": CAT, "content_type": "image/png", "name": "c.png", "inline_ref": "r1"})
    ] + [text(p) for p in pieces if p]
    expected = f"See ![a cat]({CAT}) and [link]({CAT}) done"
    assert run(events) == (expected, expected)


def test_unreferenced_inline_file_is_still_shown():
    events = [
        ("file", {"url": CAT, "content_type": "image/png", "name": "c.png", "inline_ref": "r9"}),
        text("No reference here"),
    ]
    sent, whole = run(events)
    assert whole == f"No reference here\n\n![c.png]({CAT})"
    assert sent == whole


def test_images_are_listed():
    translator = AnswerText()
    translator.feed(PoeEvent("file", {"url": CAT, "content_type": "image/png", "name": "c"}))
    translator.feed(PoeEvent("file", {"url": "u", "content_type": "text/plain", "name": "t"}))
    assert translator.images == [CAT]
