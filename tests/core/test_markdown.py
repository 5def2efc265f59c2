"""Streaming Markdown splits only between top-level blocks."""

from __future__ import annotations

import itertools
import random

import pytest
from markdown_it import MarkdownIt

from assistants_ui.core.markdown import BlockSplitter, PieceSplitter, RepaintPace
from assistants_ui.core.safe_markdown import inert

DOC = """# Title

A paragraph that
spans two lines.

- item one
- item two
  continued

1. first
2. second

```python
def f():

    return 1
```

| a | b |
|---|---|
| 1 | 2 |
| 3 | 4 |

> quoted
> more

Last paragraph."""


def stream(text: str, sizes: list[int]) -> tuple[list[str], str]:
    splitter = BlockSplitter()
    frozen: list[str] = []
    pos = 0
    tail = ""
    for size in sizes:
        pos = min(len(text), pos + size)
        done, tail = splitter.advance(text[:pos])
        if done:
            frozen.append(done)
        if pos == len(text):
            break
    done, tail = splitter.advance(text, final=True)
    if done:
        frozen.append(done)
    return frozen, tail


@pytest.mark.parametrize("seed", range(20))
def test_any_chunking_rebuilds_the_text_and_never_splits_inside_a_block(seed: int) -> None:
    rng = random.Random(seed)
    sizes = [rng.randint(1, 12) for _ in range(2000)]
    frozen, tail = stream(DOC, sizes)
    assert tail == ""
    assert "".join(frozen) == DOC
    for chunk in frozen:
        assert chunk.count("```") % 2 == 0, f"split inside a code block: {chunk!r}"
        if "| a | b |" in chunk:
            assert "| 3 | 4 |" in chunk, "split inside a table"
        if "- item one" in chunk:
            assert "continued" in chunk, "split inside a list"
        if "1. first" in chunk:
            assert "2. second" in chunk


def test_growing_block_is_not_frozen() -> None:
    s = BlockSplitter()
    assert s.advance("Hello wor") == ("", "Hello wor")
    assert s.advance("Hello world.\n\nNext") == ("Hello world.\n\n", "Next")
    assert s.advance("Hello world.\n\nNext one") == ("", "Next one")


def test_unclosed_code_fence_stays_in_the_tail() -> None:
    s = BlockSplitter()
    text = "Intro\n\n```py\nx = 1\n\n\ny = 2\n"
    done, tail = s.advance(text)
    assert done == "Intro\n\n"
    assert tail.startswith("```py") and tail.endswith("y = 2\n")


def test_a_text_that_is_not_a_continuation_starts_over() -> None:
    s = BlockSplitter()
    s.advance("a\n\nb\n\nc")
    assert s.advance("x") == ("", "x")


# -- the growing block, in pieces ---------------------------------------------------

_md = MarkdownIt("commonmark").enable("table").enable("strikethrough")

CODE = "```python\n" + "".join(
    f"def f{i}(x):\n    # | a | b | and - item and ``` inside\n    return x * {i}\n\n"
    for i in range(40)
)
CODE_4 = CODE.replace("```python", "````python") + "````\n\nAfter."
TILDE = "  ~~~\n" + "".join(f"line {i}: ``` and ~~ and    indented\n" for i in range(60))
TABLE = "| n | name |\n|---:|---|\n" + "".join(f"| {i} | **row** `{i}` |\n" for i in range(80))
LIST = "".join(f"{i}. item {i} with *emphasis*\n   continued line {i}\n" for i in range(1, 60))
BULLETS = "".join(f"- item {i}\n  - nested {i}\n\n    more of {i}\n" for i in range(40))
WORDS = ["stream", "render", "answer", "token", "model", "browser", "element", "delta", "frame"]
PARAGRAPH = " ".join(
    f"{WORDS[i % 9].capitalize()} {WORDS[(i * 2) % 9]} **bold {i}** and `code {i}` "
    f"with *an emphasis spanning. Several words {i}* and [a link](https://x.org/{i}) "
    f"then $x_{i} = y$ and \\(a. b\\) and 2 * 3 done."
    for i in range(30)
)
QUOTE = "".join(f"> > nested quote line {i}\n> continued {i}\n" for i in range(60))


def grow(block: str, seed: int) -> list[list[str]]:
    """Every `split` result while `block` streams in in random chunks."""
    rng = random.Random(seed)
    splitter = PieceSplitter(piece_chars=120)
    out = []
    pos = 0
    while pos < len(block):
        pos = min(len(block), pos + rng.randint(1, 25))
        out.append(splitter.split(block[:pos]))
    return out


def stable(steps: list[list[str]]) -> None:
    """Every piece but the last is final: later calls return the same string."""
    for before, after in itertools.pairwise(steps):
        assert after[: len(before) - 1] == before[:-1]


def blocks(piece: str) -> list[str]:
    return [t.type for t in _md.parse(piece) if t.level == 0 and t.nesting != -1]


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("block", [CODE, CODE_4, TILDE], ids=["backticks", "four", "tildes"])
def test_a_fenced_block_is_cut_between_lines_into_whole_fences(seed: int, block: str) -> None:
    steps = grow(block, seed)
    stable(steps)
    code = next(t.content for t in _md.parse(block) if t.type == "fence")
    for pieces in steps:
        for piece in pieces:
            assert blocks(piece) in ([], ["fence"]), piece  # [] while the fence is opening
        contents = [t.content for p in pieces for t in _md.parse(p) if t.type == "fence"]
        shown = "".join(contents)
        if not pieces[-1].endswith(("\n```", "\n````", "\n  ~~~")) or len(contents) < 2:
            continue
        assert code.startswith(shown) or code.startswith(shown.rstrip("\n")), shown[-80:]
    assert len(steps[-1]) > 3


@pytest.mark.parametrize("seed", range(2))
def test_a_table_is_cut_between_rows_and_every_piece_is_a_table(seed: int) -> None:
    steps = grow(TABLE, seed)
    stable(steps)
    for pieces in steps[len(steps) // 2 :]:
        for piece in pieces:
            assert blocks(piece) == ["table_open"], piece
    rows = [line for p in steps[-1] for line in p.splitlines()[2:]]
    assert rows == TABLE.splitlines()[2:]
    assert len(steps[-1]) > 3


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("block", [LIST, BULLETS], ids=["ordered", "nested"])
def test_a_list_is_cut_between_top_level_items(seed: int, block: str) -> None:
    steps = grow(block, seed)
    stable(steps)
    for pieces in steps:
        for piece in pieces[:-1]:
            assert blocks(piece) in (["ordered_list_open"], ["bullet_list_open"]), piece
            assert (piece.endswith("\n") and block.startswith(piece)) or piece in block
    assert "".join(steps[-1]) == block
    assert len(steps[-1]) > 3


def _inline(text: str) -> str:
    html = _md.render(text).strip()
    assert html.startswith("<p>") and html.endswith("</p>"), html
    return " ".join(html[3:-4].split())


@pytest.mark.parametrize("seed", range(2))
def test_a_paragraph_is_cut_between_words_with_nothing_left_open(seed: int) -> None:
    steps = grow(PARAGRAPH + " End.", seed)
    stable(steps)
    for pieces in steps:
        shown = "".join(pieces)
        if len(pieces) > 1 and shown.strip():
            # Pieces painted side by side read as the paragraph painted whole.
            assert " ".join(_inline(p) for p in pieces if p.strip()) == _inline(shown)
        for piece in pieces[:-1]:
            assert piece.count("$") % 2 == 0 and piece.count("\\(") == piece.count("\\)")
            assert piece.replace(" * ", "").count("*") % 2 == 0 and piece.count("`") % 2 == 0
    assert len(steps[-1]) > 3


POEM = "".join(
    f"Line {i} of the poem walks *along* the {WORDS[i % 9]},\nand {WORDS[(i * 4) % 9]} "
    f"answers back in verse {i}.\n"
    for i in range(40)
)
WORD_LINES = "".join(f"{WORDS[i % 9]}{i}\n" for i in range(150))  # no space to cut at
LAZY = "".join(f"- item {i} has words\nwith a lazy line {i}\n" for i in range(40))


def _shown(piece: str) -> str:
    """A paragraph piece as the page shows it (rewritten by `inert`), white space folded;
    a space at the end of a line is not shown."""
    return _inline(inert(piece)).replace(" <br />", "<br />")


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("poem", [POEM, WORD_LINES], ids=["poem", "word lines"])
def test_a_poem_streams_in_pieces_that_keep_its_lines(seed: int, poem: str) -> None:
    steps = grow(poem + "The end.", seed)
    stable(steps)
    for pieces in steps:
        # A piece cut at a line break starts with a hard break ("\\\n"): the break
        # would be lost at the end of the piece before.
        shown = "".join(p.removeprefix("\\\n") for p in pieces)
        if len(pieces) > 1 and shown.strip():
            # Side by side, the pieces show what the block painted whole shows: every
            # line break, none lost at a seam.
            seams = " ".join(_shown(p) for p in pieces if p.strip())
            assert seams.replace(" <br />", "<br />") == _shown(shown)
    assert len(steps[-1]) > 3
    whole = _shown("".join(p.removeprefix("\\\n") for p in steps[-1]))
    assert whole.count("<br />") == poem.count("\n")  # one line per line


@pytest.mark.parametrize("seed", range(2))
def test_a_list_with_lazy_lines_streams_as_lists_that_keep_them(seed: int) -> None:
    steps = grow(LAZY, seed)
    stable(steps)
    for pieces in steps:
        for piece in pieces[:-1]:
            assert blocks(piece) == ["bullet_list_open"], piece
            html = _md.render(inert(piece))
            assert html.count("<li>") == html.count("<br />") == piece.count("- item"), html
    assert "".join(steps[-1]) == LAZY
    assert len(steps[-1]) > 3


def test_a_cut_never_falls_inside_open_emphasis_or_math() -> None:
    # Every space of these paragraphs is inside something open: no cut anywhere.
    for text in (
        "Start *" + " ".join(["word"] * 200),
        "Start $" + " ".join(["x"] * 200),
        "Start \\(" + " ".join(["x"] * 200),
        "Start `" + " ".join(["x"] * 200),
        "Start [" + " ".join(["x"] * 200),
    ):
        assert all(len(pieces) == 1 for pieces in grow(text, 1)), text


@pytest.mark.parametrize("block", [QUOTE, "# " + "heading " * 100, "    indented code\n" * 50])
def test_quotes_headings_and_indented_code_stay_one_piece(block: str) -> None:
    for pieces in grow(block, 2):
        assert len(pieces) == 1


def test_a_growing_fence_opening_or_table_header_shows_nothing_raw() -> None:
    s = PieceSplitter()
    assert s.split("```pyth") == [""]
    assert s.split("| a | b |\n") == [""]
    assert s.split("| a | b |\n|---|---|\n| 1 | 2 |\n") == ["| a | b |\n|---|---|\n| 1 | 2 |\n"]
    assert PieceSplitter().split("```py\nx = 1") == ["```py\nx = 1\n```"]
    # A line that may be the closing fence is held back, never shown after a new fence.
    assert PieceSplitter().split("```py\nx = 1\n``") == ["```py\nx = 1\n```"]


def _paint_if_due(pace: RepaintPace, now: float, chars: int, sent: int) -> bool:
    due = pace.due(now, chars, sent)
    if due:
        pace.painted()
    return due


def test_the_pace_paints_every_frame_within_budget_then_at_its_rate() -> None:
    pace = RepaintPace(budget=2.0, rate=4.0)
    assert _paint_if_due(pace, 0.0, 100, 150)
    assert _paint_if_due(pace, 0.09, 100, 200)  # within 2x: every frame
    assert not _paint_if_due(pace, 0.18, 100, 201)  # over budget, ahead of 4 a second
    frames = [0.27 + 0.09 * n for n in range(100)]
    painted = [t for t in frames if _paint_if_due(pace, t, 100, 900)]
    assert 4 * 9 <= len(painted) + 2 <= 4 * 9 + 2  # over budget: 4 a second on average


def test_a_due_frame_that_showed_nothing_new_does_not_count() -> None:
    pace = RepaintPace(budget=0.0, rate=4.0)
    assert pace.due(0.0, 100, 900)
    pace.painted(False)  # nothing whole to show yet: not counted
    assert pace.due(0.09, 100, 900)
    pace.painted()
    assert pace.due(0.18, 100, 900)
    pace.painted()
    assert not pace.due(0.20, 100, 900)  # two paints by 0.2 s: ahead of 4 a second
