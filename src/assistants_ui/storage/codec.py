"""A `Message` to what the tables keep, and back; a row to its record.

Parts and attachments become JSON dicts in their order; wherever one
carried bytes (an image, a generated file, an upload) the bytes leave as a
`FileBlob`, stored in `files` under the part's slot and position, and the
JSON keeps `{"file": <files.id>}` in their place. Loading puts the bytes
back through `Message.from_dict`, so every part kind the transcript knows
round-trips without storage knowing what the parts mean.

`from_row(Record, row)` is the one way storage turns a row into the record
dataclass callers see (`UserInfo`, `ConversationInfo`, `ShareInfo`, ...):
each field from the row's column of the same name, unless given.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from assistants_ui.core.transcript import Message

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "EncodedMessage",
    "FileBlob",
    "FileKind",
    "Slot",
    "decode_message",
    "encode_message",
    "escape_like",
    "fold_text",
    "from_row",
    "title_for",
]

Slot = Literal["part", "attachment"]
FileKind = Literal["uploaded", "generated"]
TITLE_CHARS = 80
Record = TypeVar("Record", bound="DataclassInstance")
# The columns of `messages` that are `Message.to_dict()` keys of the same name.
MESSAGE_COLUMNS = (
    "id",
    "role",
    "status",
    "created_at",
    "input_tokens",
    "output_tokens",
    "seconds",
    "feedback",
    "feedback_comment",
    "stopped_by",
    "parent_id",
    "parts",
    "attachments",
)


def from_row(record: type[Record], row: object, **given: Any) -> Record:
    """`record` built from `row`: each field is the row's attribute of the same name
    (a model's column or a result row's label), except the fields `given`."""
    columns = (f.name for f in dataclasses.fields(record) if f.name not in given)
    return record(**{name: getattr(row, name) for name in columns}, **given)


@dataclass(frozen=True, slots=True)
class FileBlob:
    """Bytes that sat in a part or attachment, with where they sat."""

    slot: Slot
    position: int
    kind: FileKind
    name: str
    mime: str
    data: bytes = dataclasses.field(repr=False)
    provider_file_id: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True, slots=True)
class EncodedMessage:
    parts: list[dict[str, Any]]
    attachments: list[dict[str, Any]]
    files: list[FileBlob]
    text_folded: str


def fold_text(text: str) -> str:
    """The form search compares: case-folded, so "Straße" finds "STRASSE"."""
    return text.casefold()


def escape_like(text: str) -> str:
    """`text` matched literally by `LIKE ... ESCAPE '\\'` (its `%` and `_` are not wildcards)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _plain(item: Any) -> dict[str, Any]:
    # Parts and attachments are dataclasses whose fields are JSON values, nested
    # dataclasses (citations) or bytes; asdict keeps bytes objects as they are.
    return dataclasses.asdict(item)


def encode_message(message: Message) -> EncodedMessage:
    files: list[FileBlob] = []
    parts = [_plain(p) for p in message.parts]
    attachments = [_plain(a) for a in message.attachments]
    part_kind: FileKind = "uploaded" if message.role == "user" else "generated"
    groups: list[tuple[Slot, list[dict[str, Any]], FileKind]] = [
        ("part", parts, part_kind),
        ("attachment", attachments, "uploaded"),
    ]
    for slot, items, kind in groups:
        for position, item in enumerate(items):
            data = item.get("data")
            if isinstance(data, bytes):
                files.append(
                    FileBlob(
                        slot=slot,
                        position=position,
                        kind=kind,
                        name=str(item.get("name", "")),
                        mime=str(item.get("mime", "application/octet-stream")),
                        data=data,
                        provider_file_id=str(item.get("file_id", "")),
                    )
                )
                item["data"] = {"file": None}  # the files row's id is filled in on save
    words = [message.text, *(a.name for a in message.attachments)]
    return EncodedMessage(
        parts=parts,
        attachments=attachments,
        files=files,
        text_folded=fold_text("\n".join(w for w in words if w)),
    )


def decode_message(
    row: object, blobs: Mapping[tuple[str, int], bytes | None], **given: Any
) -> Message:
    """Rebuild a message from its row (the `MESSAGE_COLUMNS`, except those `given`);
    `blobs[(slot, position)]` holds the stored bytes (None: not kept)."""

    def fill(slot: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for position, item in enumerate(items):
            item = dict(item)
            if isinstance(item.get("data"), dict) and "file" in item["data"]:
                # Bytes over the stored-file limit were not kept: the part comes
                # back with empty data (its name, type and provider id remain).
                item["data"] = blobs.get((slot, position)) or b""
            out.append(item)
        return out

    fields = {name: getattr(row, name) for name in MESSAGE_COLUMNS if name not in given}
    fields.update(given)
    fields["parts"] = fill("part", fields["parts"])
    fields["attachments"] = fill("attachment", fields["attachments"])
    return Message.from_dict(fields)


def title_for(message: Message) -> str:
    """A conversation title from its first user message: one line, at most 80 chars."""
    text = " ".join(message.text.split())
    if not text:
        text = ", ".join(a.name for a in message.attachments)
    if len(text) <= TITLE_CHARS:
        return text
    cut = text[: TITLE_CHARS - 1]
    if " " in cut[TITLE_CHARS // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:") + "…"
