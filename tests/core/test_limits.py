"""Daily limits: the UTC day they count in, the reset time, amounts typed by an admin."""

from __future__ import annotations

import datetime as dt

import pytest

from assistants_ui.core.limits import Exceeded, day_window, parse_amount, until

UTC = dt.UTC


def test_the_day_is_the_utc_calendar_day_whatever_the_offset() -> None:
    start, end = day_window(dt.datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC))
    assert (start, end) == (
        dt.datetime(2026, 3, 1, tzinfo=UTC),
        dt.datetime(2026, 3, 2, tzinfo=UTC),
    )
    # 01:30 in Tokyo on the 2nd is 16:30 UTC on the 1st: still the 1st's window.
    tokyo = dt.timezone(dt.timedelta(hours=9))
    assert day_window(dt.datetime(2026, 3, 2, 1, 30, tzinfo=tokyo))[0].day == 1
    # Midnight exactly starts a new day; leap day and year end roll over.
    assert day_window(dt.datetime(2026, 3, 2, tzinfo=UTC))[0].day == 2
    assert day_window(dt.datetime(2028, 2, 29, 12, tzinfo=UTC))[1] == dt.datetime(
        2028, 3, 1, tzinfo=UTC
    )
    assert day_window(dt.datetime(2026, 12, 31, 23, tzinfo=UTC))[1].year == 2027
    with pytest.raises(ValueError):
        day_window(dt.datetime(2026, 3, 1))


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (30, "less than a minute"),
        (60, "1 min"),
        (45 * 60, "45 min"),
        (3 * 3600, "3 h"),
        (3 * 3600 + 12 * 60 + 59, "3 h 12 min"),
    ],
)
def test_time_until_the_reset_in_words(seconds: int, words: str) -> None:
    now = dt.datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert until(now + dt.timedelta(seconds=seconds), now) == words


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        (None, None),
        ("", None),
        ("  ", None),
        ("0", 0),
        ("20", 20),
        (" 1,000 ", 1000),
        ("50_000", 50000),
        (7, 7),
    ],
)
def test_amounts_an_admin_may_type(typed: object, amount: int | None) -> None:
    assert parse_amount(typed) == amount


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("ten", "not a whole number"),
        ("1.5", "not a whole number"),
        ("-3", "negative"),
        ("1e3", "not a whole number"),
        ("10000000000", "more than"),
    ],
)
def test_nonsense_amounts_are_refused_with_the_reason(typed: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_amount(typed)


def test_the_refusal_says_what_was_reached_and_when_it_resets() -> None:
    now = dt.datetime(2026, 3, 1, 20, 48, tzinfo=UTC)
    reset = dt.datetime(2026, 3, 2, tzinfo=UTC)
    text = Exceeded("messages", 20, 20, "helper", reset).message(now)
    assert text == (
        "Not sent: You have reached your daily limit of 20 messages with this assistant "
        "(20 used today). The limit resets at 00:00 UTC (2026-03-02), in 3 h 12 min. "
        "Nothing was saved or sent."
    )
    tokens = Exceeded("tokens", 1, 5000, "", reset).message(now)
    assert "daily limit of 1 token across all assistants (5,000 used today)" in tokens
    assert "blocked for you across all assistants" in Exceeded("messages", 0, 0, "", reset).message(
        now
    )
