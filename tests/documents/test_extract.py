"""Extraction: each kind of document to text with its pages and headings, and one sentence
for each file that cannot be read (scanned, encrypted, damaged, a zip bomb, binary)."""

from __future__ import annotations

import io
import zipfile

import docx
import openpyxl
import pptx
import pytest
from pypdf import PdfReader, PdfWriter

from assistants_ui.documents.chunks import CHUNK_CHARS, chunk_sections
from assistants_ui.documents.extract import ExtractError, extract
from documents_support import FACT_PAGE, FACT_SENTENCE, report_pdf, scanned_pdf


def test_a_pdf_keeps_its_page_numbers() -> None:
    got = extract("report.pdf", report_pdf(30))
    assert got.pages == 30
    assert [s.page for s in got.sections] == list(range(1, 31))
    (page,) = [s for s in got.sections if "herons" in s.text]
    assert page.page == FACT_PAGE
    assert " ".join(FACT_SENTENCE.split()) in " ".join(page.text.split())
    chunks = chunk_sections(got.sections)
    assert all(len(c.text) <= CHUNK_CHARS for c in chunks)
    assert {c.page for c in chunks if "herons" in c.text} == {FACT_PAGE}


def test_a_pdf_outline_names_the_headings() -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(report_pdf(4))))
    writer.add_outline_item(title="Introduction", page_number=0)
    writer.add_outline_item(title="Results", page_number=2)
    out = io.BytesIO()
    writer.write(out)
    got = extract("r.pdf", out.getvalue())
    assert [s.heading for s in got.sections] == [
        "Introduction",
        "Introduction",
        "Results",
        "Results",
    ]


def test_a_scanned_pdf_is_one_sentence() -> None:
    with pytest.raises(ExtractError) as caught:
        extract("scan.pdf", scanned_pdf())
    assert caught.value.reason.startswith("scan.pdf has no text layer")
    assert "OCR" in caught.value.reason


def test_an_encrypted_pdf_is_one_sentence() -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(report_pdf(2))))
    writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(ExtractError) as caught:
        extract("locked.pdf", out.getvalue())
    assert caught.value.reason.startswith("locked.pdf is encrypted with a password")


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("cut.pdf", report_pdf(3)[:400]),
        ("noise.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 8),
        ("broken.docx", b"PK\x03\x04 not really a zip"),
        ("broken.xlsx", b"hello"),
        ("broken.pptx", b""),
    ],
)
def test_a_damaged_file_is_one_sentence(name: str, data: bytes) -> None:
    with pytest.raises(ExtractError) as caught:
        extract(name, data)
    assert caught.value.reason.startswith(f"{name} cannot be read: it is not a valid")


def test_a_zip_bomb_inside_a_docx_is_not_opened() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/bomb.xml", b"\0" * (400 * 1024 * 1024))
    data = out.getvalue()
    assert len(data) < 1024 * 1024
    with pytest.raises(ExtractError) as caught:
        extract("bomb.docx", data)
    assert "(a zip bomb?)" in caught.value.reason
    assert caught.value.reason.startswith("bomb.docx unpacks to 400")


def test_word_headings_powerpoint_slides_and_excel_sheets() -> None:
    document = docx.Document()
    document.add_heading("Travel policy", level=1)
    document.add_paragraph("Trains are preferred under 500 km.")
    document.add_heading("Meals", level=2)
    document.add_paragraph("Dinner is covered up to 40 euros.")
    out = io.BytesIO()
    document.save(out)
    got = extract("policy.docx", out.getvalue())
    assert [(s.heading, s.page) for s in got.sections] == [("Travel policy", None), ("Meals", None)]
    assert "40 euros" in got.sections[1].text

    deck = pptx.Presentation()
    for title in ("Roadmap", "Risks"):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = f"Body of {title}"
    out = io.BytesIO()
    deck.save(out)
    got = extract("deck.pptx", out.getvalue())
    assert [(s.page, s.heading) for s in got.sections] == [(1, "Roadmap"), (2, "Risks")]
    assert got.pages == 2

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Prices"
    sheet.append(["item", "price"])
    sheet.append(["tea", 3.5])
    out = io.BytesIO()
    book.save(out)
    got = extract("prices.xlsx", out.getvalue())
    assert got.sections[0].heading == "Prices"
    assert "tea\t3.5" in got.sections[0].text


def test_html_and_markdown_headings_and_no_scripts() -> None:
    html = (
        b"<html><head><title>t</title><script>var secret = 1;</script></head><body>"
        b"<h1>Opening hours</h1><p>Monday to Friday.</p><h2>Holidays</h2><p>Closed.</p>"
        b"</body></html>"
    )
    got = extract("page.html", html)
    assert [s.heading for s in got.sections] == ["Opening hours", "Holidays"]
    assert "secret" not in got.text
    md = b"# Setup\nInstall it.\n```\n# not a heading\n```\n## Use\nRun it.\n"
    got = extract("README.md", md)
    assert [s.heading for s in got.sections] == ["Setup", "Use"]


def test_text_that_is_not_utf8_is_read_and_said() -> None:
    text = "Le café coûte 3 € à Genève, déjà payé."
    got = extract("notes.txt", text.encode("cp1252"))
    assert got.text == text
    assert got.notes and got.notes[0].startswith("notes.txt is not UTF-8: it was read as")


def test_binary_data_as_text_is_one_sentence() -> None:
    with pytest.raises(ExtractError) as caught:
        extract("data.txt", b"\x00\x01\x02\xff" * 100)
    assert caught.value.reason == "data.txt is not text (it holds binary data)"


def test_fifty_thousand_one_character_lines_are_cut_into_passages() -> None:
    data = "\n".join("x" for _ in range(50_000)).encode()
    got = extract("lines.txt", data)
    chunks = chunk_sections(got.sections)
    assert all(len(c.text) <= CHUNK_CHARS for c in chunks)
    assert sum(c.text.count("x") for c in chunks) >= 50_000
    assert len(chunks) < 200


def test_an_unknown_type_is_one_sentence() -> None:
    with pytest.raises(ExtractError) as caught:
        extract("tool.exe", b"MZ")
    assert caught.value.reason == "tool.exe: .exe files cannot be read as text here"
