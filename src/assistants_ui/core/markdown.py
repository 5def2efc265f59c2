"""Splitting streamed Markdown into finished blocks and the block still growing.

Repainting one ever-growing element re-sends the whole answer on every paint,
which is quadratic in the answer's length. Instead the page keeps one element
per run of *finished* top-level blocks and repaints only the last, growing
block. A block is finished once the parser (markdown-it, CommonMark + tables)
sees the next top-level block begin, so a split never falls inside a fenced
code block, a list, a table or a block quote.

That alone still repaints the growing block whole on every frame: a long code
block, table, list or paragraph costs the square of its length. So a long
growing block is shown as stacked *pieces* (`PieceSplitter`), each one
standalone Markdown that renders as its share of the block: a fenced code
block cut between lines (each piece re-opened and closed with the block's own
fence), a table between rows (each piece repeats the header, which the page
hides), a list between top-level items (an ordered piece starts at its own
number), a paragraph between words where no emphasis, code span, link, math
or HTML is left open (a piece cut at a line break starts with a hard break:
the page shows a paragraph's line breaks, see `core.safe_markdown`). Only the
last piece repaints; the page paints the whole block once, in one element,
when it is finished. `RepaintPace` decides which frames are painted at all:
every frame while the bytes sent stay within a budget proportional to the
text, and never fewer than about four a second.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from markdown_it import MarkdownIt

__all__ = ["PIECE_CHARS", "BlockSplitter", "PieceSplitter", "RepaintPace"]

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


# -- the growing block, in pieces ---------------------------------------------------

# A piece is frozen once it shows this many characters. Small: every paint then
# adds a piece with only what arrived since the last one (each piece costs one
# element, ~100 bytes on the websocket), and nothing already painted is re-sent.
PIECE_CHARS = 80

_FENCE = re.compile(r"( {0,3})(`{3,}|~{3,})([^\n]*)\n")
# Left in a paragraph's text, these may open what a later character closes (or be
# the start of a table row): brackets, angle brackets, pipes, backticks.
_OPENERS = re.compile(r"[\[\]<>|`]")


def _left_open(content: str) -> bool:
    """Whether parsed text still holds something a later character could close."""
    if _OPENERS.search(content):
        return True
    for run in re.finditer(r"[*_~]+", content):
        before = content[run.start() - 1] if run.start() else "x"
        after = content[run.end()] if run.end() < len(content) else "x"
        if run.group()[0] == "_" and before.isalnum() and after.isalnum():
            continue  # snake_case: an underscore inside a word opens nothing
        if not (before.isspace() and after.isspace()):
            return True  # a delimiter run that touches a word may open emphasis
    return False


@dataclass(frozen=True)
class _Layout:
    """How one growing block may be cut: pieces are `head + block[a:b] + foot`,
    except the first, which is `block[:b] + foot`."""

    kind: str  # "code", "table", "list" or "paragraph"
    body: int  # where the cuttable body begins
    shown: int  # how far pieces may show (whole units: lines, words)
    head: str = ""
    foot: str = ""
    cuts: frozenset[int] = frozenset()  # unit starts in (body, len]; paragraphs: checked apart
    partial_ok: bool = True  # the unit still growing may show as it is


def _lines_from(block: str, start: int) -> list[int]:
    """Offsets of the line starts after `start` (each one ends a complete line)."""
    out = []
    pos = block.find("\n", start)
    while pos != -1:
        out.append(pos + 1)
        pos = block.find("\n", pos + 1)
    return out


def _code_layout(block: str) -> _Layout | None:
    opening = _FENCE.match(block)
    if opening is None or (opening.group(2)[0] == "`" and "`" in opening.group(3)):
        return None
    indent, fence = opening.group(1), opening.group(2)
    closing = re.compile(rf" {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*(\n|$)")
    body = opening.end()
    ends = [body]
    for end in _lines_from(block, body):
        if closing.match(block, ends[-1]):
            break  # the block's own closing fence: nothing after it is code
        ends.append(end)
    # The line still growing may show, unless it is (or may become) a closing fence.
    rest = block[ends[-1] :]
    unsure = re.fullmatch(rf" {{0,3}}{re.escape(fence[0])}*[ \t]*\n?", rest) is not None
    return _Layout(
        "code",
        body,
        ends[-1],
        head=opening.group(0),
        foot=f"{indent}{fence}",
        # Not next to a blank line: a code box trims blank lines at its ends.
        cuts=frozenset(e for e in ends if "\n" not in (block[e - 2 : e - 1], block[e : e + 1])),
        partial_ok=not unsure,
    )


def _table_layout(block: str, end_line: int) -> _Layout:
    starts = [0, *_lines_from(block, 0)][: end_line + 1]
    if len(starts) < 3:  # no row yet after the header and its delimiter
        return _Layout("table", len(block), len(block))
    rows = starts[2:]
    # Continuation pieces repeat the header (hidden by the page) in its shortest form:
    # empty cells, and the delimiter row's alignments with one dash each.
    cells = block[starts[1] : rows[0]].strip().strip("|").split("|")
    short = [re.sub(r"-+", "-", cell.strip()) for cell in cells]
    head = "|" + " |" * len(short) + "\n|" + "|".join(short) + "|\n"
    return _Layout("table", rows[0], rows[-1], head=head, cuts=frozenset(rows))


def _list_layout(block: str, tokens: list, starts: list[int]) -> _Layout:  # type: ignore[type-arg]
    items = [
        starts[t.map[0]]
        for t in tokens
        if t.type == "list_item_open" and t.level == 1 and t.map and t.map[0] < len(starts)
    ]
    lines = [0, *_lines_from(block, 0)]
    return _Layout("list", 0, lines[-1], cuts=frozenset(items[1:]))


def _paragraph_layout(block: str) -> _Layout:
    last_space = max(block.rfind(" "), block.rfind("\n"), block.rfind("\t"))
    return _Layout("paragraph", 0, last_space + 1)


def _layout(block: str) -> _Layout | None:
    first_line, newline, _ = block.lstrip(" ").partition("\n")
    run = re.match(r"`*|~*", first_line).group(0)  # type: ignore[union-attr]
    if run and not newline and (len(run) >= 3 or run == first_line):
        return _Layout("pending", 0, 0, partial_ok=False)  # a fence's opening line, growing
    if block.startswith(("```", "~~~", " ```", "  ```", "   ```", " ~~~", "  ~~~", "   ~~~")):
        return _code_layout(block)
    tokens = _parser.parse(block)
    top = [t for t in tokens if t.level == 0 and t.nesting != -1]
    if len(top) != 1:
        return None
    first = top[0]
    if first.type == "table_open" and first.map:
        return _table_layout(block, first.map[1])
    if first.type in ("bullet_list_open", "ordered_list_open"):
        return _list_layout(block, tokens, [0, *_lines_from(block, 0)])
    if first.type == "paragraph_open":
        if first_line.startswith("|") and block.count("\n") < 2:
            return _Layout("pending", 0, 0, partial_ok=False)  # may be a table's header
        return _paragraph_layout(block)
    return None


def _after_line_break(block: str, at: int) -> bool:
    """Whether the white space just before `at` holds a line break."""
    at -= 1
    while at >= 0 and block[at] in " \t":
        at -= 1
    return at >= 0 and block[at] == "\n"


def _paragraph_cut_ok(block: str, begin: int, cut: int) -> bool:
    """A paragraph may be cut at `cut` (just after a space) if the piece from `begin`
    leaves nothing open and the rest starts a word that is plain text by itself."""
    piece, rest = block[begin:cut], block[cut:]
    if not rest or not piece.strip() or not (rest[0].isalnum() or rest[0] in "(\"'"):
        return False
    if re.match(r"\d{1,9}(?:[.)]|$)", rest):
        return False  # "4." starting a piece would make it a list
    if not piece[-1].isspace() or piece.rstrip().endswith("\\") or "  \n" in piece[-4:]:
        return False  # not between words, or a hard line break
    if (
        piece.count("$") % 2
        or piece.count("\\(") != piece.count("\\)")
        or piece.count("\\[") != piece.count("\\]")
    ):
        return False  # open math, which Streamlit reads after Markdown
    tokens = _parser.parse(piece)
    if [t.type for t in tokens] != ["paragraph_open", "inline", "paragraph_close"]:
        return False
    for child in tokens[1].children or []:
        if child.type in ("html_inline", "text_special"):
            return False
        if child.type == "text" and _left_open(child.content):
            return False
    return True


class PieceSplitter:
    """The growing last block as stacked standalone Markdown pieces.

    `split(block)` takes the block so far (which only grows) and returns its
    pieces: all but the last are final (the same strings on every later
    call), the last is the piece still growing, shown up to its last whole
    unit (line, row, word). A piece is frozen where the previous call's last
    piece ended, once it is `piece_chars` long, so a frozen piece is already
    painted as it stays; a block that could not be cut there for twice as
    long is cut at its last whole unit. Blocks of other kinds (headings,
    quotes, HTML, indented code) stay one piece: `[block]`.
    """

    def __init__(self, piece_chars: int = PIECE_CHARS) -> None:
        self.piece_chars = piece_chars
        self.starts: list[int] = []  # where each piece after the first begins
        self.shown = 0  # where the last piece ended on the previous call
        self.kind = ""

    def split(self, block: str) -> list[str]:
        layout = _layout(block)
        if layout is None or layout.kind != self.kind:  # not cuttable, or no longer the same
            self.starts, self.shown = [], 0
            self.kind = layout.kind if layout else ""
        if layout is None:
            return [block]
        begin = self.starts[-1] if self.starts else 0
        if self.shown - begin >= self.piece_chars and self._can_cut(
            layout, block, begin, self.shown
        ):
            self.starts.append(self.shown)
        elif layout.shown - begin >= 2 * self.piece_chars:
            cut = self._last_cut(layout, block, begin)
            if cut is not None:
                self.starts.append(cut)
        bounds = [0, *self.starts]
        pieces = [self._piece(layout, block, a, b) for a, b in itertools.pairwise(bounds)]
        shown = max(layout.shown, layout.body)
        long_rest = len(block) - shown > self.piece_chars
        if (shown <= max(bounds[-1], layout.body) or long_rest) and layout.partial_ok:
            shown = len(block)  # nothing whole to show yet, or one very long unit
        pieces.append(self._piece(layout, block, bounds[-1], shown))
        self.shown = shown
        return pieces

    def _can_cut(self, layout: _Layout, block: str, begin: int, cut: int) -> bool:
        if cut <= max(begin, layout.body) or cut >= len(block):
            return False
        if layout.kind == "paragraph":
            return _paragraph_cut_ok(block, begin, cut)
        return cut in layout.cuts and cut <= layout.shown

    def _last_cut(self, layout: _Layout, block: str, begin: int) -> int | None:
        if layout.kind != "paragraph":
            cuts = [
                c
                for c in layout.cuts
                if c <= layout.shown and self._can_cut(layout, block, begin, c)
            ]
            return max(cuts, default=None)
        spaces = list(re.finditer(r"\s+", block[begin : layout.shown]))
        for match in spaces[:-9:-1]:  # the last few: each check parses the piece
            cut = begin + match.end()
            if cut - begin < self.piece_chars:
                break
            if _paragraph_cut_ok(block, begin, cut):
                return cut
        return None

    @staticmethod
    def _piece(layout: _Layout, block: str, a: int, b: int) -> str:
        text = block[:b] if a == 0 else layout.head + block[a:b]
        if layout.kind == "paragraph" and _after_line_break(block, a):
            # The page shows a paragraph's line breaks; the one before this piece would
            # be lost at the end of the previous one, so this piece starts with it.
            text = "\\\n" + text
        if layout.foot:
            text = (text if text.endswith("\n") else text + "\n") + layout.foot
        return text


@dataclass
class RepaintPace:
    """Which frames of a streaming answer are painted.

    Every frame while the bytes painted so far stay within `budget` times the
    text's size; beyond that, as many frames as keep `rate` visible paints a
    second on average since the first one (the page stays lively). A frame
    that was due but changed nothing on the page (the growing unit not whole
    yet) is reported with `painted(False)` and does not count. Pure: the
    caller passes the clock, the text's size and the bytes it sent.
    """

    budget: float = 1.0
    rate: float = 4.6
    first: float | None = None
    paints: int = 0

    def due(self, now: float, text_chars: int, sent_bytes: int) -> bool:
        if self.first is None:
            self.first = now
        behind = self.paints < self.rate * (now - self.first) + 1
        return behind or sent_bytes <= self.budget * text_chars

    def painted(self, visible: bool = True) -> None:
        self.paints += visible
