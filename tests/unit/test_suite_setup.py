"""The test suite's own setup that a contributor relies on."""

from __future__ import annotations

from hypothesis import settings


def test_hypothesis_keeps_no_example_database():
    # A stored failing example is replayed first on every run: one found by an unrelated
    # change would keep the suite red for the next contributor.
    assert settings.default.database is None
    assert settings(max_examples=5).database is None  # explicit settings inherit it
