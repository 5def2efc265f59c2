"""Assistants API endpoints of the fake server: assistants, threads, messages, runs.

Runs are scripted (`fakes.assistants_scripts`): the next `runs.create` or
`submit_tool_outputs` request plays the next queued `Script`, or a one-line
answer when none is queued. `fake.expect(route, Error(...))` still takes
precedence over the scripted default.

The server keeps threads, messages and runs in `fake.state`, and behaves like
the real one where the UI depends on it: a thread with an active run refuses
new messages and new runs (400), a cancelled run answers `cancelling` and is
`cancelled` on the next retrieve, and tool outputs are only accepted, for
exactly the calls asked, from a run that requires them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fakes.assistants_scripts import (
    ACTIVE,
    message_object,
    new_id,
    now,
    path_param,
    play,
    public,
    run_object,
    thread_object,
)
from fakes.server import Error, Json, Recorded, Reply

if TYPE_CHECKING:
    from fakes.server import FakeOpenAI

__all__ = ["install"]


# -- handlers ------------------------------------------------------------------------------


def _thread(fake: FakeOpenAI, rec: Recorded) -> dict[str, Any] | None:
    found: dict[str, Any] | None = fake.state.setdefault("threads", {}).get(
        path_param(rec, "thread_id")
    )
    return found


def _no_thread(rec: Recorded) -> Error:
    return Error(404, f"No thread found with id '{path_param(rec, 'thread_id')}'.")


def _active_run(thread: dict[str, Any]) -> dict[str, Any] | None:
    return next((r for r in thread["runs"].values() if r["status"] in ACTIVE), None)


def _create_thread(fake: FakeOpenAI, rec: Recorded) -> Reply:
    """A thread, with the messages it is created with (their files must exist)."""
    body = rec.body if isinstance(rec.body, dict) else {}
    files = fake.state.get("files", {})
    obj = thread_object(new_id("thread"))
    messages = []
    for seed in body.get("messages") or []:
        for att in seed.get("attachments") or []:
            if att.get("file_id") not in files:
                return Error(400, f"Invalid file id '{att.get('file_id')}'.", code="invalid_file")
        messages.append(
            message_object(
                obj["id"],
                str(seed.get("role", "user")),
                _user_content(seed.get("content")),
                attachments=seed.get("attachments") or [],
            )
        )
    fake.state.setdefault("threads", {})[obj["id"]] = {
        "thread": obj,
        "messages": messages,
        "runs": {},
    }
    return Json(obj, "ThreadObject")


def _delete_thread(fake: FakeOpenAI, rec: Recorded) -> Reply:
    if fake.state.setdefault("threads", {}).pop(path_param(rec, "thread_id"), None) is None:
        return _no_thread(rec)
    payload = {"id": path_param(rec, "thread_id"), "object": "thread.deleted", "deleted": True}
    return Json(payload, "DeleteThreadResponse")


def _user_content(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": {"value": content, "annotations": []}}]
    blocks = []
    for block in content or []:
        if block.get("type") == "text":
            blocks.append({"type": "text", "text": {"value": block["text"], "annotations": []}})
        else:
            blocks.append(block)
    return blocks


def _create_message(fake: FakeOpenAI, rec: Recorded) -> Reply:
    thread = _thread(fake, rec)
    if thread is None:
        return _no_thread(rec)
    active = _active_run(thread)
    if active is not None:
        return Error(
            400,
            f"Can't add messages to {thread['thread']['id']} while a run {active['id']} is active.",
        )
    body = rec.body if isinstance(rec.body, dict) else {}
    files = fake.state.get("files", {})
    attachments = body.get("attachments") or []
    for att in attachments:
        if att.get("file_id") not in files:
            return Error(400, f"Invalid file id '{att.get('file_id')}'.", code="invalid_file")
    msg = message_object(
        thread["thread"]["id"],
        str(body.get("role", "user")),
        _user_content(body.get("content")),
        attachments=attachments,
    )
    thread["messages"].append(msg)
    return Json(msg, "MessageObject")


def _list_messages(fake: FakeOpenAI, rec: Recorded) -> Reply:
    thread = _thread(fake, rec)
    if thread is None:
        return _no_thread(rec)
    data = list(reversed(thread["messages"]))
    return Json(_page(data), "ListMessagesResponse")


def _page(data: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else "",
        "last_id": data[-1]["id"] if data else "",
        "has_more": False,
    }


def _create_run(fake: FakeOpenAI, rec: Recorded) -> Reply:
    thread = _thread(fake, rec)
    if thread is None:
        return _no_thread(rec)
    body = rec.body if isinstance(rec.body, dict) else {}
    assistant = fake.state.get("assistants", {}).get(body.get("assistant_id"))
    if assistant is None:
        return Error(404, f"No assistant found with id '{body.get('assistant_id')}'.")
    active = _active_run(thread)
    if active is not None:
        return Error(
            400, f"Thread {thread['thread']['id']} already has an active run {active['id']}."
        )
    run = run_object(thread["thread"]["id"], assistant, body)
    thread["runs"][run["id"]] = run
    created = public(run)
    run["status"] = "in_progress"
    run["started_at"] = now()
    opening = [
        ("thread.run.created", created),
        ("thread.run.queued", created),
        ("thread.run.in_progress", public(run)),
    ]
    return play(fake, run, opening)


def _run(fake: FakeOpenAI, rec: Recorded) -> dict[str, Any] | Error:
    thread = _thread(fake, rec)
    if thread is None:
        return _no_thread(rec)
    run: dict[str, Any] | None = thread["runs"].get(path_param(rec, "run_id"))
    if run is None:
        return Error(404, f"No run found with id '{path_param(rec, 'run_id')}'.")
    return run


def _retrieve_run(fake: FakeOpenAI, rec: Recorded) -> Reply:
    run = _run(fake, rec)
    if isinstance(run, Error):
        return run
    return Json(public(run), "RunObject")


def _cancel_run(fake: FakeOpenAI, rec: Recorded) -> Reply:
    run = _run(fake, rec)
    if isinstance(run, Error):
        return run
    if run["status"] not in ACTIVE:
        return Error(400, f"Cannot cancel run with status '{run['status']}'.")
    run["status"] = "cancelling"
    shown = public(run)
    run["status"] = "cancelled"  # the next look finds it cancelled
    run["cancelled_at"] = now()
    fake.state["run_cancelled"].set()
    return Json(shown, "RunObject")


def _list_runs(fake: FakeOpenAI, rec: Recorded) -> Reply:
    thread = _thread(fake, rec)
    if thread is None:
        return _no_thread(rec)
    data = [public(r) for r in reversed(thread["runs"].values())]
    return Json(_page(data), "ListRunsResponse")


def _submit(fake: FakeOpenAI, rec: Recorded) -> Reply:
    run = _run(fake, rec)
    if isinstance(run, Error):
        return run
    if run["status"] != "requires_action":
        return Error(
            400,
            f'Runs in status "{run["status"]}" do not accept tool outputs.',
        )
    body = rec.body if isinstance(rec.body, dict) else {}
    outputs = {o["tool_call_id"]: o.get("output", "") for o in body.get("tool_outputs", [])}
    expected = [c["id"] for c in run["required_action"]["submit_tool_outputs"]["tool_calls"]]
    if sorted(outputs) != sorted(expected):
        return Error(400, f"Expected tool outputs for call_ids {expected}, got {sorted(outputs)}.")
    step = run.pop("_pending_step")
    for call in step["step_details"]["tool_calls"]:
        call["function"]["output"] = outputs[call["id"]]
    step["status"] = "completed"
    step["completed_at"] = now()
    run["status"] = "queued"
    run["required_action"] = None
    queued = public(run)
    run["status"] = "in_progress"
    opening = [
        ("thread.run.queued", queued),
        ("thread.run.in_progress", public(run)),
        ("thread.run.step.completed", step),
    ]
    return play(fake, run, opening)


def _retrieve_assistant(fake: FakeOpenAI, rec: Recorded) -> Reply:
    found = fake.state.get("assistants", {}).get(path_param(rec, "assistant_id"))
    if found is None:
        return Error(404, f"No assistant found with id '{path_param(rec, 'assistant_id')}'.")
    return Json(found, "AssistantObject")


def _list_assistants(fake: FakeOpenAI, rec: Recorded) -> Reply:
    data = list(fake.state.get("assistants", {}).values())
    return Json(_page(data), "ListAssistantsResponse")


def install(fake: FakeOpenAI) -> None:
    fake.state["run_cancelled"] = threading.Event()  # set when a run is cancelled
    routes: list[tuple[str, str, str, Callable[[FakeOpenAI, Recorded], Reply]]] = [
        ("GET", "/v1/assistants", "assistants.list", _list_assistants),
        ("GET", "/v1/assistants/{assistant_id}", "assistants.retrieve", _retrieve_assistant),
        ("POST", "/v1/threads", "threads.create", _create_thread),
        ("DELETE", "/v1/threads/{thread_id}", "threads.delete", _delete_thread),
        ("POST", "/v1/threads/{thread_id}/messages", "messages.create", _create_message),
        ("GET", "/v1/threads/{thread_id}/messages", "messages.list", _list_messages),
        ("POST", "/v1/threads/{thread_id}/runs", "runs.create", _create_run),
        ("GET", "/v1/threads/{thread_id}/runs", "runs.list", _list_runs),
        ("GET", "/v1/threads/{thread_id}/runs/{run_id}", "runs.retrieve", _retrieve_run),
        ("POST", "/v1/threads/{thread_id}/runs/{run_id}/cancel", "runs.cancel", _cancel_run),
        (
            "POST",
            "/v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs",
            "runs.submit_tool_outputs",
            _submit,
        ),
    ]
    for method, path, name, handler in routes:
        fake.add_route(method, path, name)
        fake.set_default(name, lambda rec, h=handler: h(fake, rec))  # type: ignore[misc]
