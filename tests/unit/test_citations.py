"""Citations become numbered markers and footnotes; sandbox links become inert."""

from __future__ import annotations

from assistants_ui.core.citations import annotate, footnotes_markdown
from assistants_ui.core.events import Citation


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
    assert footnotes_markdown(notes) == "1. [Docs \\[v2\\]](https://example.com/d)"


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
