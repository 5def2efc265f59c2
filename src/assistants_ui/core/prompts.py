"""Saved prompts' `{{variables}}`: found, checked, filled (pure Python).

A variable is written `{{name}}`: a letter or underscore, then letters,
digits, underscores, spaces or dashes (at most 40), spaces around the name
ignored (`{{ topic }}` is `topic`). The same name twice is asked once and
filled everywhere. Anything else between `{{` and `}}`, or a `{{` or `}}`
left alone, is malformed: `check_prompt` says so in one sentence, naming
what is wrong, and the prompt is not saved; `missing` names the variables a
reader left blank before it is inserted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from assistants_ui.i18n import _, format_number

__all__ = ["NAME", "check_prompt", "fill", "missing", "variables"]

NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")  # what follows "/" in the chat input
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][\w -]{0,39}?)\s*\}\}")
_BRACES = re.compile(r"\{\{|\}\}")


def variables(body: str) -> list[str]:
    """The variables of `body`, in the order they first appear, each once."""
    seen: list[str] = []
    for match in _VARIABLE.finditer(body):
        if match.group(1) not in seen:
            seen.append(match.group(1))
    return seen


def _malformed(body: str) -> str | None:
    """The first `{{…}}` (or lone brace pair) that is not a variable, as written."""
    rest = _VARIABLE.sub(lambda m: " " * len(m.group(0)), body)
    found = _BRACES.search(rest)
    if found is None:
        return None
    start = found.start()
    if found.group() == "{{":
        end = rest.find("}}", start + 2)
        end = end + 2 if end >= 0 and end - start <= 60 else min(len(body), start + 20)
    else:
        start, end = max(0, start - 18), found.end()
    return body[start:end]


def check_prompt(name: str, body: str, *, max_chars: int) -> str | None:
    """Why a prompt cannot be saved (None: it can), as one sentence."""
    cleaned = name.strip().lstrip("/")
    if not NAME.fullmatch(cleaned):
        return _(
            "Not saved: a prompt's name is what follows “/” in the chat input: 1 to 40 "
            "lower-case letters, digits, “-” or “_”, starting with a letter or digit "
            "(got “%(name)s”)."
        ) % {"name": name.strip()[:40]}
    if not body.strip():
        return _("Not saved: the prompt is empty.")
    if len(body.strip()) > max_chars:
        return _(
            "Not saved: the prompt is %(length)s characters long, over the limit of %(limit)s."
        ) % {
            "length": format_number(len(body.strip())),
            "limit": format_number(max_chars),
        }
    bad = _malformed(body)
    if bad is not None:
        return _(
            "Not saved: “%(found)s” is not a variable; write a variable as {{name}} "
            "(letters, digits, “_”, “-” or spaces, starting with a letter), with both "
            "pairs of braces."
        ) % {"found": bad}
    return None


def missing(body: str, values: Mapping[str, str]) -> str | None:
    """The sentence naming the variables left blank (None: all filled in)."""
    blank = [name for name in variables(body) if not values.get(name, "").strip()]
    if not blank:
        return None
    return _("Fill in %(names)s to insert this prompt.") % {
        "names": ", ".join(f"“{name}”" for name in blank)
    }


def fill(body: str, values: Mapping[str, str]) -> str:
    """`body` with each variable replaced by its value (those not given left as written)."""

    def value(match: re.Match[str]) -> str:
        given = values.get(match.group(1))
        return given if given is not None else match.group(0)

    return _VARIABLE.sub(value, body)
