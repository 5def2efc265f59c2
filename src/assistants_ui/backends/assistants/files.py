"""Files for the Assistants backend: where an upload goes, and generated files' bytes.

An assistant reads a file through a tool: the code interpreter (data, code,
documents, images), file search (documents) or, for images, the model's own
eyes (an `image_file` block in the message). `route_upload` decides, from the
file's type and the assistant's tools, which of those a file is sent to, or
why none can take it. The route is a `+`-joined list such as
`code_interpreter+file_search`, stored on the attachment.

`RemoteFiles` fetches what a run produced (charts, generated files, the names
of cited files) from the Files API: the bytes are read as bytes (the original
project decoded them as text and corrupted every binary file), once, the
moment the run announces them, because the server may forget them later.
"""

from __future__ import annotations

import posixpath
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable

import openai

from assistants_ui.core.backend import BackendError, Route
from assistants_ui.core.files import (
    CODE_INTERPRETER_TYPES,
    FILE_SEARCH_TYPES,
    IMAGE_TYPES,
    Fetched,
    extension,
    guess_mime,
)
from assistants_ui.i18n import _

__all__ = [
    "Fetched",
    "RemoteFiles",
    "route_parts",
    "route_upload",
]

_TOOL_NAMES = {"code_interpreter": "code interpreter", "file_search": "file search"}


def route_upload(name: str, tools: Iterable[str]) -> Route:
    """Where a file of this name goes, given the assistant's tool types."""
    enabled = set(tools)
    ext = extension(name)
    parts: list[str] = []
    if ext in IMAGE_TYPES:
        parts.append("image")
    if "code_interpreter" in enabled and ext in CODE_INTERPRETER_TYPES:
        parts.append("code_interpreter")
    if "file_search" in enabled and ext in FILE_SEARCH_TYPES:
        parts.append("file_search")
    if parts:
        return Route("+".join(parts))
    readers = [_TOOL_NAMES[t] for t in ("code_interpreter", "file_search") if t in enabled]
    if not readers:
        return Route(
            None,
            "this assistant has neither code interpreter nor file search enabled, "
            "so it cannot read files other than images",
        )
    return Route(None, f"this assistant's {' and '.join(readers)} cannot read .{ext or '?'} files")


def route_parts(route: str) -> list[str]:
    return [p for p in route.split("+") if p]


class RemoteFiles:
    """Names and bytes of files on the server, each name looked up once."""

    MAX_NAMES = 2048

    def __init__(
        self,
        client: Callable[[], openai.OpenAI],
        describe: Callable[[openai.OpenAIError, str], BackendError],
    ) -> None:
        self._client = client
        self._describe = describe
        self._names: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def name(self, file_id: str, hint: str = "") -> str:
        """The file's name (without the sandbox's /mnt/data/), or `hint`, or its id."""
        with self._lock:
            if file_id in self._names:
                return self._names[file_id]
        try:
            filename = self._client().files.retrieve(file_id).filename
        except openai.OpenAIError:
            return posixpath.basename(hint) or file_id
        name = posixpath.basename(filename) or posixpath.basename(hint) or file_id
        with self._lock:
            self._names[file_id] = name
            while len(self._names) > self.MAX_NAMES:
                self._names.popitem(last=False)
        return name

    def fetch(self, file_id: str, hint: str = "") -> Fetched:
        """The file's bytes, exactly; `BackendError` saying why not."""
        name = self.name(file_id, hint)
        try:
            data = self._client().files.content(file_id).read()
        except openai.OpenAIError as exc:
            raise self._describe(exc, _("the file %(name)s") % {"name": repr(name)}) from exc
        return Fetched(name, data, guess_mime(name), file_id)
