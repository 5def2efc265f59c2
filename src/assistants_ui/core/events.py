"""The stream events every backend yields, whatever protocol it speaks.

A backend translates its wire protocol (Chat Completions chunks, Responses SSE
events, Assistants run events, llama.cpp tokens) into this small closed union
and nothing else. The transcript folds these events into a `Message`; the web
layer renders the message; storage persists it. Nobody downstream of a backend
ever sees a protocol payload.

All events are frozen dataclasses so they can be logged, compared in tests and
replayed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "ApprovalRequested",
    "Citation",
    "CodeDelta",
    "CodeOutput",
    "Done",
    "Failed",
    "FailureCode",
    "FileOutput",
    "ImageOutput",
    "ImagePartial",
    "Notice",
    "Passage",
    "ReasoningDelta",
    "Refusal",
    "RemoteUpdate",
    "Replace",
    "StreamEvent",
    "TextDelta",
    "ToolArgumentsDelta",
    "ToolCallDone",
    "ToolCallStarted",
    "Usage",
]

ToolKind = Literal[
    "code_interpreter",
    "file_search",
    "web_search",
    "function",
    "image_generation",
    "mcp",
    "mcp_list_tools",
    "custom",
]
CitationKind = Literal["file", "url", "container_file", "file_path"]
DoneStatus = Literal["complete", "incomplete", "stopped"]
NoticeLevel = Literal["info", "warning"]
# Why an answer failed: a closed set, each code worded once (`core/failures.py`).
FailureCode = Literal[
    "connection",  # the server cannot be reached
    "timeout",  # it did not answer in time
    "stream_cut",  # the answer stopped before it was complete; what arrived is kept
    "key_refused",  # 401
    "forbidden",  # 403
    "not_found",  # 404: a model, deployment, store or conversation the server does not know
    "rate_limited",  # 429, or a run's rate limit or quota
    "server_error",  # 5xx, or the server's own server_error
    "rejected",  # another refusal of the request (4xx, an invalid prompt)
    "model_error",  # the response or run failed for a reason the server gave
    "expired",  # an Assistants run expired
    "run_active",  # an earlier run would not stop
    "shutdown",  # the Assistants API is gone
    "local_model",  # the in-process model failed
    "upload_refused",  # a file could not be sent
    "config",  # the assistant's configuration cannot work
    "internal",  # a bug or an unmapped library error
]


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the answer's visible text, appended to the current text part."""

    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of the model's reasoning summary (shown collapsed)."""

    text: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """The model declined to answer; shown as a refusal, not as answer text."""

    text: str


@dataclass(frozen=True, slots=True)
class Replace:
    """The server's final word on text already streamed: the message's last part of
    `kind` (answer text, reasoning, refusal) keeps its first `start` characters and
    ends with `text` instead of what followed them.

    A server that sends a content part's text whole when it is done (after its
    deltas, or instead of them) may say it differently; its last word wins. A
    backend sends this only when the text changed."""

    kind: Literal["text", "reasoning", "refusal"]
    start: int
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    """A tool call began: code interpreter, file search, web search or a function."""

    call_id: str
    kind: ToolKind
    name: str = ""
    arguments: str = ""
    # The MCP server that runs the tool (its label), for MCP calls and tool lists.
    server: str = ""


@dataclass(frozen=True, slots=True)
class ToolArgumentsDelta:
    """A piece of a tool call's arguments (or a custom tool's input) as the model writes it.

    The call's `ToolCallStarted` or `ToolCallDone` with the whole arguments replaces
    what the pieces built."""

    call_id: str
    delta: str


@dataclass(frozen=True, slots=True)
class CodeDelta:
    """A piece of the code the code interpreter is about to run."""

    call_id: str
    code: str


@dataclass(frozen=True, slots=True)
class CodeOutput:
    """Text the code interpreter printed (its logs)."""

    call_id: str
    logs: str


@dataclass(frozen=True, slots=True)
class ToolCallDone:
    """A tool call finished: its status, and for functions the output sent back."""

    call_id: str
    status: Literal["completed", "failed", "incomplete"] = "completed"
    output: str = ""
    error: str = ""
    arguments: str | None = None
    # What a file search found: the passages, shown behind an expander.
    passages: tuple[Passage, ...] = ()


@dataclass(frozen=True, slots=True)
class Passage:
    """A passage a file search found: its file, its score and its text."""

    source: str
    text: str
    score: float | None = None
    file_id: str = ""


@dataclass(frozen=True, slots=True)
class ImageOutput:
    """An image made during the answer (a chart), as bytes ready to render."""

    name: str
    data: bytes = field(repr=False)
    mime: str = "image/png"
    file_id: str = ""
    # The image generation call that made it: the final image replaces its partial ones.
    call_id: str = ""


@dataclass(frozen=True, slots=True)
class ImagePartial:
    """A partial image of an image generation call, shown while the final one is made."""

    call_id: str
    data: bytes = field(repr=False)
    mime: str = "image/png"
    index: int = 0


@dataclass(frozen=True, slots=True)
class ApprovalRequested:
    """A hosted MCP server's tool call waits for the user's approval.

    `request_id` is what the approval (or denial) answers; `server` is the MCP
    server's label, `name` the tool, `arguments` its JSON arguments as the model
    wrote them (untrusted, shown as literal text)."""

    request_id: str
    server: str
    name: str
    arguments: str = ""


@dataclass(frozen=True, slots=True)
class FileOutput:
    """A generated file, fetched as bytes the moment it was announced."""

    name: str
    data: bytes = field(repr=False)
    mime: str = "application/octet-stream"
    file_id: str = ""


@dataclass(frozen=True, slots=True)
class Citation:
    """A source for the text: a file passage, a web page or a generated file.

    `start`/`end` locate the cited span in the current text part when the
    protocol gives them (character offsets); `marker` is the literal text the
    model wrote for it, if any (the Assistants API's placeholders).
    """

    kind: CitationKind
    label: str
    url: str = ""
    file_id: str = ""
    start: int | None = None
    end: int | None = None
    marker: str = ""


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the user should know that is neither answer nor failure."""

    text: str
    level: NoticeLevel = "info"


@dataclass(frozen=True, slots=True)
class RemoteUpdate:
    """The backend's remote state changed (a conversation id, a response id).

    The session stores these key/values with the conversation and hands them
    back on the next turn; nobody else interprets them.
    """

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True, slots=True)
class Failed:
    """The answer could not be completed. `reason` is one sentence for people."""

    reason: str
    retryable: bool = True
    code: FailureCode = "internal"


@dataclass(frozen=True, slots=True)
class Done:
    """The answer ended. `status` says whether it ended on its own terms."""

    status: DoneStatus = "complete"
    usage: Usage | None = None
    detail: str = ""


StreamEvent = (
    TextDelta
    | ReasoningDelta
    | Refusal
    | Replace
    | ToolCallStarted
    | CodeDelta
    | CodeOutput
    | ToolCallDone
    | ImageOutput
    | FileOutput
    | ToolArgumentsDelta
    | ImagePartial
    | ApprovalRequested
    | Citation
    | Notice
    | RemoteUpdate
    | Failed
    | Done
)
