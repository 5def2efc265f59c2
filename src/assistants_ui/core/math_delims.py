"""LaTeX delimiters models write, turned into the ones Streamlit renders.

Models trained on LaTeX and MathJax pages write inline math as `\\( … \\)` and
display math as `\\[ … \\]`; `st.markdown` renders KaTeX between `$ … $` and
`$$ … $$` only, and CommonMark reads `\\(` as an escaped parenthesis, so the
formula shows as plain text with its backslashes eaten. `dollar_math(text)`
rewrites those two pairs, and leaves everything inside code alone: fenced
and indented code blocks (found by markdown-it, the parser the page's block
splitter uses) and inline code spans. An opening delimiter without its
closing one (a formula still streaming in) is left as it is until it closes.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

__all__ = ["dollar_math"]

_parser = MarkdownIt("commonmark").enable("table").enable("strikethrough")

# Left to right, the first alternative that matches wins: a code span is
# consumed whole (so nothing inside it is touched), then display, then inline
# math. A backslash that is itself escaped (`\\(`) does not open anything.
_INLINE = re.compile(
    r"(?P<code>(?<!`)(?P<ticks>`+)(?!`).*?(?<!`)(?P=ticks)(?!`))"
    r"|(?<!\\)\\\[(?P<display>.+?)(?<!\\)\\\]"
    r"|(?<!\\)\\\((?P<inline>.+?)(?<!\\)\\\)",
    re.DOTALL,
)


def _convert(match: re.Match[str]) -> str:
    if match.group("code") is not None:
        return match.group(0)
    display = match.group("display")
    if display is not None:
        return f"$${display}$$"
    inline = match.group("inline").strip()
    if not inline or "\n\n" in inline:  # not a formula: a paragraph break inside
        return match.group(0)
    return f"${inline}$"


def _code_lines(text: str) -> set[int]:
    """Line numbers inside fenced or indented code blocks, at any depth."""
    lines: set[int] = set()
    for token in _parser.parse(text):
        if token.type in ("fence", "code_block") and token.map is not None:
            lines.update(range(token.map[0], token.map[1]))
    return lines


def dollar_math(text: str) -> str:
    """`\\( x \\)` -> `$x$` and `\\[ x \\]` -> `$$x$$`, never inside code."""
    if "\\(" not in text and "\\[" not in text:
        return text
    code = _code_lines(text)
    out: list[str] = []
    prose: list[str] = []
    for number, line in enumerate(text.splitlines(keepends=True)):
        if number in code:
            if prose:
                out.append(_INLINE.sub(_convert, "".join(prose)))
                prose = []
            out.append(line)
        else:
            prose.append(line)
    if prose:
        out.append(_INLINE.sub(_convert, "".join(prose)))
    return "".join(out)
