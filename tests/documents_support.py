"""Documents for the tests and the benchmarks, made on the spot (fpdf2, python-docx).

`report_pdf(pages)` is a PDF whose every page talks about something ordinary,
except the pages in `facts`, which hold a distinctive sentence: the question
about it has exactly one right page.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Mapping

from fpdf import FPDF

__all__ = [
    "FACT_PAGE",
    "FACT_QUESTION",
    "FACT_SENTENCE",
    "filler",
    "report_pdf",
    "scanned_pdf",
]

FACT_PAGE = 17
FACT_SENTENCE = (
    "The lighthouse keeper Oswin Marlowe counted exactly 4,812 herons over Quillon Bay "
    "during the spring survey."
)
FACT_QUESTION = "How many herons did Oswin Marlowe count over Quillon Bay?"

_TOPICS = (
    "budget", "staffing", "logistics", "maintenance", "training", "procurement", "safety",
    "scheduling", "inventory", "outreach", "compliance", "facilities", "transport", "archives",
)  # fmt: skip
_SENTENCE = (
    "the committee reviewed the plan and agreed that further work is needed on the "
    "quarterly figures while the regional office prepares a summary of open questions "
    "for the next meeting with partners and suppliers in the northern district"
)
_WORDS = tuple(_SENTENCE.split(" "))


def filler(page: int, words: int = 160, seed: int = 0) -> str:
    """An ordinary page: a topic, and sentences of common words."""
    rng = random.Random(page * 7919 + seed)
    topic = _TOPICS[page % len(_TOPICS)]
    out = [f"Section {page} covers {topic}."]
    sentence: list[str] = []
    for _ in range(words):
        sentence.append(rng.choice(_WORDS))
        if len(sentence) >= rng.randint(9, 16):
            out.append(" ".join(sentence).capitalize() + ".")
            sentence = []
    return " ".join(out)


def report_pdf(pages: int = 30, facts: Mapping[int, str] | None = None, words: int = 160) -> bytes:
    """A PDF of `pages` pages with a text layer; `facts` maps a page to a sentence on it
    (default: the heron count on page 17)."""
    if facts is None:
        facts = {FACT_PAGE: FACT_SENTENCE}
    pdf = FPDF()
    pdf.set_creation_date(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))  # the same bytes each time
    pdf.set_compression(True)
    pdf.set_font("Helvetica", size=10)
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.multi_cell(0, 5, f"Annual report, page {number}", new_x="LMARGIN", new_y="NEXT")
        text = filler(number, words)
        if number in facts:
            text = f"{text} {facts[number]}"
        pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def scanned_pdf(pages: int = 2) -> bytes:
    """A PDF of pictures only (what a scanner makes): no text layer."""
    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (60, 80), "white").save(picture, format="PNG")
    pdf = FPDF()
    for _ in range(pages):
        pdf.add_page()
        pdf.image(io.BytesIO(picture.getvalue()), x=10, y=10, w=60)
    return bytes(pdf.output())
