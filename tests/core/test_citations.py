"""Citations become numbered markers and footnotes; sandbox links become inert."""

from __future__ import annotations

from markdown_it import MarkdownIt

from assistants_ui.core.citations import _SANDBOX_LINK, annotate, footnotes_markdown
from assistants_ui.core.events import Citation
from assistants_ui.core.safe_markdown import WORD_JOINER


def test_file_citations_are_numbered_per_file() -> None:
    text = "Revenue grew.Costs fell.Again."
    cites = [
        Citation("file", "report.pdf", file_id="f1", start=13),
        Citation("file", "costs.xlsx", file_id="f2", start=24),
        Citation("file", "report.pdf", file_id="f1", start=30),
    ]
    out, notes = annotate(text, cites)
    assert out == "Revenue grew. [1]Costs fell. [2]Again. [1]"
    assert [(n.number, n.label) for n in notes] == [(1, "report.pdf"), (2, "costs.xlsx")]


def test_assistants_placeholders_are_replaced() -> None:
    text = "The answer is 42【4:0†source】."
    marker = "【4:0†source】"
    start = text.index(marker)
    out, notes = annotate(
        text,
        [
            Citation(
                "file", "a.txt", file_id="f", start=start, end=start + len(marker), marker=marker
            )
        ],
    )
    assert out == "The answer is 42 [1]."
    assert notes[0].label == "a.txt"


def test_url_citations_are_linked_footnotes() -> None:
    text = "See the docs for details."
    out, notes = annotate(
        text, [Citation("url", "Docs [v2]", url="https://example.com/d", start=8, end=12)]
    )
    assert out == "See the docs [1] for details."
    assert footnotes_markdown(notes) == "1. [Docs \\[v2\\]](<https://example.com/d>)"


def test_non_http_urls_are_not_linked() -> None:
    _, notes = annotate("x", [Citation("url", "evil", url="javascript:alert(1)", start=1)])
    assert footnotes_markdown(notes) == "1. evil"


def test_sandbox_links_become_plain_names() -> None:
    text = "Here: [the workbook](sandbox:/mnt/data/out.xlsx) and ![chart](sandbox:/mnt/data/c.png)"
    out, _ = annotate(text, [Citation("container_file", "out.xlsx", file_id="cf", start=6, end=49)])
    assert "sandbox:" not in out
    assert "**the workbook**" in out


def test_a_file_path_citation_over_the_link_target_keeps_the_label() -> None:
    text = "Get [the data](sandbox:/mnt/data/d.csv) now."
    start = text.index("sandbox:")
    end = text.index(")")
    out, notes = annotate(
        text,
        [Citation("file_path", "d.csv", file_id="f", start=start, end=end, marker=text[start:end])],
    )
    assert out == "Get **the data** now."
    assert notes == []


def test_a_citation_cannot_carry_an_image_or_break_out_of_its_footnote() -> None:
    # Attack: a web page's title and address chosen to plant an image (and a link)
    # in the footnotes; before, the address was pasted into the Markdown as it came.
    title = "Docs](https://x.example) ![t](https://collector.example/t.png) <img src=x>"
    url = "https://ok.example/a) ![u](https://collector.example/u.png"
    _, notes = annotate("x", [Citation("url", title, url=url, start=1)])
    md = footnotes_markdown(notes)
    tokens = MarkdownIt("commonmark").parseInline(md)[0].children or []
    assert [t.type for t in tokens if t.type != "text"] == ["link_open", "link_close"]
    link = next(t for t in tokens if t.type == "link_open")
    assert (
        link.attrGet("href") == "https://ok.example/a)%20!%5Bu%5D(https://collector.example/u.png"
    )
    shown = "".join(t.content for t in tokens if t.type == "text")
    assert shown.replace(WORD_JOINER, "") == "1. " + title  # (no bare link either)


def test_sandbox_links_are_found_in_linear_time_on_brackets() -> None:
    # Attack: 40,000 `[` (no `]`): the old pattern `\[([^\]\n]*)\]` rescanned to the
    # end of the line from every bracket, ~10 s. The pattern now cannot cross a
    # bracket, so every attempt stops at the next one.
    # The same for a link target that never closes, repeated.
    text = "[" * 40_000 + "\n" + "[a](sandbox:x" * 10_000 + "\n[a](sandbox:/mnt/data/a.csv) done"
    out, _ = annotate(text, [Citation("url", "t", url="https://a.example", start=0)])
    assert out == " [1]" + "[" * 40_000 + "\n" + "[a](sandbox:x" * 10_000 + "\n**a** done"
    assert _SANDBOX_LINK.pattern.count("[^") == 2
    assert all("\\[\\]" in part for part in _SANDBOX_LINK.pattern.split("[^")[1:])
