"""The login tables of `.streamlit/secrets.toml`: `[credentials]`, `[cookie]`, `[auth]`.

`Settings` reads the file's top-level keys; the tables belong to the login
code and are read here. The project's file (`.streamlit/secrets.toml` in the
working directory) wins over the one in the home folder, table by table,
which is also the order Streamlit gives them in `st.secrets`.

Nothing here logs a value: the tables hold passwords and keys.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistants_ui.settings import SECRETS_FILES, Problem

__all__ = ["SecretsTables", "read_secrets_tables"]

TABLES = ("credentials", "cookie", "auth")


@dataclass(frozen=True, slots=True)
class SecretsTables:
    """Each login table (None: absent) and the file it came from."""

    credentials: dict[str, Any] | None = field(default=None, repr=False)
    cookie: dict[str, Any] | None = field(default=None, repr=False)
    auth: dict[str, Any] | None = field(default=None, repr=False)
    sources: dict[str, Path] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()

    def source(self, table: str) -> str:
        """Where a table came from, for messages (the project's file when absent)."""
        return str(self.sources.get(table, SECRETS_FILES[0]))


def read_secrets_tables(files: Iterable[Path] = SECRETS_FILES) -> SecretsTables:
    """Read the tables; an unreadable file is a problem (settings reports it too)."""
    found: dict[str, dict[str, Any]] = {}
    sources: dict[str, Path] = {}
    problems: list[Problem] = []
    for path in reversed(tuple(files)):  # the project's file last: it wins
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(path), f"cannot be read ({exc})"))
            continue
        for table in TABLES:
            value = data.get(table)
            if value is None:
                continue
            if not isinstance(value, dict):
                problems.append(Problem(f"[{table}]", f"in {path} must be a table"))
                continue
            found[table] = value
            sources[table] = path
    return SecretsTables(
        credentials=found.get("credentials"),
        cookie=found.get("cookie"),
        auth=found.get("auth"),
        sources=sources,
        problems=tuple(problems),
    )
