"""The admin's usage CSV runs no formula when a spreadsheet opens it (OWASP's CSV
injection rule): a user's name is theirs to choose, `=HYPERLINK(...)` included."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from assistants_ui.storage.admin import DayUsage
from assistants_ui.web.admin_view import _csv


@pytest.mark.parametrize(
    "name",
    [
        '=HYPERLINK("http://collector.example/c","Open")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\tTAB=1",
        "\rCR=1",
    ],
)
def test_a_cell_that_starts_like_a_formula_is_text(name: str) -> None:
    row = DayUsage(dt.date(2026, 12, 1), "default", 3, 40, user_id=7, user=name)
    rows = list(csv.reader(io.StringIO(_csv([row]), newline="")))
    assert rows == [
        ["day", "user_id", "user", "assistant", "messages", "tokens"],
        ["2026-12-01", "7", "'" + name, "default", "3", "40"],
    ]


def test_ordinary_cells_are_left_as_they_are() -> None:
    row = DayUsage(dt.date(2026, 12, 1), "analyst", 0, 0, user_id=1, user="Anna A (a@x.org)")
    rows = list(csv.reader(io.StringIO(_csv([row]), newline="")))
    assert rows[1] == ["2026-12-01", "1", "Anna A (a@x.org)", "analyst", "0", "0"]
