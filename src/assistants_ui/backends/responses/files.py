"""Files in and out of the Responses backend: routing, uploads, vector stores, fetches.

Uploads are routed by type to the one place the Responses API can use them:
images become image input, PDFs file input, tabular and data files go to the
code interpreter's container, documents to file search (a vector store
created for the conversation on the first such upload). A type that no
enabled tool of the profile accepts is refused with a reason, before anything
is sent.

What a conversation created remotely is kept in its `remote` dict (values are
strings; lists are comma-joined): `vector_store`, `ci_files` (the container's
inputs) and `files` (every file uploaded, so that `delete` can remove them).

Generated files are fetched as bytes the moment they are announced: code
interpreter containers expire about 20 minutes after their last use.
"""

from __future__ import annotations

import base64
import binascii
import json
import mimetypes
import re
import threading
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

from assistants_ui.core import events as ev
from assistants_ui.core.backend import BackendError, Remote, Route
from assistants_ui.core.files import (
    CODE_INTERPRETER_TYPES,
    DATA_TYPES,
    DOCUMENT_TYPES,
    FILE_SEARCH_TYPES,
    IMAGE_TYPES,
    PDF_TYPES,
    Fetched,
    extension,
    guess_mime,
)
from assistants_ui.core.transcript import Attachment
from assistants_ui.i18n import _
from assistants_ui.profiles import Connection, Profile

if TYPE_CHECKING:
    import openai

__all__ = [
    "Fetched",
    "attachment_parts",
    "delete_remote_files",
    "fetch_container_file",
    "fetch_image_url",
    "remote_list",
    "route_for",
    "upload_attachment",
    "wait_for_indexing",
]

RouteName = Literal["image", "file", "code_interpreter", "file_search"]

_LIST_SEP = ","


def remote_list(remote: Remote, key: str) -> list[str]:
    return [v for v in remote.get(key, "").split(_LIST_SEP) if v]


def _remote_add(remote: Remote, key: str, value: str) -> None:
    values = remote_list(remote, key)
    if value not in values:
        remote[key] = _LIST_SEP.join([*values, value])


def route_for(profile: Profile, name: str) -> Route:
    """Where a file of this name goes for this profile, or why it cannot be used."""
    ext = extension(name)
    tools = set(profile.tools)
    ci, fs = "code_interpreter" in tools, "file_search" in tools
    if ext in IMAGE_TYPES:
        return Route("image")
    if ext in PDF_TYPES:
        return Route("file")
    if ext in DATA_TYPES:
        if ci:
            return Route("code_interpreter")
        if fs and ext in FILE_SEARCH_TYPES:
            return Route("file_search")
        return Route(
            None,
            f".{ext} files are analysed by the code interpreter, "
            "which this assistant does not have",
        )
    if ext in DOCUMENT_TYPES:
        if fs:
            return Route("file_search")
        if ci:
            return Route("code_interpreter")
        return Route(
            None,
            f".{ext} documents need file search or the code interpreter, "
            "and this assistant has neither",
        )
    if ext in CODE_INTERPRETER_TYPES and ci:
        return Route("code_interpreter")
    return Route(None, f"no tool of this assistant can use .{ext or '?'} files")


def _purpose(connection: Connection, route: str) -> Literal["assistants", "user_data", "vision"]:
    # Azure's v1 Files API does not take `user_data` (nor image files as input);
    # `assistants` works for everything it does take.
    if connection.type == "azure" or route in ("code_interpreter", "file_search"):
        return "assistants"
    return "vision" if route == "image" else "user_data"


def upload_attachment(
    client: openai.OpenAI,
    connection: Connection,
    profile: Profile,
    remote: Remote,
    attachment: Attachment,
) -> Attachment:
    """Send one attachment where its route says; record what it created in `remote`.

    Raises `BackendError` with a sentence people can act on.
    """
    import openai

    from assistants_ui.backends.clients import describe_error

    route = route_for(profile, attachment.name)
    if not route.accepted or route.route is None:
        raise BackendError(f"{attachment.name}: {route.reason}.", code="upload_refused")
    attachment.route = route.route
    if route.route == "image" and connection.type == "azure":
        # Azure cannot reference an uploaded image as input: it is sent inline.
        attachment.file_id = f"inline:{attachment.sha256[:16]}"
        return attachment
    what = _("the upload of %(name)s") % {"name": attachment.name}
    try:
        created = client.files.create(
            file=(attachment.name, attachment.data, attachment.mime or "application/octet-stream"),
            purpose=_purpose(connection, route.route),
        )
    except openai.OpenAIError as exc:
        failed = describe_error(exc, connection, what=what)
        if isinstance(exc, openai.BadRequestError | openai.UnprocessableEntityError):
            raise BackendError(
                _("The server refused %(name)s: %(reason)s")
                % {"name": attachment.name, "reason": failed.reason},
                retryable=False,
                code=failed.code,
            ) from exc
        raise BackendError.of(failed) from exc
    attachment.file_id = created.id
    _remote_add(remote, "files", created.id)
    if route.route == "code_interpreter":
        _remote_add(remote, "ci_files", created.id)
    elif route.route == "file_search":
        try:
            store = remote.get("vector_store")
            if not store:
                store = client.vector_stores.create(
                    name=f"assistants-ui {profile.id}",
                    metadata={"app": "assistants-ui", "profile": profile.id[:64]},
                ).id
                remote["vector_store"] = store
            client.vector_stores.files.create(vector_store_id=store, file_id=created.id)
        except openai.OpenAIError as exc:
            failed = describe_error(
                exc, connection, what=_("file search for %(name)s") % {"name": attachment.name}
            )
            raise BackendError.of(failed) from exc
    return attachment


def attachment_parts(attachments: Sequence[Attachment]) -> list[dict[str, Any]]:
    """The input content parts for a message's attachments (after upload)."""
    parts: list[dict[str, Any]] = []
    for att in attachments:
        if not att.file_id:
            continue
        if att.route == "image":
            if att.file_id.startswith("inline:"):
                b64 = base64.b64encode(att.data).decode("ascii")
                url = f"data:{att.mime or 'image/png'};base64,{b64}"
                parts.append({"type": "input_image", "image_url": url, "detail": "auto"})
            else:
                parts.append({"type": "input_image", "file_id": att.file_id, "detail": "auto"})
        elif att.route == "file":
            parts.append({"type": "input_file", "file_id": att.file_id})
        elif att.route == "code_interpreter":
            parts.append(
                {"type": "input_text", "text": f"[{att.name} is in the code interpreter's files]"}
            )
        elif att.route == "file_search":
            parts.append({"type": "input_text", "text": f"[{att.name} is indexed for file search]"})
    return parts


def wait_for_indexing(
    client: openai.OpenAI,
    connection: Connection,
    vector_store: str,
    attachments: Sequence[Attachment],
    *,
    cancelled: Any,
    poll_interval: float,
    timeout: float,
) -> Iterator[ev.StreamEvent]:
    """Show file-search indexing of this message's files until they are ready (bounded)."""
    import openai

    from assistants_ui.backends.clients import describe_error

    pending = {a.file_id: a.name for a in attachments if a.route == "file_search" and a.file_id}
    if not pending or not vector_store:
        return
    call_id = f"indexing-{next(iter(pending))}"
    names = list(pending.values())
    yield ev.ToolCallStarted(call_id, "file_search", "indexing", json.dumps({"files": names}))
    done: dict[str, str] = {}
    errors: list[str] = []
    deadline = time.monotonic() + timeout
    delay = poll_interval
    while True:
        for file_id in [f for f in pending if f not in done]:
            try:
                vs_file = client.vector_stores.files.retrieve(file_id, vector_store_id=vector_store)
            except openai.OpenAIError as exc:
                failed = describe_error(exc, connection, what=_("the conversation's vector store"))
                yield ev.ToolCallDone(call_id, "failed", error=failed.reason)
                return
            if vs_file.status in ("completed", "failed", "cancelled"):
                done[file_id] = vs_file.status
                if vs_file.status != "completed":
                    why = vs_file.last_error.message if vs_file.last_error else vs_file.status
                    errors.append(f"{pending[file_id]} could not be indexed: {why}")
        if len(done) == len(pending):
            break
        if time.monotonic() >= deadline or _wait(cancelled, delay):
            if not _is_set(cancelled):
                yield ev.ToolCallDone(
                    call_id,
                    "incomplete",
                    output=f"{len(done)} of {len(pending)} file(s) ready",
                    error=f"Indexing is still running after {timeout:g} s; "
                    "the answer may not see every file yet.",
                )
            return
        delay = min(delay * 1.5, 2.0)
        ready = sum(1 for s in done.values() if s == "completed")
        yield ev.ToolCallStarted(
            call_id, "file_search", "indexing", json.dumps({"files": names, "ready": ready})
        )
    ready = sum(1 for s in done.values() if s == "completed")
    yield ev.ToolCallDone(
        call_id,
        "failed" if errors and not ready else "completed",
        output=f"{ready} of {len(pending)} file(s) ready for search",
        error="; ".join(errors),
    )


def _is_set(flag: Any) -> bool:
    return bool(flag.is_set())


def _wait(flag: Any, seconds: float) -> bool:
    """Wait up to `seconds`; True if the flag got set (a threading.Event wakes at once)."""
    if isinstance(flag, threading.Event):
        return flag.wait(seconds)
    time.sleep(seconds)
    return _is_set(flag)


# -- out: generated files ----------------------------------------------------------


def fetch_container_file(
    client: openai.OpenAI, container_id: str, file_id: str, filename: str = ""
) -> Fetched:
    """A code-interpreter file, fetched now (containers expire ~20 min after last use)."""
    if container_id:
        if not filename:
            meta = client.containers.files.retrieve(file_id, container_id=container_id)
            filename = meta.path.rsplit("/", 1)[-1]
        data = client.containers.files.content.retrieve(file_id, container_id=container_id).read()
    else:  # a file in the Files API (older servers announce those)
        if not filename:
            filename = client.files.retrieve(file_id).filename
        data = client.files.content(file_id).read()
    return Fetched(filename or file_id, data, guess_mime(filename), file_id)


_CONTAINER_URL = re.compile(r"/containers/(?P<cid>[^/]+)/files/(?P<fid>[^/]+)(?:/content)?/?$")
_FILE_URL = re.compile(r"/files/(?P<fid>[^/]+)/content/?$")


def fetch_image_url(client: openai.OpenAI, url: str, default_name: str) -> Fetched | None:
    """The bytes behind a code-interpreter image URL, or None if it is not ours to fetch.

    Data URLs are decoded; container and file URLs of the API are fetched with
    the SDK (and its credentials). Other hosts are not contacted.
    """
    if url.startswith("data:"):
        head, _, payload = url.partition(",")
        mime = head[5:].split(";", 1)[0] or "image/png"
        try:
            data = (
                base64.b64decode(payload, validate=False) if ";base64" in head else payload.encode()
            )
        except (binascii.Error, ValueError):
            return None
        ext = mimetypes.guess_extension(mime) or ".png"
        return Fetched(default_name + ext, data, mime)
    path = url.split("?", 1)[0]
    if (m := _CONTAINER_URL.search(path)) is not None:
        got = fetch_container_file(client, m["cid"], m["fid"])
        return Fetched(got.name, got.data, guess_mime(got.name, "image/png"), got.file_id)
    if (m := _FILE_URL.search(path)) is not None:
        got = fetch_container_file(client, "", m["fid"])
        return Fetched(got.name, got.data, guess_mime(got.name, "image/png"), got.file_id)
    return None


def delete_remote_files(client: openai.OpenAI, remote: Remote) -> list[str]:
    """Delete the conversation's vector store and uploaded files; returns what failed."""
    import openai

    problems: list[str] = []
    store = remote.get("vector_store")
    if store:
        try:
            client.vector_stores.delete(store)
        except openai.NotFoundError:
            pass
        except openai.OpenAIError as exc:
            problems.append(f"vector store {store}: {exc}")
    for file_id in remote_list(remote, "files"):
        try:
            client.files.delete(file_id)
        except openai.NotFoundError:
            pass
        except openai.OpenAIError as exc:
            problems.append(f"file {file_id}: {exc}")
    return problems
