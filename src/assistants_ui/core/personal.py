"""What a reader and a project add to an answer's instructions, and the memory tool.

Pure Python. The page builds a `core.backend.Turn` for each answer from
what storage keeps: `personal_text` (the reader's "about me", "how to
answer" and remembered facts), `project_text` (the conversation's project:
its instructions, and its text files apart), joined by `turn_instructions`; every
backend adds the result after the profile's own instructions
(`core.backend.instructions_for`). The texts given to the model are
English, as tool outputs are; what the reader is told (`check_personal`,
`file_refusal`) goes through `_()`.

`memory_tool(keep)` is the function tool the model calls to save a fact the
reader asked it to remember: offered only to readers who turned memory on,
through the one tool loop (`backends.tool_calls`), and only by backends
whose model calls tools.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from assistants_ui.core.files import INLINE_TYPES, extension
from assistants_ui.i18n import _, format_number

__all__ = [
    "PROJECT_TEXT_MAX_CHARS",
    "PROJECT_TEXT_TYPES",
    "check_personal",
    "file_refusal",
    "memory_tool",
    "personal_text",
    "project_text",
    "turn_instructions",
]

# A project's files are read into its answers' instructions, at most this much text in
# all (the chat backend's inline limit): the rest is cut, with a note to the model.
PROJECT_TEXT_MAX_CHARS = 60_000
# The files a project takes: text that can be read into the instructions as it is.
PROJECT_TEXT_TYPES = INLINE_TYPES | {"markdown", "tex", "rst"}


def check_personal(about_me: str, how_to_answer: str, *, max_chars: int) -> str | None:
    """Why the reader's texts cannot be saved (None: they can), as one sentence."""
    over = [
        (label, len(text.strip()))
        for label, text in ((_("About me"), about_me), (_("How to answer"), how_to_answer))
        if len(text.strip()) > max_chars
    ]
    if not over:
        return None
    label, length = over[0]
    return _(
        "Not saved: “%(field)s” is %(length)s characters long, over the limit of %(limit)s "
        "(PERSONAL_INSTRUCTIONS_MAX_CHARS); shorten it and save again."
    ) % {"field": label, "length": format_number(length), "limit": format_number(max_chars)}


def file_refusal(name: str, size: int, *, max_bytes: int) -> str | None:
    """Why a file cannot join a project (None: it can), as one sentence."""
    ext = extension(name)
    if ext not in PROJECT_TEXT_TYPES:
        return _("%(name)s: a project takes text files (%(types)s); this one is not added.") % {
            "name": name,
            "types": ", ".join(sorted(PROJECT_TEXT_TYPES)),
        }
    if size == 0:
        return _("%(name)s: the file is empty; it is not added.") % {"name": name}
    if size > max_bytes:
        return _("%(name)s: %(size)s MB is over the limit of %(limit)s MB (MAX_UPLOAD_MB).") % {
            "name": name,
            "size": format_number(size / 1_048_576, digits=1),
            "limit": format_number(max_bytes / 1_048_576, digits=1),
        }
    return None


def personal_text(about_me: str, how_to_answer: str, facts: Sequence[str], memory: bool) -> str:
    """The reader's part of the instructions ("" when they wrote nothing)."""
    parts = []
    if about_me.strip():
        parts.append(
            "The person you are talking to wrote this about themselves:\n" + about_me.strip()
        )
    if how_to_answer.strip():
        parts.append("They asked that your answers follow this:\n" + how_to_answer.strip())
    if facts:
        parts.append("They asked you to remember:\n" + "\n".join(f"- {fact}" for fact in facts))
    if memory:
        parts.append(
            "When they ask you to remember something about them for later conversations, "
            "call the `remember` tool with it."
        )
    return "\n\n".join(parts)


def project_text(
    name: str, instructions: str, files: Sequence[tuple[str, bytes]]
) -> tuple[str, str]:
    """A project's parts of the instructions: its own (the project named), and its text
    files, at most `PROJECT_TEXT_MAX_CHARS` of file text (`Turn.project_files`, which a
    backend that searches the files on the documents shelf leaves out). ("", "") for a
    project with neither."""
    own = ""
    if instructions.strip():
        own = (
            f"This conversation belongs to the project {name!r}. The project's instructions:\n"
            + instructions.strip()
        )
    elif files:
        own = f"This conversation belongs to the project {name!r}."
    parts = []
    left = PROJECT_TEXT_MAX_CHARS
    for file_name, data in files:
        text = data.decode("utf-8", errors="replace")
        cut = ""
        if len(text) > left:
            text, cut = text[:left], f"\n[... cut: the project's files exceed {left:,} characters]"
        fence = "````" if "```" in text else "```"
        parts.append(f"The project's file `{file_name}`:\n{fence}\n{text}{cut}\n{fence}")
        left -= len(text)
        if left <= 0:
            break
    return own, "\n\n".join(parts)


def turn_instructions(*texts: str) -> str:
    """The texts of one answer, in order, the empty ones left out."""
    return "\n\n".join(text for text in texts if text.strip())


def memory_tool(keep: Callable[[str], str]) -> Callable[[str], str]:
    """The function tool that saves a fact: `keep(fact)` stores it and returns what
    the model is told (saved, or why not)."""

    def remember(fact: str) -> str:
        """Save a fact about the user that they explicitly asked you to remember for their
        later conversations (one short sentence, in their words).

        Only when the user asks you to remember something; never on your own."""
        return keep(fact)

    return remember
