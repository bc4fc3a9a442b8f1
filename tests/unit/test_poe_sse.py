from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from service.poe.sse import SSEParser

STREAM = (
    b": ping - 2026-11-27 10:00:00\r\n\r\n"
    b'event: meta\r\ndata: {"content_type": "text/markdown"}\r\n\r\n'
    b'event: text\ndata: {"text": "h\\u00e9llo"}\n\n'
    b'event: text\rdata: {"text": " w\\u00f6rld \xe2\x9c\x93"}\r\r'
    b'event: json\r\ndata: {"a":\r\ndata: 1}\r\n\r\n'
    b"event: done\r\ndata: {}\r\n\r\n"
)
EXPECTED = [
    ("meta", '{"content_type": "text/markdown"}'),
    ("text", '{"text": "h\\u00e9llo"}'),
    ("text", '{"text": " w\\u00f6rld \u2713"}'),
    ("json", '{"a":\n1}'),
    ("done", "{}"),
]


def parse_in_pieces(data: bytes, cuts: list[int]) -> list[tuple[str, str]]:
    parser = SSEParser()
    events = []
    start = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        events += parser.feed(data[start:cut])
        start = cut
    return events


def test_whole_stream_crlf_lf_cr_and_comments():
    assert SSEParser().feed(STREAM) == EXPECTED


def test_byte_by_byte():
    assert parse_in_pieces(STREAM, list(range(len(STREAM)))) == EXPECTED


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=30))
def test_any_split_gives_the_same_events(cuts):
    assert parse_in_pieces(STREAM, cuts) == EXPECTED


def test_incomplete_event_is_not_emitted():
    parser = SSEParser()
    assert parser.feed(b"event: text\r\ndata: {}\r\n") == []
    assert parser.feed(b"\r\n") == [("text", "{}")]
