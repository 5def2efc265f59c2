"""Token usage and its cost, as the short line shown under an answer or in the menu.

Pure formatting: the token counts come with every answer (`Message.input_tokens`,
`output_tokens`, `seconds`), the prices from the profile
(`price_per_million_input`, `price_per_million_output`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NO_PRICES", "Prices", "cost", "describe"]


@dataclass(frozen=True, slots=True)
class Prices:
    """Prices per million tokens; None where the profile gives none."""

    input: float | None = None
    output: float | None = None

    @property
    def known(self) -> bool:
        return self.input is not None or self.output is not None


NO_PRICES = Prices()


def cost(input_tokens: int, output_tokens: int, prices: Prices) -> float | None:
    """What the tokens cost, or None without prices (a missing one counts as free)."""
    if not prices.known:
        return None
    return (input_tokens * (prices.input or 0.0) + output_tokens * (prices.output or 0.0)) / 1e6


def _money(amount: float) -> str:
    """Cents from a dollar up; below, four decimals (one answer often costs less)."""
    if amount == 0:
        return "$0"
    if amount < 0.0001:
        return "<$0.0001"
    if amount < 1:
        return f"${amount:.4f}".rstrip("0")
    return f"${amount:,.2f}"


def describe(
    input_tokens: int,
    output_tokens: int,
    *,
    prices: Prices = NO_PRICES,
    seconds: float = 0.0,
) -> str | None:
    """`1,234 tokens in · 56 out · $0.0031 · 12.5 tokens/s`; None when nothing was counted.

    Tokens per second are given only when `seconds` is (the local model's answers).
    """
    if not input_tokens and not output_tokens:
        return None
    parts = [f"{input_tokens:,} tokens in", f"{output_tokens:,} out"]
    price = cost(input_tokens, output_tokens, prices)
    if price is not None:
        parts.append(_money(price))
    if seconds > 0 and output_tokens:
        parts.append(f"{output_tokens / seconds:,.1f} tokens/s")
    return " · ".join(parts)
