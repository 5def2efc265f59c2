"""Binary samples built in memory: a real PNG and an XLSX-like zip."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from assistants_ui.core import events as ev
from assistants_ui.core.transcript import Message, fold

__all__ = ["every_part_answer", "png_bytes", "xlsx_bytes"]


def png_bytes(width: int = 16, height: int = 16) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(
        b"\x00" + b"".join(bytes((x * 15 % 256, y * 15 % 256, (x * y) % 256)) for x in range(width))
        for y in range(height)
    )
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def xlsx_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr("xl/workbook.xml", "<workbook><sheets/></workbook>")
        z.writestr("xl/worksheets/sheet1.xml", "<sheetData>" + "<row/>" * 50 + "</sheetData>")
        z.writestr("bin/all-bytes", bytes(range(256)) * 4)
    return buf.getvalue()


def every_part_answer() -> Message:
    """An assistant message with one part of every kind, files included."""
    return fold(
        [
            ev.ReasoningDelta("Thinking about the data."),
            ev.TextDelta("Here is the chart "),
            ev.Citation("file", "sales.xlsx", file_id="file_9", start=0, end=4, marker="【4†】"),
            ev.ToolCallStarted("c1", "code_interpreter"),
            ev.CodeDelta("c1", "print('```')\n"),
            ev.CodeOutput("c1", "```\n"),
            ev.ImageOutput("chart.png", png_bytes(), "image/png", "file_img"),
            ev.ToolCallDone("c1"),
            ev.ToolCallStarted("f1", "function", name="lookup", arguments='{"q": 1}'),
            ev.ToolCallDone("f1", output="42"),
            ev.TextDelta("and the table."),
            ev.Citation("url", "Example", url="https://example.com/a"),
            ev.FileOutput("table.xlsx", xlsx_bytes(), "application/vnd.ms-excel", "file_x"),
            ev.Refusal("Not that part."),
            ev.Notice("The container expired.", "warning"),
            ev.Done(usage=ev.Usage(11, 22)),
        ]
    )
