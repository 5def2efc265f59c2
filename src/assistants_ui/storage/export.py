"""A conversation as a Markdown document or a JSON file (pure functions).

Markdown is for reading: text, code the interpreter ran and what it printed,
citations as a list of sources, files by name. JSON is for keeping: every
message as `Message.to_dict()` (files as base64 unless left out), which
`Message.from_dict` reads back.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from typing import Any

from assistants_ui.core.transcript import (
    TOOL_LABELS,
    ErrorPart,
    FilePart,
    ImagePart,
    Message,
    NoticePart,
    ReasoningPart,
    RefusalPart,
    TextPart,
    ToolPart,
    human_size,
)
from assistants_ui.storage.repository import ConversationInfo

__all__ = ["EXPORT_FORMAT", "export_filename", "to_json", "to_markdown"]

EXPORT_FORMAT = "assistants-ui.conversation"
_ROLE = {"user": "You", "assistant": "Assistant"}


def _when(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _fence(body: str, lang: str = "") -> str:
    """A fenced block that the body cannot close, however many backticks it holds."""
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{body.rstrip()}\n{ticks}"


def _quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.strip().splitlines())


def _size(data: bytes) -> str:
    return human_size(len(data)) if data else "not kept"


def _part_markdown(part: object) -> list[str]:
    match part:
        case TextPart(text=text, citations=citations):
            out = [text.strip()] if text.strip() else []
            if citations:
                sources = []
                for i, c in enumerate(citations, 1):
                    target = f" <{c.url}>" if c.url else ""
                    sources.append(f"{i}. {c.label or c.file_id or c.url}{target}")
                out.append("Sources:\n\n" + "\n".join(sources))
            return out
        case ReasoningPart(text=text) if text.strip():
            return [_quote("*Reasoning:* " + text)]
        case RefusalPart(text=text):
            return [_quote("**Refused:** " + text)]
        case ToolPart() as tool:
            title = TOOL_LABELS.get(tool.tool, tool.tool)
            head = f"**{title}**" + (f" `{tool.name}`" if tool.name else "")
            out = [head + ("" if tool.status == "completed" else f" ({tool.status})")]
            if tool.code:
                out.append(_fence(tool.code, "python"))
            elif tool.arguments:
                out.append(_fence(tool.arguments, "json"))
            for extra in (tool.logs, tool.output):
                if extra.strip():
                    out.append(_fence(extra, "text"))
            if tool.error:
                out.append(_quote("**Error:** " + tool.error))
            return out
        case ImagePart(name=name, mime=mime, data=data):
            return [f"*Image:* `{name}` ({mime}, {_size(data)})"]
        case FilePart(name=name, mime=mime, data=data):
            return [f"*File:* `{name}` ({mime}, {_size(data)})"]
        case NoticePart(text=text):
            return [_quote(text)]
        case ErrorPart(reason=reason):
            return [_quote("**Failed:** " + reason)]
    return []


def to_markdown(conversation: ConversationInfo, messages: Sequence[Message]) -> str:
    """A readable Markdown transcript (files are named, not embedded)."""
    lines = [
        f"# {conversation.title or 'Conversation'}",
        "",
        f"- Assistant: {conversation.profile_id} ({conversation.backend})",
        f"- Started: {_when(conversation.created_at.timestamp())}",
        f"- Messages: {len(messages)}",
    ]
    for message in messages:
        status = "" if message.status == "complete" else f" ({message.status})"
        blocks = [
            f"## {_ROLE.get(message.role, message.role)} · {_when(message.created_at)}{status}"
        ]
        for part in message.parts:
            blocks.extend(_part_markdown(part))
        if message.attachments:
            names = [f"`{a.name}` ({a.mime}, {human_size(a.size)})" for a in message.attachments]
            blocks.append("*Attached:* " + ", ".join(names))
        lines += ["", "\n\n".join(blocks)]
    return "\n".join(lines).rstrip() + "\n"


def to_json(
    conversation: ConversationInfo, messages: Sequence[Message], *, include_files: bool = True
) -> str:
    """Everything, as JSON; files as base64 unless `include_files` is False."""
    dumped: list[dict[str, Any]] = []
    for message in messages:
        data = message.to_dict()
        if not include_files:
            for item in (*data["parts"], *data["attachments"]):
                if isinstance(item.get("data"), dict):
                    item["data"] = None
        dumped.append(data)
    doc = {
        "format": EXPORT_FORMAT,
        "version": 1,
        "conversation": {
            "id": conversation.id,
            "title": conversation.title,
            "profile_id": conversation.profile_id,
            "backend": conversation.backend,
            "created_at": conversation.created_at.isoformat(),
            "updated_at": conversation.updated_at.isoformat(),
        },
        "messages": dumped,
    }
    return json.dumps(doc, ensure_ascii=False, indent=2)


def export_filename(conversation: ConversationInfo, extension: str) -> str:
    """A safe file name for a download: the title's words, then the id."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", conversation.title).strip("-")[:50] or "conversation"
    return f"{stem}-{conversation.id}.{extension.lstrip('.')}"
