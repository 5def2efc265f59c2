"""Token usage and its cost, as the short line shown under an answer or in the menu.

Pure formatting: the token counts come with every answer (`Message.input_tokens`,
`output_tokens`, `seconds`), the prices from the profile
(`price_per_million_input`, `price_per_million_output`).
"""

from __future__ import annotations

from dataclasses import dataclass

from assistants_ui.i18n import _, format_money, format_number

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
    parts = [
        _("%(count)s tokens in") % {"count": format_number(input_tokens)},
        _("%(count)s out") % {"count": format_number(output_tokens)},
    ]
    price = cost(input_tokens, output_tokens, prices)
    if price is not None:
        parts.append(format_money(price))
    if seconds > 0 and output_tokens:
        rate = format_number(output_tokens / seconds, digits=1)
        parts.append(_("%(rate)s tokens/s") % {"rate": rate})
    return " · ".join(parts)
