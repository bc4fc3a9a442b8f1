"""The rolling window under the rate limits (service/access/window.py)."""

from __future__ import annotations

from service.access.window import RollingWindow


def test_at_most_the_limit_in_any_span_and_room_comes_back_entry_by_entry():
    window = RollingWindow(span=60)
    assert window.take(2, now=0) and window.take(2, now=30)
    assert not window.take(2, now=59.9)  # two in the last minute: the third waits
    assert window.free_at(2, now=59.9) == 60  # when the first one leaves the window
    assert window.take(2, now=60)  # it has
    assert not window.take(2, now=89.9) and window.take(2, now=90)
    assert window.used(now=1000) == 0


def test_what_was_spent_counts_in_full_and_holds_back_until_it_leaves():
    window = RollingWindow(span=60)
    window.add(now=10, cost=25)  # a request's tokens, over a limit of 10
    assert window.used(now=20) == 25 and not window.take(10, now=20)
    assert window.free_at(10, now=20) == 70
    window.add(now=30, cost=4)
    assert window.free_at(10, now=20, cost=1) == 70  # then 4 + 1 fit under 10
    assert window.free_at(3, now=20, cost=1) == 90  # under 3 only once both have left
    assert window.used(now=70) == 4


def test_a_refused_take_counts_nothing():
    window = RollingWindow(span=1)
    assert window.take(1, now=0) and not window.take(1, now=0.5) and not window.take(1, now=0.9)
    assert window.used(now=0.9) == 1 and window.take(1, now=1.0)
