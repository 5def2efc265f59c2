"""Streaming Markdown splits only between top-level blocks."""

from __future__ import annotations

import random

import pytest

from assistants_ui.core.markdown import BlockSplitter

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
