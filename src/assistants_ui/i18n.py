"""The interface's languages: gettext catalogs (Babel), the active language, formatting.

Every sentence the page shows is written in English in the source, wrapped in
`_()` (or `ngettext` for counts) with named placeholders
(`_("Snapshot of %(when)s") % {"when": ...}`), and translated through the
catalogs in `locales/<lang>/LC_MESSAGES/messages.po` (docs/translations.md).
The catalogs are read with Babel when first needed and compiled in memory, so a
clean clone needs no compile step and no `.mo` file can go stale.

The active language is a context variable (`use`, `activate`), or, where none is
set, what a resolver returns: the page installs one that reads the browser
session's choice (`set_resolver`), so `core/` can translate its sentences
without knowing about Streamlit. Numbers, money, sizes and dates are formatted
for the active language with `babel.numbers` and `babel.dates`.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext as _gettext
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, get_datetime_format
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal

__all__ = [
    "DEFAULT",
    "DOMAIN",
    "LANGUAGES",
    "LOCALES_DIR",
    "N_",
    "_",
    "activate",
    "current",
    "format_datetime",
    "format_money",
    "format_number",
    "format_size",
    "gettext",
    "negotiate",
    "ngettext",
    "normalize",
    "set_resolver",
    "use",
]

# The interface's languages: code -> its own name (what the selector shows).
LANGUAGES: dict[str, str] = {"en": "English", "ja": "日本語", "zh": "简体中文"}
DEFAULT = "en"  # the language of the source strings
DOMAIN = "messages"
LOCALES_DIR = Path(__file__).with_name("locales")

_active: ContextVar[str | None] = ContextVar("assistants_ui_language", default=None)
_resolver: Callable[[], str | None] | None = None


def normalize(code: object) -> str | None:
    """One of `LANGUAGES`' codes, or None for anything else (a stored or typed value)."""
    return code if isinstance(code, str) and code in LANGUAGES else None


def negotiate(tag: str | None) -> str | None:
    """The interface language for a browser's language tag (`ja-JP`, `zh-CN`, `en`).

    Chinese of any region gets the Simplified catalog (the only Chinese one).
    None when the tag names a language the interface does not have.
    """
    if not tag:
        return None
    try:
        locale = Locale.parse(tag.replace("_", "-"), sep="-")
    except (ValueError, UnknownLocaleError):
        return None
    return normalize(locale.language)


def set_resolver(resolver: Callable[[], str | None] | None) -> None:
    """Where the language comes from when no context sets one (the page: the session's)."""
    global _resolver
    _resolver = resolver


def current() -> str:
    """The active language's code."""
    code = _active.get()
    if code is None and _resolver is not None:
        code = normalize(_resolver())
    return code or DEFAULT


def activate(code: str) -> Token[str | None]:
    """Make `code` the language of this context (a thread, a script run) from now on."""
    return _active.set(normalize(code) or DEFAULT)


@contextmanager
def use(code: str) -> Iterator[None]:
    """`code` as the active language inside the block."""
    token = activate(code)
    try:
        yield
    finally:
        _active.reset(token)


@functools.cache
def translations(code: str) -> _gettext.NullTranslations:
    """The catalog of `code`, read from its .po file and compiled in memory (once).

    Fuzzy entries are left out, as `pybabel compile` would: they show in English.
    """
    path = LOCALES_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    if code == DEFAULT or not path.is_file():
        return _gettext.NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=code, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def gettext(message: str) -> str:
    """`message` in the active language (itself when the catalog lacks it)."""
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of `singular`/`plural` for `n` in the active language."""
    return translations(current()).ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:
    """Mark a constant for extraction; translate it with `_()` where it is shown."""
    return message


# -- formatting ---------------------------------------------------------------------------


def _locale(code: str | None) -> Locale:
    return Locale.parse(code or current())


def format_number(value: float, *, digits: int = 0, locale: str | None = None) -> str:
    """`1,234` / `12.5`: grouped, with at most `digits` decimals, for the language."""
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=_locale(locale))


def format_money(amount: float, currency: str = "USD", *, locale: str | None = None) -> str:
    """Cents from a dollar up; below, up to four decimals (one answer often costs less)."""
    where = _locale(locale)
    if 0 < amount < 0.0001:
        return "<" + format_currency(
            0.0001, currency, format="¤#,##0.0###", locale=where, currency_digits=False
        )
    if amount == 0:
        return format_currency(0, currency, format="¤0", locale=where, currency_digits=False)
    pattern = "¤#,##0.0###" if amount < 1 else "¤#,##0.00"
    return format_currency(amount, currency, format=pattern, locale=where, currency_digits=False)


def format_size(size: int, *, locale: str | None = None) -> str:
    """A file size for people: 512 B, 3.4 kB, 12.0 MB (the number in the language's digits)."""
    if size < 1024:
        return f"{format_number(size, locale=locale)} B"
    value, unit = size / 1024, "kB"
    for bigger in ("MB", "GB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    number = format_decimal(value, format="#,##0.0", locale=_locale(locale))
    return f"{number} {unit}"


def format_datetime(when: dt.datetime, *, locale: str | None = None) -> str:
    """The day (medium) and the time (short), in UTC, as the language joins them.

    `Nov 29, 2026, 2:05 PM UTC`, `2026/11/29 14:05 UTC`, `2026年11月29日 14:05 UTC`.
    """
    where = _locale(locale)
    utc = when.astimezone(dt.UTC) if when.tzinfo else when.replace(tzinfo=dt.UTC)
    day = format_date(utc, "medium", locale=where)
    time = format_time(utc, "short", tzinfo=dt.UTC, locale=where)
    joined = str(get_datetime_format("medium", locale=where)).replace("'", "")
    return joined.replace("{1}", day).replace("{0}", time) + " UTC"
