"""LaTeX delimiters from model-style answers become what Streamlit renders."""

from __future__ import annotations

import pytest

from assistants_ui.core.math_delims import dollar_math


def test_inline_and_display_math_in_a_typical_answer() -> None:
    answer = (
        "The energy is given by \\( E = mc^2 \\), where \\(m\\) is the mass.\n"
        "\n"
        "The quadratic formula:\n"
        "\n"
        "\\[\n"
        "x = \\frac{-b \\pm \\sqrt{b^2 - 4ac}}{2a}\n"
        "\\]\n"
        "\n"
        "So for \\(a = 1\\) there are two roots."
    )
    assert dollar_math(answer) == (
        "The energy is given by $E = mc^2$, where $m$ is the mass.\n"
        "\n"
        "The quadratic formula:\n"
        "\n"
        "$$\n"
        "x = \\frac{-b \\pm \\sqrt{b^2 - 4ac}}{2a}\n"
        "$$\n"
        "\n"
        "So for $a = 1$ there are two roots."
    )


def test_display_math_on_one_line_and_in_a_list() -> None:
    answer = (
        "1. Start from \\[ \\int_0^1 x\\,dx = \\tfrac12 \\]\n"
        "2. Then \\(\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}\\)."
    )
    assert dollar_math(answer) == (
        "1. Start from $$ \\int_0^1 x\\,dx = \\tfrac12 $$\n"
        "2. Then $\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}$."
    )


def test_never_inside_fenced_blocks_or_code_spans() -> None:
    answer = (
        "In LaTeX write `\\( x \\)` for inline math, or ``\\[ y \\]`` for display.\n"
        "\n"
        "```latex\n"
        "\\documentclass{article}\n"
        "Inline: \\( a^2 + b^2 = c^2 \\)\n"
        "\\[ e^{i\\pi} + 1 = 0 \\]\n"
        "```\n"
        "\n"
        "~~~\n"
        "print('\\(not math\\)')\n"
        "~~~\n"
        "\n"
        "    indented: \\(code\\)\n"
        "\n"
        "But \\(x\\) here is math."
    )
    expected = answer.replace("But \\(x\\) here", "But $x$ here")
    assert dollar_math(answer) == expected


def test_fence_inside_a_list_item_is_left_alone() -> None:
    answer = "- Example:\n\n  ```python\n  s = r'\\(x\\)'\n  ```\n- Math: \\(y\\)"
    assert dollar_math(answer) == answer.replace("Math: \\(y\\)", "Math: $y$")


def test_an_unclosed_delimiter_while_streaming_is_left_until_it_closes() -> None:
    growing = "The area is \\( \\pi r^"
    assert dollar_math(growing) == growing
    assert dollar_math(growing + "2 \\)") == "The area is $\\pi r^2$"
    fence_open = "```python\nx = '\\(a\\)'\n"  # a fence not closed yet is still code
    assert dollar_math(fence_open) == fence_open


@pytest.mark.parametrize(
    "text",
    [
        "No math here, (just parentheses) and [brackets].",
        "An escaped backslash: \\\\(not math\\\\)",
        "Already dollars: $x^2$ and $$y$$",
        "",
    ],
)
def test_text_without_these_delimiters_is_unchanged(text: str) -> None:
    assert dollar_math(text) == text


def test_a_paragraph_break_is_not_a_formula() -> None:
    text = "Call f\\(x) with care.\n\nThen g\\) returns."
    assert dollar_math(text) == text
