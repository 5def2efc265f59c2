"""Logging of the app and the CLI: one line per record, logfmt or JSON, secrets masked.

`configure_logging(settings)` is called by `Runtime.load()`, which both the page
(once per process and configuration) and the CLI go through. It installs one
handler on the root logger (replacing the one it installed before, so calling it
again is harmless):

- `LOG_FORMAT=logfmt` (default): ``ts=… level=info logger=assistants_ui.x msg="…"``;
  `LOG_FORMAT=json`: one JSON object per line with the same keys. An exception
  adds ``exc="…"`` (its traceback, on the same line).
- `LOG_LEVEL` sets the level of the app's own loggers (`assistants_ui.*`); other
  libraries log warnings and errors only. Message text (questions, answers) is
  logged at DEBUG only, so `LOG_LEVEL=INFO` logs carry no conversation content.
- Every line is masked before it is written: the values of the secret settings
  (API keys, the DATABASE_URL password), secret-looking environment variables
  (`*_KEY`, `*_SECRET`, `*PASSWORD*`, `*TOKEN*`), the secrets of
  `.streamlit/secrets.toml` (`[cookie]`, `[auth]` client secrets, passwords), plus
  anything shaped like a URL's user and password, a bearer token or an OpenAI key.

Streamlit's own loggers (`streamlit.*`) keep their own handler and format
(`logger.messageFormat`); they log no secrets and no content.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import SecretStr

from assistants_ui.settings import SECRETS_FILES, Settings

__all__ = ["LogFormatter", "configure_logging", "mask", "secret_values"]

APP_LOGGER = "assistants_ui"
MASK = "***"
_MIN_SECRET = 6  # shorter values would mask ordinary words

_SECRET_NAME = re.compile(r"(KEY|SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL)", re.IGNORECASE)
_SECRET_TOML_KEY = re.compile(r"(key|secret|password|passwd|token)", re.IGNORECASE)
_PATTERNS = (
    # scheme://user:password@host -> scheme://***@host (the user name goes too)
    (re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#\s]*@"), rf"\g<1>{MASK}@"),
    (re.compile(r"(\bBearer\s+)[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE), rf"\g<1>{MASK}"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"), MASK),
)


def _walk_toml(data: Mapping[str, Any], *, secret_table: bool = False) -> Iterable[str]:
    for key, value in data.items():
        if isinstance(value, Mapping):
            table_is_secret = secret_table or key.lower() == "cookie"
            yield from _walk_toml(value, secret_table=table_is_secret)
        elif isinstance(value, str) and (secret_table or _SECRET_TOML_KEY.search(key)):
            yield value


def secret_values(
    settings: Settings | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    secrets_files: Iterable[Path] = SECRETS_FILES,
) -> set[str]:
    """Every value that must never appear in a log line."""
    found: set[str] = set()
    if settings is not None:
        for name in type(settings).model_fields:
            value = getattr(settings, name)
            if isinstance(value, SecretStr):
                found.add(value.get_secret_value())
        if settings.database_url is not None:
            found.update(_url_password(settings.database_url.get_secret_value()))
    env = os.environ if environ is None else environ
    for name, value in env.items():
        if _SECRET_NAME.search(name):
            found.add(value)
        elif "://" in value:
            found.update(_url_password(value))
    for path in secrets_files:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            continue
        found.update(_walk_toml(data))
    return {v.strip() for v in found if len(v.strip()) >= _MIN_SECRET}


def _url_password(url: str) -> list[str]:
    match = re.search(r"://[^:/@\s]*:([^@\s/]+)@", url)
    if match is None:
        return []
    from urllib.parse import unquote

    return [match.group(1), unquote(match.group(1))]


def mask(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every secret value and secret-shaped token replaced by ***."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _logfmt_value(value: str) -> str:
    if value and not re.search(r'[\s"=\\]', value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


class LogFormatter(logging.Formatter):
    """One line per record (logfmt or JSON), masked."""

    def __init__(self, fmt: Literal["logfmt", "json"] = "logfmt", secrets: Iterable[str] = ()):
        super().__init__()
        self.kind = fmt
        self.secrets = frozenset(secrets)

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, str] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            fields["exc"] = record.exc_text
        fields = {k: mask(v, self.secrets) for k, v in fields.items()}
        if self.kind == "json":
            return json.dumps(fields, ensure_ascii=False)
        return " ".join(f"{k}={_logfmt_value(v)}" for k, v in fields.items())


class _Handler(logging.Handler):
    """The handler this module installs (so that it can be replaced).

    Without an explicit stream it writes to whatever `sys.stderr` is when a record
    is emitted (like `logging.lastResort`), not the one of the moment it was made.
    """

    def __init__(self, stream: IO[str] | None = None) -> None:
        super().__init__()
        self._stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            out = self._stream if self._stream is not None else sys.stderr
            out.write(line + "\n")
            out.flush()
        except Exception:
            self.handleError(record)


def configure_logging(
    settings: Settings, *, stream: IO[str] | None = None, extra_secrets: Iterable[str] = ()
) -> None:
    """Install the app's log handler on the root logger (idempotent).

    `extra_secrets`: more values to mask, such as the keys `assistants.toml`
    connections read from variables whose names do not look secret.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    handler = _Handler(stream)
    secrets = secret_values(settings) | {v for v in extra_secrets if len(v) >= _MIN_SECRET}
    handler.setFormatter(LogFormatter(settings.log_format, secrets))
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)
    logging.getLogger(APP_LOGGER).setLevel(settings.log_level)
