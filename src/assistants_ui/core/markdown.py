"""Splitting streamed Markdown into finished blocks and the block still growing.

Repainting one ever-growing element re-sends the whole answer on every paint,
which is quadratic in the answer's length. Instead the page keeps one element
per run of *finished* top-level blocks and repaints only the last, growing
block. A block is finished once the parser (markdown-it, CommonMark + tables)
sees the next top-level block begin, so a split never falls inside a fenced
code block, a list, a table or a block quote.
"""

from __future__ import annotations

from markdown_it import MarkdownIt

__all__ = ["BlockSplitter"]

_parser = MarkdownIt("commonmark").enable("table").enable("strikethrough")


def _line_starts(text: str) -> list[int]:
    starts = [0]
    pos = text.find("\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = text.find("\n", pos + 1)
    return starts


def last_block_start(text: str) -> int:
    """Character offset where the last top-level block of `text` begins (0 if one)."""
    begin = None
    for token in _parser.parse(text):
        if token.level == 0 and token.map is not None and token.nesting != -1:
            begin = token.map[0]
    if not begin:
        return 0
    starts = _line_starts(text)
    return starts[begin] if begin < len(starts) else len(text)


class BlockSplitter:
    """Tracks how much of a growing Markdown text is made of finished blocks.

    `advance(text)` takes the whole text so far (which only grows) and
    returns `(finished, tail)`: the text of blocks that finished since the
    previous call (empty if none) and the growing tail after them. With
    `final=True` the tail is finished too.
    """

    def __init__(self) -> None:
        self.frozen_upto = 0

    def advance(self, text: str, *, final: bool = False) -> tuple[str, str]:
        if len(text) < self.frozen_upto:  # not a continuation: start over
            self.frozen_upto = 0
        tail = text[self.frozen_upto :]
        if final:
            self.frozen_upto = len(text)
            return tail, ""
        cut = last_block_start(tail) if "\n" in tail else 0
        if cut <= 0:
            return "", tail
        self.frozen_upto += cut
        return tail[:cut], tail[cut:]
