"""Files endpoints of the fake server (shared by the Responses and Assistants fakes).

Uploaded files are kept in `fake.state["files"]` (id -> record with bytes), so
that later routes can serve their content, and tests can add generated files
with `add_file()`.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import TYPE_CHECKING, Any

from fakes.server import Bytes, Error, Json, Recorded, Reply

if TYPE_CHECKING:
    from fakes.server import FakeOpenAI

__all__ = ["add_file", "file_object", "install"]

_ids = itertools.count(1)


def file_object(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": record["id"],
        "object": "file",
        "bytes": len(record["data"]),
        "created_at": record["created_at"],
        "filename": record["filename"],
        "purpose": record["purpose"],
        "status": "processed",
    }


def add_file(
    fake: FakeOpenAI,
    filename: str,
    data: bytes,
    purpose: str = "assistants",
    file_id: str | None = None,
) -> str:
    """Put a file on the fake server (as if uploaded or generated); returns its id."""
    fid = file_id or f"file-{next(_ids):06d}"
    fake.state.setdefault("files", {})[fid] = {
        "id": fid,
        "filename": filename,
        "data": data,
        "purpose": purpose,
        "created_at": int(time.time()),
    }
    return fid


def _path_param(rec: Recorded, name: str) -> str:
    return str(json.loads(rec.headers.get("x-path-params", "{}")).get(name, ""))


def _create(fake: FakeOpenAI, rec: Recorded) -> Reply:
    body = rec.body if isinstance(rec.body, dict) else {}
    upload = body.get("file")
    if not isinstance(upload, dict):
        return Error(400, "file is required", code="missing_file")
    fid = add_file(fake, upload["filename"], upload["data"], str(body.get("purpose", "")))
    return Json(file_object(fake.state["files"][fid]), "OpenAIFile")


def _lookup(fake: FakeOpenAI, rec: Recorded) -> dict[str, Any] | None:
    record: dict[str, Any] | None = fake.state.get("files", {}).get(_path_param(rec, "file_id"))
    return record


def _not_found(rec: Recorded) -> Error:
    return Error(404, f"No such File object: {_path_param(rec, 'file_id')}", code=None)


def install(fake: FakeOpenAI) -> None:
    fake.add_route("POST", "/v1/files", "files.create")
    fake.set_default("files.create", lambda rec: _create(fake, rec))

    fake.add_route("GET", "/v1/files/{file_id}", "files.retrieve")
    fake.set_default(
        "files.retrieve",
        lambda rec: (
            Json(file_object(r), "OpenAIFile") if (r := _lookup(fake, rec)) else _not_found(rec)
        ),
    )

    fake.add_route("GET", "/v1/files/{file_id}/content", "files.content")
    fake.set_default(
        "files.content",
        lambda rec: Bytes(r["data"]) if (r := _lookup(fake, rec)) else _not_found(rec),
    )

    def delete(rec: Recorded) -> Reply:
        record = fake.state.get("files", {}).pop(_path_param(rec, "file_id"), None)
        if record is None:
            return _not_found(rec)
        return Json({"id": record["id"], "object": "file", "deleted": True}, "DeleteFileResponse")

    fake.add_route("DELETE", "/v1/files/{file_id}", "files.delete")
    fake.set_default("files.delete", delete)
