"""A file's bytes to text: sections with their page (PDF, slides) and heading.

One reader per kind, each a small library kept for its output and size
(docs/documents.md, "Extraction"): PDF with `pypdf` (a page's text, its
outline for headings), DOCX with `python-docx` (paragraph styles give the
headings), PPTX with `python-pptx` (a slide is a page, its title the heading),
XLSX with `openpyxl` in read-only mode (a sheet is a section), HTML with the
standard library's parser, Markdown, CSV, plain text and source files decoded
(UTF-8, else the encoding `charset-normalizer` finds, said in a note).

Every way a file cannot be read is one `ExtractError` sentence naming the file
and the problem: a PDF without a text layer (a scan), an encrypted PDF, a
damaged file, an archive that unpacks to far more than it weighs (a zip bomb),
binary data where text was expected, more pages or text than the limits. Work
is bounded: pages, characters and unpacked bytes all have ceilings.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

from assistants_ui.core.files import extension
from assistants_ui.i18n import _, format_number

__all__ = [
    "DOCUMENT_EXTENSIONS",
    "MAX_CHARS",
    "MAX_PAGES",
    "ExtractError",
    "Extracted",
    "Section",
    "extract",
    "is_document",
]

log = logging.getLogger(__name__)

# Pages (PDF pages, slides) and characters one document may have; beyond, it is refused.
MAX_PAGES = 2_000
MAX_CHARS = 20_000_000
# An Office file (a zip) may unpack to this much, and at most this many times its size.
MAX_UNZIPPED_BYTES = 300 * 1024 * 1024
MAX_ZIP_RATIO = 200
# Cells read from a spreadsheet.
MAX_CELLS = 2_000_000

TEXT_EXTENSIONS = frozenset(
    {
        "txt", "text", "md", "markdown", "rst", "log", "csv", "tsv", "json", "jsonl", "yaml",
        "yml", "toml", "ini", "cfg", "xml", "tex", "sql", "py", "js", "ts", "tsx", "jsx", "java",
        "c", "h", "cpp", "hpp", "cs", "go", "rs", "rb", "php", "sh", "css", "swift", "kt", "r",
        "scala", "lua", "pl",
    }
)  # fmt: skip
DOCUMENT_EXTENSIONS = TEXT_EXTENSIONS | {"pdf", "docx", "pptx", "xlsx", "html", "htm"}


class ExtractError(Exception):
    """The file cannot be read as text; `reason` is one sentence naming it and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Section:
    """A run of text with where it is: its page (1-based; None where a format has no
    pages) and the heading it sits under ("" when none)."""

    text: str
    page: int | None = None
    heading: str = ""


@dataclass(slots=True)
class Extracted:
    name: str
    sections: list[Section] = field(default_factory=list)
    pages: int = 0  # pages or slides (0: the format has none)
    notes: list[str] = field(default_factory=list)  # said to the reader, e.g. the encoding

    @property
    def chars(self) -> int:
        return sum(len(s.text) for s in self.sections)

    @property
    def text(self) -> str:
        """The whole text, sections joined (headings where they change)."""
        out: list[str] = []
        heading = ""
        for s in self.sections:
            if s.heading and s.heading != heading:
                heading = s.heading
                if not s.text.lstrip().startswith(heading):
                    out.append(heading)
            out.append(s.text)
        return "\n\n".join(t for t in out if t.strip()).rstrip()


def is_document(name: str) -> bool:
    """Whether `extract` reads files of this name's type."""
    return extension(name) in DOCUMENT_EXTENSIONS


def extract(name: str, data: bytes) -> Extracted:
    """The text of `data`, a file called `name`, in sections; `ExtractError` if it has none."""
    ext = extension(name)
    reader = _READERS.get(ext, _plain if ext in TEXT_EXTENSIONS else None)
    if reader is None:
        raise ExtractError(
            _("%(file)s: .%(ext)s files cannot be read as text here")
            % {"file": name, "ext": ext or "?"}
        )
    out = Extracted(name)
    reader(name, data, out)
    out.sections = [s for s in out.sections if s.text.strip()]
    if not out.sections:
        raise ExtractError(_("%(file)s has no text in it") % {"file": name})
    if out.chars > MAX_CHARS:
        raise ExtractError(_too_long(name, out.chars))
    return out


def _too_long(name: str, chars: int) -> str:
    return _("%(file)s has %(chars)s characters of text, over the limit of %(limit)s") % {
        "file": name,
        "chars": format_number(chars),
        "limit": format_number(MAX_CHARS),
    }


def _damaged(name: str, kind: str) -> ExtractError:
    return ExtractError(
        _("%(file)s cannot be read: it is not a valid %(kind)s file (damaged or cut short)")
        % {"file": name, "kind": kind}
    )


# -- PDF ------------------------------------------------------------------------------


def _pdf(name: str, data: bytes, out: Extracted) -> None:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings are about the file
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractError(_encrypted(name))
        count = len(reader.pages)
    except ExtractError:
        raise
    except FileNotDecryptedError as exc:
        raise ExtractError(_encrypted(name)) from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        log.info("%s: pypdf: %s", name, exc)
        raise _damaged(name, "PDF") from exc
    except Exception as exc:  # pypdf raises many kinds on damaged files
        log.info("%s: pypdf: %r", name, exc)
        raise _damaged(name, "PDF") from exc
    if count > MAX_PAGES:
        raise ExtractError(
            _("%(file)s has %(pages)s pages, over the limit of %(limit)s")
            % {"file": name, "pages": format_number(count), "limit": format_number(MAX_PAGES)}
        )
    out.pages = count
    headings = _outline(reader)
    heading = ""
    chars = 0
    for number, page in enumerate(reader.pages, start=1):
        heading = headings.get(number, heading)
        try:
            text = page.extract_text() or ""
        except Exception as exc:  # one damaged page: said, the others kept
            log.info("%s: page %d: %r", name, number, exc)
            text = ""
        text = _tidy(text)
        chars += len(text)
        if chars > MAX_CHARS:
            raise ExtractError(_too_long(name, chars))
        out.sections.append(Section(text, number, heading))
    if not any(s.text.strip() for s in out.sections):
        raise ExtractError(
            _(
                "%(file)s has no text layer (it looks like a scan or pictures of pages): "
                "run it through OCR first, or ask about a PDF with selectable text"
            )
            % {"file": name}
        )


def _encrypted(name: str) -> str:
    return _(
        "%(file)s is encrypted with a password: save a copy without the password and attach that"
    ) % {"file": name}


def _outline(reader: object) -> dict[int, str]:
    """The PDF's bookmarks as {first page: title} (top two levels); {} when it has none."""
    found: dict[int, str] = {}

    def walk(items: object, depth: int) -> None:
        if not isinstance(items, list) or depth > 1:
            return
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
                continue
            try:
                page = reader.get_destination_page_number(item) + 1  # type: ignore[attr-defined]
                title = str(item.title).strip()
            except Exception:
                continue
            if title and page not in found:
                found[page] = title[:200]

    try:
        walk(reader.outline, 0)  # type: ignore[attr-defined]
    except Exception:
        return {}
    return found


# -- Office files (zips) ---------------------------------------------------------------------


def _check_zip(name: str, data: bytes, kind: str) -> None:
    """Refuse an Office file that is not a zip, or unpacks to far more than it weighs."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _damaged(name, kind) from exc
    if unpacked > MAX_UNZIPPED_BYTES or unpacked > max(len(data), 1) * MAX_ZIP_RATIO:
        raise ExtractError(
            _("%(file)s unpacks to %(size)s MB from %(packed)s MB (a zip bomb?): it was not opened")
            % {
                "file": name,
                "size": format_number(unpacked / 1_048_576, digits=1),
                "packed": format_number(len(data) / 1_048_576, digits=2),
            }
        )


def _docx(name: str, data: bytes, out: Extracted) -> None:
    _check_zip(name, data, "Word")
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        body = list(_docx_blocks(document))
    except Exception as exc:
        log.info("%s: python-docx: %r", name, exc)
        raise _damaged(name, "Word") from exc
    heading = ""
    lines: list[str] = []
    for text, is_heading in body:
        if is_heading:
            if lines:
                out.sections.append(Section("\n".join(lines), None, heading))
                lines = []
            heading = text[:200]
        lines.append(text)
    if lines:
        out.sections.append(Section("\n".join(lines), None, heading))


def _docx_blocks(document: object) -> Iterator[tuple[str, bool]]:
    """(text, is a heading) for each paragraph and table row, in document order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for block in document.iter_inner_content():  # type: ignore[attr-defined]
        if isinstance(block, Paragraph):
            text = block.text.strip()
            if not text:
                continue
            style = (block.style.name if block.style is not None else "") or ""
            yield text, style.startswith(("Heading", "Title"))
        elif isinstance(block, Table):
            for row in block.rows:
                cells = [c.text.strip() for c in row.cells]
                if any(cells):
                    yield " | ".join(cells), False


def _pptx(name: str, data: bytes, out: Extracted) -> None:
    _check_zip(name, data, "PowerPoint")
    import pptx

    try:
        deck = pptx.Presentation(io.BytesIO(data))
        slides = list(deck.slides)
    except Exception as exc:
        log.info("%s: python-pptx: %r", name, exc)
        raise _damaged(name, "PowerPoint") from exc
    if len(slides) > MAX_PAGES:
        raise ExtractError(
            _("%(file)s has %(pages)s pages, over the limit of %(limit)s")
            % {
                "file": name,
                "pages": format_number(len(slides)),
                "limit": format_number(MAX_PAGES),
            }
        )
    out.pages = len(slides)
    for number, slide in enumerate(slides, start=1):
        title = ""
        lines: list[str] = []
        for shape in slide.shapes:
            if not getattr(shape, "has_text_frame", False):
                continue
            text = shape.text_frame.text.strip()
            if not text:
                continue
            if shape == slide.shapes.title:
                title = text.splitlines()[0][:200]
            lines.append(text)
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame.text.strip()
            if notes:
                lines.append(notes)
        out.sections.append(Section("\n".join(lines), number, title))


def _xlsx(name: str, data: bytes, out: Extracted) -> None:
    _check_zip(name, data, "Excel")
    import openpyxl

    cells = 0
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            for sheet in book.worksheets:
                rows: list[str] = []
                for row in sheet.iter_rows(values_only=True):
                    cells += len(row)
                    if cells > MAX_CELLS:
                        raise ExtractError(
                            _("%(file)s has more than %(limit)s cells: it was not read whole")
                            % {"file": name, "limit": format_number(MAX_CELLS)}
                        )
                    values = ["" if v is None else str(v) for v in row]
                    if any(values):
                        rows.append("\t".join(values).rstrip("\t"))
                out.sections.append(Section("\n".join(rows), None, str(sheet.title)))
        finally:
            book.close()
    except ExtractError:
        raise
    except Exception as exc:
        log.info("%s: openpyxl: %r", name, exc)
        raise _damaged(name, "Excel") from exc


# -- HTML, Markdown, text -----------------------------------------------------------------


class _HtmlText(HTMLParser):
    """Visible text of an HTML page, cut into sections at its headings."""

    SKIP = frozenset({"script", "style", "noscript", "template", "svg", "head"})
    BLOCK = frozenset(
        {"p", "div", "br", "li", "tr", "section", "article", "pre", "blockquote", "table", "ul"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[Section] = []
        self.heading = ""
        self.buffer: list[str] = []
        self.title: list[str] | None = None
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.flush()
            self.title = []
        elif tag in self.BLOCK:
            self.buffer.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif re.fullmatch(r"h[1-6]", tag) and self.title is not None:
            self.heading = " ".join("".join(self.title).split())[:200]
            self.buffer.append(self.heading + "\n")
            self.title = None
        elif tag in self.BLOCK:
            self.buffer.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        if self.title is not None:
            self.title.append(data)
        else:
            self.buffer.append(data)

    def flush(self) -> None:
        text = _tidy("".join(self.buffer))
        if text:
            self.sections.append(Section(text, None, self.heading))
        self.buffer = []


def _html(name: str, data: bytes, out: Extracted) -> None:
    parser = _HtmlText()
    parser.feed(_decode(name, data, out))
    parser.close()
    parser.flush()
    out.sections.extend(parser.sections)


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def _markdown(name: str, data: bytes, out: Extracted) -> None:
    heading = ""
    lines: list[str] = []
    fenced = False
    for line in _decode(name, data, out).splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        found = None if fenced else _MD_HEADING.match(line)
        if found:
            if lines:
                out.sections.append(Section("\n".join(lines), None, heading))
                lines = []
            heading = found.group(2)[:200]
        lines.append(line)
    if lines:
        out.sections.append(Section("\n".join(lines), None, heading))


def _plain(name: str, data: bytes, out: Extracted) -> None:
    out.sections.append(Section(_decode(name, data, out)))


def _decode(name: str, data: bytes, out: Extracted) -> str:
    """UTF-8 (with or without a BOM), UTF-16 with a BOM, else what charset-normalizer finds
    (said in a note); binary data is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    if b"\x00" in data[:8192]:
        raise ExtractError(_("%(file)s is not text (it holds binary data)") % {"file": name})
    from charset_normalizer import from_bytes

    best = from_bytes(data[:1_000_000]).best()
    encoding = best.encoding if best is not None else "cp1252"
    if encoding in _LATIN:
        # Single-byte European code pages are told apart by a few letters, which a
        # short text may not have: the most common one, Windows-1252, where it decodes.
        try:
            data.decode("cp1252")
            encoding = "cp1252"
        except UnicodeDecodeError:
            pass
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        encoding = "latin-1"
        text = data.decode(encoding)
    out.notes.append(
        _("%(file)s is not UTF-8: it was read as %(encoding)s")
        % {"file": name, "encoding": encoding}
    )
    return text


_LATIN = frozenset(
    {"cp1250", "cp1252", "cp1254", "cp1257", "latin_1", "iso8859_2", "iso8859_15", "mac_roman"}
    | {"iso8859_3", "iso8859_4", "iso8859_9", "iso8859_10", "iso8859_13", "iso8859_14"}
)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANKS = re.compile(r"\n{3,}")


def _tidy(text: str) -> str:
    """Runs of spaces as one, at most one blank line, no trailing spaces."""
    text = _SPACES.sub(" ", text.replace("\x00", ""))
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANKS.sub("\n\n", text).strip()


_READERS: dict[str, Callable[[str, bytes, Extracted], None]] = {
    "pdf": _pdf,
    "docx": _docx,
    "pptx": _pptx,
    "xlsx": _xlsx,
    "html": _html,
    "htm": _html,
    "md": _markdown,
    "markdown": _markdown,
}
