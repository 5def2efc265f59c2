"""Messages as ordered parts, and the fold from stream events to a message.

The same `Message` is rendered live while it streams, stored when it ends and
re-rendered from history, so it carries everything the page shows: text with
its citations, code the interpreter ran and what it printed, images, files
(as bytes: providers forget them), notices and the failure, if any.

`MessageBuilder.apply` is the fold: one event in, the message updated in place.
It is O(1) amortised per event so that folding a long answer stays linear.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, get_args

from assistants_ui.core import events as ev
from assistants_ui.core.failures import failure
from assistants_ui.i18n import DEFAULT, N_, format_size

__all__ = [
    "TOOL_LABELS",
    "ApprovalPart",
    "Attachment",
    "ErrorPart",
    "Feedback",
    "FilePart",
    "ImagePart",
    "Message",
    "MessageBuilder",
    "MessageStatus",
    "NoticePart",
    "Part",
    "ReasoningPart",
    "RefusalPart",
    "Role",
    "StopCause",
    "TextPart",
    "ToolPart",
    "fold",
    "human_size",
]

_T = TypeVar("_T")

Role = Literal["user", "assistant"]
MessageStatus = Literal["streaming", "complete", "incomplete", "stopped", "failed"]
# Who stopped a `stopped` answer: the reader (Stop, Escape), the model's server, this
# app because nobody had watched it for UNATTENDED_ANSWER_MINUTES, or the app's shutdown.
StopCause = Literal["user", "server", "unattended", "shutdown"]
Feedback = Literal["up", "down"]


# How tools are named wherever a message is shown (the page translates them, exports don't).
TOOL_LABELS: dict[str, str] = {
    "code_interpreter": N_("Code interpreter"),
    "file_search": N_("File search"),
    "web_search": N_("Web search"),
    "function": N_("Function"),
    "image_generation": N_("Image generation"),
    "mcp": N_("MCP tool"),
    "mcp_list_tools": N_("MCP server's tools"),
    "custom": N_("Custom tool"),
}


def human_size(size: int) -> str:
    """A file size for people, in English (exports): 512 B, 3.4 kB, 12.0 MB."""
    return format_size(size, locale=DEFAULT)


@dataclass(slots=True)
class TextPart:
    text: str = ""
    citations: list[ev.Citation] = field(default_factory=list)
    kind: Literal["text"] = "text"


@dataclass(slots=True)
class ReasoningPart:
    text: str = ""
    kind: Literal["reasoning"] = "reasoning"


@dataclass(slots=True)
class RefusalPart:
    text: str = ""
    kind: Literal["refusal"] = "refusal"


@dataclass(slots=True)
class ToolPart:
    """One tool call: the code interpreter's code and logs, a search, a function."""

    call_id: str
    tool: ev.ToolKind
    name: str = ""
    arguments: str = ""
    code: str = ""
    logs: str = ""
    output: str = ""
    error: str = ""
    status: Literal["running", "completed", "failed", "incomplete"] = "running"
    kind: Literal["tool"] = "tool"
    server: str = ""  # the MCP server's label (MCP calls and tool lists)
    passages: list[ev.Passage] = field(default_factory=list)  # what a file search found


@dataclass(slots=True)
class ImagePart:
    name: str
    mime: str
    data: bytes = field(repr=False)
    file_id: str = ""
    kind: Literal["image"] = "image"
    call_id: str = ""  # the image generation call that made it
    partial: bool = False  # a partial image, replaced by the final one when it comes


@dataclass(slots=True)
class FilePart:
    name: str
    mime: str
    data: bytes = field(repr=False)
    file_id: str = ""
    kind: Literal["file"] = "file"

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(slots=True)
class NoticePart:
    text: str
    level: ev.NoticeLevel = "info"
    kind: Literal["notice"] = "notice"


ApprovalDecision = Literal["pending", "approved", "denied", "unanswered"]


@dataclass(slots=True)
class ApprovalPart:
    """A hosted MCP tool call waiting for the user's approval, and the decision.

    In an answer it is the request (`pending` until the user decides, or
    `unanswered` once the conversation went on without a decision); in the user's
    message that answers it, the decision (`approved` or `denied`)."""

    request_id: str
    server: str
    name: str
    arguments: str = ""
    decision: ApprovalDecision = "pending"
    kind: Literal["approval"] = "approval"


@dataclass(slots=True)
class ErrorPart:
    reason: str
    retryable: bool = True
    code: str = ""
    kind: Literal["error"] = "error"


Part = (
    TextPart
    | ReasoningPart
    | RefusalPart
    | ToolPart
    | ImagePart
    | FilePart
    | NoticePart
    | ErrorPart
    | ApprovalPart
)

_REPLACED: dict[str, type[TextPart | ReasoningPart | RefusalPart]] = {
    "text": TextPart,
    "reasoning": ReasoningPart,
    "refusal": RefusalPart,
}

_PART_TYPES: dict[str, type[Any]] = {
    "text": TextPart,
    "reasoning": ReasoningPart,
    "refusal": RefusalPart,
    "tool": ToolPart,
    "image": ImagePart,
    "file": FilePart,
    "notice": NoticePart,
    "error": ErrorPart,
    "approval": ApprovalPart,
}


@dataclass(slots=True)
class Attachment:
    """A file the user sent with a message, and where the backend put it.

    `route` VOICE: the recording a voice message was transcribed from; kept
    with the message (stored, exported, played back), never sent to a backend.
    """

    name: str
    mime: str
    data: bytes = field(repr=False)
    file_id: str = ""
    route: str = ""

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


VOICE = "voice"  # Attachment.route of a voice recording: kept, not sent


def _new_id() -> str:
    return uuid.uuid4().hex


@dataclass(slots=True)
class Message:
    role: Role
    parts: list[Part] = field(default_factory=list)
    status: MessageStatus = "complete"
    attachments: list[Attachment] = field(default_factory=list)
    id: str = field(default_factory=_new_id)
    created_at: float = field(default_factory=time.time)
    input_tokens: int = 0
    output_tokens: int = 0
    # An answer's generation time: from the backend's first event to its last.
    seconds: float = 0.0
    # The reader's verdict on an answer ("up" or "down"), with an optional comment.
    feedback: Feedback | None = None
    feedback_comment: str = ""
    # The message before this one on its branch (messages form a tree: an edited
    # question or a regenerated answer is a sibling of the one it replaces).
    # "": the conversation's first message; None: not known, so storage puts it
    # after the conversation's current last message.
    parent_id: str | None = None
    # Who stopped it, when `status` is "stopped" (None for answers stored before this was kept).
    stopped_by: StopCause | None = None

    @classmethod
    def user(cls, text: str, attachments: Iterable[Attachment] = ()) -> Message:
        return cls(role="user", parts=[TextPart(text)], attachments=list(attachments))

    @classmethod
    def decision(cls, request: ApprovalPart, approve: bool) -> Message:
        """The user's answer to an approval request, as a message of its own."""
        return cls(
            role="user",
            parts=[
                ApprovalPart(
                    request.request_id,
                    request.server,
                    request.name,
                    request.arguments,
                    "approved" if approve else "denied",
                )
            ],
        )

    @property
    def approvals(self) -> list[ApprovalPart]:
        return [p for p in self.parts if isinstance(p, ApprovalPart)]

    @property
    def text(self) -> str:
        """The visible answer text, every text part joined."""
        return "".join(p.text for p in self.parts if isinstance(p, TextPart))

    @property
    def error(self) -> ErrorPart | None:
        for part in reversed(self.parts):
            if isinstance(part, ErrorPart):
                return part
        return None

    @property
    def ended(self) -> bool:
        return self.status != "streaming"

    def snapshot(self) -> Message:
        """A copy to paint or save while this message goes on growing in another
        thread (bytes are shared, not copied: they never change)."""
        return copy.deepcopy(self)

    # -- serialisation: plain JSON-able dicts, bytes as base64 -----------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "role": self.role,
            "status": self.status,
            "created_at": self.created_at,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "seconds": self.seconds,
            "feedback": self.feedback,
            "feedback_comment": self.feedback_comment,
            "parent_id": self.parent_id,
            "stopped_by": self.stopped_by,
            "parts": [_part_to_dict(p) for p in self.parts],
            "attachments": [_attachment_to_dict(a) for a in self.attachments],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        return cls(
            id=str(data["id"]),
            role=data["role"],
            status=data.get("status", "complete"),
            created_at=float(data.get("created_at", time.time())),
            input_tokens=int(data.get("input_tokens", 0)),
            output_tokens=int(data.get("output_tokens", 0)),
            seconds=float(data.get("seconds", 0.0)),
            feedback=data.get("feedback") if data.get("feedback") in ("up", "down") else None,
            feedback_comment=str(data.get("feedback_comment") or ""),
            parent_id=None if data.get("parent_id") is None else str(data["parent_id"]),
            stopped_by=data.get("stopped_by") if data.get("stopped_by") in _STOP_CAUSES else None,
            parts=[_part_from_dict(p) for p in data.get("parts", [])],
            attachments=[_attachment_from_dict(a) for a in data.get("attachments", [])],
        )


_STOP_CAUSES = frozenset(get_args(StopCause))


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, ev.Citation | ev.Passage):
        return {f: getattr(value, f) for f in value.__dataclass_fields__}
    return value


def _part_to_dict(part: Part) -> dict[str, Any]:
    return {name: _encode(getattr(part, name)) for name in part.__dataclass_fields__}


def _part_from_dict(data: dict[str, Any]) -> Part:
    kind = data.get("kind")
    cls = _PART_TYPES.get(str(kind))
    if cls is None:
        raise ValueError(f"unknown message part kind {kind!r}")
    values = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
    if "data" in values and isinstance(values["data"], dict):
        values["data"] = base64.b64decode(values["data"]["base64"])
    if cls is TextPart:
        values["citations"] = [ev.Citation(**c) for c in values.get("citations", [])]
    if cls is ToolPart:
        values["passages"] = [ev.Passage(**p) for p in values.get("passages", [])]
    part: Part = cls(**values)
    return part


def _attachment_to_dict(att: Attachment) -> dict[str, Any]:
    return {name: _encode(getattr(att, name)) for name in att.__dataclass_fields__}


def _attachment_from_dict(data: dict[str, Any]) -> Attachment:
    values = dict(data)
    if isinstance(values.get("data"), dict):
        values["data"] = base64.b64decode(values["data"]["base64"])
    return Attachment(**values)


class MessageBuilder:
    """Folds stream events into an assistant `Message`, in place.

    `version` increases on every change so that a renderer can tell cheaply
    whether anything needs repainting.
    """

    def __init__(self, message: Message | None = None) -> None:
        self.message = message or Message(role="assistant", status="streaming")
        self.remote: dict[str, str] = {}
        self.version = 0
        self._tools: dict[str, ToolPart] = {}

    # The fold -----------------------------------------------------------------

    def apply(self, event: ev.StreamEvent) -> None:
        self.version += 1
        match event:
            case ev.TextDelta(text=text):
                self._text_part().text += text
            case ev.ReasoningDelta(text=text):
                part = self._last(ReasoningPart)
                if part is None:
                    part = ReasoningPart()
                    self.message.parts.append(part)
                part.text += text
            case ev.Refusal(text=text):
                refusal = self._last(RefusalPart)
                if refusal is None:
                    refusal = RefusalPart()
                    self.message.parts.append(refusal)
                refusal.text += text
            case ev.Replace(kind=kind, start=start, text=text):
                # The last part of its kind, like a citation, even when another part
                # (a file the text cites) was appended since.
                cls = _REPLACED[kind]
                found = next((p for p in reversed(self.message.parts) if isinstance(p, cls)), None)
                replaced = cls() if found is None else found
                if found is None:
                    self.message.parts.append(replaced)
                replaced.text = replaced.text[:start] + text
            case ev.ToolCallStarted(call_id=cid, kind=kind, name=name, arguments=args):
                tool = self._tools.get(cid)
                if tool is None:
                    tool = ToolPart(call_id=cid, tool=kind, name=name, arguments=args)
                    self._tools[cid] = tool
                    self.message.parts.append(tool)
                else:
                    tool.name = name or tool.name
                    tool.arguments = args or tool.arguments
                tool.server = event.server or tool.server
            case ev.ToolArgumentsDelta(call_id=cid, delta=delta):
                self._tool(cid, "function").arguments += delta
            case ev.CodeDelta(call_id=cid, code=code):
                self._tool(cid, "code_interpreter").code += code
            case ev.CodeOutput(call_id=cid, logs=logs):
                self._tool(cid, "code_interpreter").logs += logs
            case ev.ToolCallDone(call_id=cid, status=status, output=out, error=err, arguments=a):
                tool = self._tool(cid, "function")
                tool.status = status
                tool.output = out or tool.output
                tool.error = err or tool.error
                if a is not None:
                    tool.arguments = a
                if event.passages:
                    tool.passages = list(event.passages)
            case ev.ImagePartial(call_id=cid, data=data, mime=mime):
                image = self._image(cid)
                if image is None:
                    image = ImagePart(f"{cid} (partial)", mime, data, call_id=cid, partial=True)
                    self.message.parts.append(image)
                elif image.partial:
                    image.data, image.mime = data, mime
            case ev.ImageOutput(name=name, data=data, mime=mime, file_id=fid, call_id=cid):
                image = self._image(cid) if cid else None
                if image is not None:
                    image.name, image.mime, image.data, image.partial = name, mime, data, False
                    image.file_id = fid
                elif not self._has_file(fid, data):
                    self.message.parts.append(ImagePart(name, mime, data, fid, call_id=cid))
            case ev.ApprovalRequested(request_id=rid, server=server, name=name, arguments=args):
                self.message.parts.append(ApprovalPart(rid, server, name, args))
            case ev.FileOutput(name=name, data=data, mime=mime, file_id=fid):
                if not self._has_file(fid, data):
                    self.message.parts.append(FilePart(name, mime, data, fid))
            case ev.Citation():
                # A citation belongs to the text written just before it, even
                # when a file or tool part has been appended since.
                cited = next(
                    (p for p in reversed(self.message.parts) if isinstance(p, TextPart)), None
                )
                if cited is None:
                    cited = self._text_part()
                cited.citations.append(event)
            case ev.Notice(text=text, level=level):
                self.message.parts.append(NoticePart(text, level))
            case ev.RemoteUpdate(key=key, value=value):
                self.remote[key] = value
            case ev.Failed(reason=reason, retryable=retryable, code=code):
                self.message.parts.append(ErrorPart(reason, retryable, code))
                self.message.status = "failed"
            case ev.Done(status=status, usage=usage, detail=detail):
                if self.message.status == "streaming":
                    self.message.status = status
                    if status == "stopped":
                        self.message.stopped_by = "server"
                if detail:
                    self.message.parts.append(NoticePart(detail, "warning"))
                if usage is not None:
                    self.message.input_tokens += usage.input_tokens
                    self.message.output_tokens += usage.output_tokens

    def stop(self, cause: StopCause = "user") -> None:
        """Someone stopped the answer (`cause`): keep what came, mark it stopped."""
        if self.message.status == "streaming":
            self.message.status = "stopped"
            self.message.stopped_by = cause
            self.version += 1

    def finish(self) -> None:
        """The event stream ended; an answer still `streaming` was cut off."""
        if self.message.status == "streaming":
            self.apply(failure("stream_cut", why=N_("the stream ended early")))

    # Helpers ------------------------------------------------------------------

    def _text_part(self) -> TextPart:
        parts = self.message.parts
        if parts and isinstance(parts[-1], TextPart):
            return parts[-1]
        part = TextPart()
        parts.append(part)
        return part

    def _last(self, cls: type[_T]) -> _T | None:
        parts = self.message.parts
        if parts and isinstance(parts[-1], cls):
            return parts[-1]
        return None

    def _tool(self, call_id: str, kind: ev.ToolKind) -> ToolPart:
        tool = self._tools.get(call_id)
        if tool is None:
            tool = ToolPart(call_id=call_id, tool=kind)
            self._tools[call_id] = tool
            self.message.parts.append(tool)
        return tool

    def _image(self, call_id: str) -> ImagePart | None:
        for part in self.message.parts:
            if isinstance(part, ImagePart) and part.call_id == call_id:
                return part
        return None

    def _has_file(self, file_id: str, data: bytes) -> bool:
        for part in self.message.parts:
            if isinstance(part, ImagePart | FilePart) and (
                (file_id and part.file_id == file_id) or (not file_id and part.data == data)
            ):
                return True
        return False


def fold(events: Iterable[ev.StreamEvent], message: Message | None = None) -> Message:
    """Fold a whole event sequence into a message (the stream ended normally)."""
    builder = MessageBuilder(message)
    for event in events:
        builder.apply(event)
    builder.finish()
    return builder.message
