"""A scripted in-process backend for storage tests (no HTTP, no model).

It opens a remote "conversation", gives uploads file ids, and answers with
the events it was given; `on_send` runs when the answer starts, so a test
can look at what was committed before anything was sent. `block` keeps the
answer open until set (for the crash test).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence

from assistants_ui.core import events as ev
from assistants_ui.core.backend import Remote, Route, SendContext
from assistants_ui.core.transcript import Attachment, Message
from assistants_ui.profiles import Profile

__all__ = ["PROFILE", "ScriptedBackend"]

PROFILE = Profile(
    id="helper", title="Helper", backend="responses", model="m", upload_types=("png", "xlsx")
)


class ScriptedBackend:
    def __init__(
        self,
        events: Sequence[ev.StreamEvent] = (),
        *,
        on_send: Callable[[Message], None] | None = None,
        block: threading.Event | None = None,
    ) -> None:
        self.events = list(events)
        self.on_send = on_send
        self.block = block
        self.uploads = 0

    def route(self, name: str, mime: str) -> Route:
        return Route("code_interpreter")

    def open(self) -> Remote:
        return {"conversation": "conv_123"}

    def upload(self, remote: Remote, attachment: Attachment) -> Attachment:
        self.uploads += 1
        attachment.file_id = f"file_{self.uploads}"
        remote["vector_store"] = "vs_1"
        return attachment

    def send(self, message: Message, context: SendContext) -> Iterator[ev.StreamEvent]:
        if self.on_send is not None:
            self.on_send(message)
        yield from self.events
        if self.block is not None:
            self.block.wait()

    def cancel(self, remote: Remote) -> None:
        pass

    def display_title(self) -> str:
        return PROFILE.title

    def delete(self, remote: Remote) -> None:
        pass
