"""A conversation as a Markdown document or a JSON file (pure functions).

Markdown is for reading: text, code the interpreter ran and what it printed,
citations as a list of sources, files by name. JSON is for keeping: every
message as `Message.to_dict()` (files as base64 unless left out), which
`Message.from_dict` reads back.

`write_markdown` / `write_json` stream into a binary file a batch of
messages at a time (`Repository.iter_messages`), so an export's memory is
one batch plus what is written, not every file base64-encoded at once;
`to_markdown` / `to_json` are the same in a string.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Sequence
from typing import BinaryIO

from assistants_ui.core.transcript import (
    TOOL_LABELS,
    ApprovalPart,
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
from assistants_ui.storage.conversations import ConversationInfo

__all__ = [
    "EXPORT_FORMAT",
    "export_filename",
    "to_json",
    "to_markdown",
    "write_json",
    "write_markdown",
]

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
            for passage in tool.passages:
                out.append(_quote(f"*{passage.source}:* {passage.text}"))
            return out
        case ImagePart(name=name, mime=mime, data=data):
            return [f"*Image:* `{name}` ({mime}, {_size(data)})"]
        case FilePart(name=name, mime=mime, data=data):
            return [f"*File:* `{name}` ({mime}, {_size(data)})"]
        case NoticePart(text=text):
            return [_quote(text)]
        case ErrorPart(reason=reason):
            return [_quote("**Failed:** " + reason)]
        case ApprovalPart(server=server, name=name, arguments=arguments, decision=decision):
            head = f"**Approval of** `{name}` on the MCP server `{server}`: {decision}"
            return [head, _fence(arguments, "json")] if arguments else [head]
    return []


Batches = Iterable[Sequence[Message]]


def write_markdown(
    conversation: ConversationInfo, batches: Batches, out: BinaryIO, *, count: int | None = None
) -> None:
    """The readable transcript into `out`, a batch of messages at a time."""
    head = [
        f"# {conversation.title or 'Conversation'}",
        "",
        f"- Assistant: {conversation.profile_id} ({conversation.backend})",
        f"- Started: {_when(conversation.created_at.timestamp())}",
    ]
    if count is not None:
        head.append(f"- Messages: {count}")
    out.write("\n".join(head).encode("utf-8"))
    for batch in batches:
        for message in batch:
            out.write(("\n\n" + _message_markdown(message).rstrip()).encode("utf-8"))
    out.write(b"\n")


def _message_markdown(message: Message) -> str:
    status = "" if message.status == "complete" else f" ({message.status})"
    blocks = [f"## {_ROLE.get(message.role, message.role)} · {_when(message.created_at)}{status}"]
    for part in message.parts:
        blocks.extend(_part_markdown(part))
    if message.attachments:
        names = [f"`{a.name}` ({a.mime}, {_size(a.data)})" for a in message.attachments]
        blocks.append("*Attached:* " + ", ".join(names))
    return "\n\n".join(blocks)


def to_markdown(conversation: ConversationInfo, messages: Sequence[Message]) -> str:
    """A readable Markdown transcript (files are named, not embedded)."""
    out = io.BytesIO()
    write_markdown(conversation, [messages], out, count=len(messages))
    return out.getvalue().decode("utf-8")


def write_json(
    conversation: ConversationInfo,
    batches: Batches,
    out: BinaryIO,
    *,
    include_files: bool = True,
) -> None:
    """Everything, as JSON, into `out` a message at a time (files as base64 unless
    `include_files` is False): only one message's files are encoded at once."""
    head = json.dumps(
        {
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
        },
        ensure_ascii=False,
        indent=2,
    )
    assert head.endswith("\n}")
    out.write((head[:-2] + ',\n  "messages": [').encode("utf-8"))
    separator = "\n    "
    for batch in batches:
        for message in batch:
            data = message.to_dict()
            if not include_files:
                for item in (*data["parts"], *data["attachments"]):
                    if isinstance(item.get("data"), dict):
                        item["data"] = None
            out.write((separator + json.dumps(data, ensure_ascii=False)).encode("utf-8"))
            separator = ",\n    "
    out.write(b"\n  ]\n}\n")


def to_json(
    conversation: ConversationInfo, messages: Sequence[Message], *, include_files: bool = True
) -> str:
    """Everything, as JSON; files as base64 unless `include_files` is False."""
    out = io.BytesIO()
    write_json(conversation, [messages], out, include_files=include_files)
    return out.getvalue().decode("utf-8")


def export_filename(conversation: ConversationInfo, extension: str) -> str:
    """A safe file name for a download: the title's words, then the id."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", conversation.title).strip("-")[:50] or "conversation"
    return f"{stem}-{conversation.id}.{extension.lstrip('.')}"
