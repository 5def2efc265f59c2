"""Usage lines: tokens in and out, their cost, tokens per second."""

from __future__ import annotations

import pytest

from assistants_ui.core.usage import Prices, cost, describe


def test_nothing_counted_shows_nothing() -> None:
    assert describe(0, 0) is None
    assert describe(0, 0, prices=Prices(1.0, 2.0), seconds=3.0) is None


def test_tokens_in_and_out_with_thousands_separators() -> None:
    assert describe(1234, 56) == "1,234 tokens in · 56 out"


@pytest.mark.parametrize(
    ("tokens", "prices", "expected"),
    [
        # gpt-4.1-like prices: $2 in, $8 out per million.
        ((1_000, 500), Prices(2.0, 8.0), 0.006),
        ((1_000_000, 1_000_000), Prices(2.0, 8.0), 10.0),
        ((1_000, 500), Prices(input=2.0), 0.002),  # a missing price counts as free
        ((1_000, 500), Prices(output=8.0), 0.004),
    ],
)
def test_cost(tokens: tuple[int, int], prices: Prices, expected: float) -> None:
    assert cost(*tokens, prices) == pytest.approx(expected)


def test_no_prices_no_cost() -> None:
    assert cost(1_000, 500, Prices()) is None


@pytest.mark.parametrize(
    ("tokens", "prices", "expected"),
    [
        ((1_000, 500), Prices(2.0, 8.0), "1,000 tokens in · 500 out · $0.006"),
        ((12, 20), Prices(2.0, 8.0), "12 tokens in · 20 out · $0.0002"),
        ((2_000_000, 1_500_000), Prices(2.0, 8.0), "2,000,000 tokens in · 1,500,000 out · $16.00"),
        ((10, 20), Prices(0.0, 0.0), "10 tokens in · 20 out · $0"),
        ((10, 5), Prices(0.1, 0.4), "10 tokens in · 5 out · <$0.0001"),
        ((2_800, 800), Prices(2.0, 8.0), "2,800 tokens in · 800 out · $0.012"),
        ((100_000, 100_000), Prices(2.0, 8.0), "100,000 tokens in · 100,000 out · $1.00"),
    ],
)
def test_cost_is_shown_when_the_profile_gives_prices(
    tokens: tuple[int, int], prices: Prices, expected: str
) -> None:
    assert describe(*tokens, prices=prices) == expected


def test_tokens_per_second_only_with_a_generation_time() -> None:
    assert describe(30, 100, seconds=8.0) == "30 tokens in · 100 out · 12.5 tokens/s"
    assert describe(30, 100, seconds=0.0) == "30 tokens in · 100 out"
    assert describe(30, 0, seconds=2.0) == "30 tokens in · 0 out"
