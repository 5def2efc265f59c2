"""File types, once for every backend: what each tool can read, and a fetched file's bytes.

The tables follow OpenAI's documented lists for the code interpreter and file
search, plus the data formats code can open; the backends decide routes from
them (`responses_files.route_for`, `assistants_files.route_upload`, the chat
backend's text inlining) and the upload check reads extensions with `extension`.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field

__all__ = [
    "CODE_INTERPRETER_TYPES",
    "DATA_TYPES",
    "DOCUMENT_TYPES",
    "FILE_SEARCH_TYPES",
    "IMAGE_TYPES",
    "INLINE_TYPES",
    "PDF_TYPES",
    "Fetched",
    "extension",
    "guess_mime",
]

# Images a model can look at itself.
IMAGE_TYPES = frozenset({"png", "jpg", "jpeg", "gif", "webp"})
PDF_TYPES = frozenset({"pdf"})
# Tabular and data files: something to compute on, in the code interpreter.
DATA_TYPES = frozenset(
    {"csv", "tsv", "xlsx", "xls", "json", "geojson", "parquet", "xml", "jsonl", "ndjson"}
)
# Documents and source files that file search can index (besides PDFs and JSON).
DOCUMENT_TYPES = frozenset(
    {
        "txt", "md", "markdown", "docx", "doc", "html", "htm", "pptx", "tex", "rtf",
        "c", "cpp", "cs", "css", "go", "java", "js", "php", "py", "rb", "sh", "ts",
    }
)  # fmt: skip
FILE_SEARCH_TYPES = DOCUMENT_TYPES | PDF_TYPES | {"json"}
# Everything the code interpreter can open (it is Python: data, documents, images, archives).
CODE_INTERPRETER_TYPES = (
    DATA_TYPES | DOCUMENT_TYPES | PDF_TYPES | (IMAGE_TYPES - {"webp"}) | {"zip", "tar", "pkl", "gz"}
)
# Text a Chat Completions prompt can take inline.
INLINE_TYPES = frozenset(
    {"txt", "md", "csv", "json", "py", "tsv", "log", "yaml", "yml", "xml", "html"}
)


def extension(name: str) -> str:
    """The file name's extension, lower-cased, without the dot ("" when it has none)."""
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def guess_mime(name: str, default: str = "application/octet-stream") -> str:
    return mimetypes.guess_type(name)[0] or default


@dataclass(frozen=True, slots=True)
class Fetched:
    """Bytes of a generated file, with the name and type to offer it under."""

    name: str
    data: bytes = field(repr=False)
    mime: str = "application/octet-stream"
    file_id: str = ""
