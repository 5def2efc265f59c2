"""Benchmark: pathological answers through the citation pass and the Markdown rewrite.

    .venv/bin/python -m bench.hostile_text       (also run by `make bench`)

Issue 11 found that 40,000 `[` in an answer took ~10 s in the sandbox-link
pattern of `core/citations.py`. This measures, side by side in one run, the old
pattern, the pattern now used, `annotate` (which uses it) and `inert` (the
rewrite every painted text goes through, core/safe_markdown.py), on inputs built
to make backtracking patterns quadratic, and on an ordinary answer of the same
size for scale. Each figure is the best of 3 runs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from assistants_ui.core.citations import _SANDBOX_LINK, annotate
from assistants_ui.core.events import Citation
from assistants_ui.core.safe_markdown import inert

OLD = re.compile(r"!?\[([^\]\n]*)\]\((sandbox:|/mnt/data/)[^)\n]*\)")
OLD_ON = {"40,000 [", "10,000 [a](sandbox:x"}
CITE = [Citation("url", "t", url="https://a.example", start=0)]

INPUTS = {
    "40,000 [": "[" * 40_000,
    "10,000 [a](sandbox:x": "[a](sandbox:x" * 10_000,
    "20,000 ![": "![" * 20_000,
    "ordinary 40 kB answer": (
        "Some **bold** text with a [link](https://example.com/a_b) and `code`.\n\n" * 560
    ),
}


def best(fn: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    print(
        f"{'input':24} {'chars':>7} {'old pattern':>12} {'new pattern':>12} "
        f"{'annotate':>10} {'inert':>10}"
    )
    for name, text in INPUTS.items():
        # The old pattern once, and only where it is the point: it takes seconds.
        old = best(lambda t=text: OLD.sub("", t), runs=1) if name in OLD_ON else float("nan")
        new = best(lambda t=text: _SANDBOX_LINK.sub("", t))
        ann = best(lambda t=text: annotate(t, CITE))
        rew = best(lambda t=text: inert(t))
        shown = f"{old:>11.3f}s" if old == old else f"{'-':>12}"  # nan: not run
        print(f"{name:24} {len(text):>7} {shown} {new:>11.4f}s {ann:>9.4f}s {rew:>9.3f}s")


if __name__ == "__main__":
    main()
