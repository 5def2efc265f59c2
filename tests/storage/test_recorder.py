"""The Recorder under a real ChatSession, and a process killed mid-answer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from samples import png_bytes, xlsx_bytes
from scripted import PROFILE, ScriptedBackend

from assistants_ui.core import events as ev
from assistants_ui.core.session import ChatSession
from assistants_ui.core.transcript import Attachment, Message
from assistants_ui.storage import UNSAVED_USER, Repository, StorageRecorder, UserInfo, open_url

HERE = Path(__file__).parent


def test_question_is_committed_before_it_is_sent(repo: Repository, alice: UserInfo) -> None:
    seen: list[list[str]] = []

    def check_db(message: Message) -> None:
        # Another connection, as another process would see it.
        page = repo.load_messages(user_id=alice.id, conversation_id=session.conversation_id or "")
        seen.append([m.text for m in page.messages])
        assert page.messages[0].attachments[0].data == png_bytes()

    backend = ScriptedBackend(
        [
            ev.TextDelta("Here: "),
            ev.FileOutput("out.xlsx", xlsx_bytes(), "application/vnd.ms-excel", "cfile"),
            ev.RemoteUpdate("response", "resp_1"),
            ev.Done(usage=ev.Usage(5, 6)),
        ],
        on_send=check_db,
    )
    recorder = StorageRecorder(repo, user_id=alice.id)
    session = ChatSession(PROFILE, backend, recorder=recorder)
    session.submit("Make a table", [Attachment("in.png", "image/png", png_bytes())])
    assert session.conversation_id is not None
    answer = session.reply().run_to_end()
    assert answer.status == "complete"
    assert seen == [["Make a table", ""]]  # the question, and the answer just begun

    conv = repo.get_conversation(user_id=alice.id, conversation_id=session.conversation_id)
    assert conv.title == "Make a table"
    assert conv.remote == {"conversation": "conv_123", "vector_store": "vs_1", "response": "resp_1"}
    loaded = repo.load_messages(user_id=alice.id, conversation_id=conv.id).messages
    assert [m.to_dict() for m in loaded] == [m.to_dict() for m in session.messages]
    assert loaded[0].attachments[0].file_id == "file_1"  # re-saved once uploaded
    assert recorder.warnings == []


def test_reopened_conversation_continues(repo: Repository, alice: UserInfo) -> None:
    recorder = StorageRecorder(repo, user_id=alice.id)
    first = ChatSession(
        PROFILE, ScriptedBackend([ev.TextDelta("one"), ev.Done()]), recorder=recorder
    )
    first.submit("q1")
    first.reply().run_to_end()
    cid = first.conversation_id
    assert cid is not None

    conv = repo.get_conversation(user_id=alice.id, conversation_id=cid)
    page = repo.load_messages(user_id=alice.id, conversation_id=cid)
    again = ChatSession(
        PROFILE,
        ScriptedBackend([ev.TextDelta("two"), ev.Done()]),
        messages=page.messages,
        remote=conv.remote,
        recorder=StorageRecorder(repo, user_id=alice.id),
        conversation_id=cid,
    )
    again.submit("q2")
    again.reply().run_to_end()
    texts = [m.text for m in repo.load_messages(user_id=alice.id, conversation_id=cid).messages]
    assert texts == ["q1", "one", "q2", "two"]
    assert len(repo.list_conversations(user_id=alice.id).items) == 1


def test_stopped_and_failed_answers_are_saved_with_their_state(
    repo: Repository, alice: UserInfo
) -> None:
    recorder = StorageRecorder(repo, user_id=alice.id)
    session = ChatSession(
        PROFILE, ScriptedBackend([ev.TextDelta("partial"), ev.Failed("quota")]), recorder=recorder
    )
    session.submit("q")
    session.reply().run_to_end()
    cid = session.conversation_id or ""
    failed = repo.load_messages(user_id=alice.id, conversation_id=cid).messages[-1]
    assert (failed.status, failed.text, failed.error and failed.error.reason) == (
        "failed",
        "partial",
        "quota",
    )

    # An answer still being written when it is stopped (the worker waits on `block`).
    block = threading.Event()
    backend = ScriptedBackend([ev.TextDelta("half")], block=block)
    stopped = ChatSession(PROFILE, backend, recorder=recorder, conversation_id=cid)
    stopped.submit("again")
    stream = stopped.reply()
    while stream.message.text != "half":
        stream.wait(stream.version, 0.05)
    stream.cancel()
    block.set()
    last = repo.load_messages(user_id=alice.id, conversation_id=cid).messages[-1]
    assert (last.status, last.text, last.stopped_by) == ("stopped", "half", "user")


def guest_recorder(repo: Repository) -> StorageRecorder:
    """A guest browser's recorder, as the page makes it: the row made by the first save."""

    def create() -> int:
        return repo.ensure_user(auth_provider="anonymous", subject="browser-1").id

    return StorageRecorder(repo, user_id=UNSAVED_USER, create_user=create)


def stored(repo: Repository) -> list[tuple[str, str, str]]:
    """The guest's saved messages: (role, status, text); [] while it has no row."""
    found = repo.find_user(auth_provider="anonymous", subject="browser-1")
    if found is None:
        return []
    return [
        (m.role, m.status, m.text)
        for c in repo.list_conversations(user_id=found.id).items
        for m in repo.load_messages(user_id=found.id, conversation_id=c.id).messages
    ]


@pytest.mark.parametrize("saved_by", ["save_turn", "checkpoint", "the end"])
def test_a_question_saved_after_its_request_is_saved_once_with_its_answer(
    repo: Repository, saved_by: str
) -> None:
    """`ask(later=True)` (the page's send): the request goes out before anything is
    written, even the guest's row; the question and the answer's first row are saved
    once, by whichever comes first, and the answer's end is saved over them."""
    at_send: list[list[tuple[str, str, str]]] = []
    block = threading.Event()
    backend = ScriptedBackend(
        [ev.TextDelta("First words"), ev.RemoteUpdate("response", "resp_1")],
        on_send=lambda message: at_send.append(stored(repo)),
        block=block,
    )
    recorder = guest_recorder(repo)
    session = ChatSession(PROFILE, backend, recorder=recorder)
    session.ask("What should I plant?", later=True)
    stream = session.active
    assert stream is not None
    while stream.message.text != "First words" or "response" not in session.remote:
        stream.wait(stream.version, 0.05)
    assert at_send == [[]] and stored(repo) == []  # sent, nothing written yet
    if saved_by == "save_turn":
        assert stream.save_turn() and not stream.save_turn()  # once
    elif saved_by == "checkpoint":
        assert stream.checkpoint()  # the turn first: the question is what a crash loses
        assert stored(repo) == [
            ("user", "complete", "What should I plant?"),
            ("assistant", "streaming", ""),
        ]
        assert stream.checkpoint()  # then the answer so far, as for any answer
    if saved_by != "the end":
        assert stored(repo)[0] == ("user", "complete", "What should I plant?")
        assert stored(repo)[1][:2] == ("assistant", "streaming")
    stream.cancel()  # its end, however it comes (the server's stream is kept open here)
    block.set()
    assert stored(repo) == [
        ("user", "complete", "What should I plant?"),
        ("assistant", "stopped", "First words"),
    ]
    cid = session.conversation_id
    assert cid is not None
    conversation = repo.get_conversation(user_id=recorder.user_id, conversation_id=cid)
    assert conversation.remote == {"conversation": "conv_123", "response": "resp_1"}
    assert conversation.title == "What should I plant?"


def test_what_the_server_said_before_a_later_turn_was_saved_is_saved_with_it(
    repo: Repository, alice: UserInfo
) -> None:
    """In a saved conversation, the server's new ids that came before the turn was saved
    (the previous response's, a branch's conversation) are saved right after it."""
    recorder = StorageRecorder(repo, user_id=alice.id)
    first = ChatSession(PROFILE, ScriptedBackend([ev.Done()]), recorder=recorder)
    first.ask("q1")
    assert first.active is not None
    first.active.run_to_end()
    cid = first.conversation_id
    assert cid is not None
    block = threading.Event()
    backend = ScriptedBackend([ev.RemoteUpdate("response", "resp_2")], block=block)
    again = ChatSession(
        PROFILE,
        backend,
        messages=list(first.messages),
        remote=dict(first.remote),
        recorder=recorder,
        conversation_id=cid,
    )
    again.ask("q2", later=True)
    stream = again.active
    assert stream is not None
    while again.remote.get("response") != "resp_2":
        stream.wait(stream.version, 0.05)
    assert "response" not in repo.get_conversation(user_id=alice.id, conversation_id=cid).remote
    assert stream.save_turn()
    saved = repo.get_conversation(user_id=alice.id, conversation_id=cid).remote
    assert saved == {"conversation": "conv_123", "response": "resp_2"}
    stream.cancel()
    block.set()


def test_a_question_with_files_is_saved_before_its_request_even_later(
    repo: Repository, alice: UserInfo
) -> None:
    """Files go to the server from the saved question: `later` does not apply to them."""
    at_send: list[str] = []
    session = ChatSession(
        PROFILE,
        ScriptedBackend(
            [ev.Done()], on_send=lambda m: at_send.append(session.conversation_id or "")
        ),
        recorder=StorageRecorder(repo, user_id=alice.id),
    )
    session.ask("Read this", [Attachment("in.png", "image/png", png_bytes())], later=True)
    assert session.active is not None
    session.active.run_to_end()
    assert at_send and at_send[0]
    texts = [
        m.text for m in repo.load_messages(user_id=alice.id, conversation_id=at_send[0]).messages
    ]
    assert texts == ["Read this", ""]


def test_oversized_upload_becomes_a_warning(db_url: str) -> None:
    db = open_url(db_url, max_stored_file_mb=0.0001)
    try:
        repo = Repository(db)
        user = repo.ensure_user(auth_provider="password", subject="dora")
        recorder = StorageRecorder(repo, user_id=user.id)
        session = ChatSession(PROFILE, ScriptedBackend([ev.Done()]), recorder=recorder)
        session.submit("big", [Attachment("big.xlsx", "application/x", xlsx_bytes())])
        session.reply().run_to_end()
        assert len(recorder.warnings) == 1 and "big.xlsx" in recorder.warnings[0]
        (q, a) = repo.load_messages(
            user_id=user.id, conversation_id=session.conversation_id or ""
        ).messages
        assert (q.text, q.attachments[0].name, q.attachments[0].data) == ("big", "big.xlsx", b"")
        assert q.attachments[0].file_id == "file_1" and a.status == "complete"
    finally:
        db.dispose()


def test_killing_the_process_mid_answer_loses_nothing_committed(db_url: str) -> None:
    child = subprocess.Popen(
        [sys.executable, str(HERE / "crash_child.py"), db_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=HERE,
    )
    assert child.stdout is not None
    ready = child.stdout.readline().split()
    assert ready and ready[0] == "ready", child.stderr.read() if child.stderr else ""
    user_id, cid, question_id = int(ready[1]), ready[2], ready[3]
    busy_cid = child.stdout.readline().split()[1]
    committed: dict[str, str] = {}
    while len(committed) < 25:  # kill while it is busy writing
        _, mid, digest = child.stdout.readline().split()
        committed[mid] = digest
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    db = open_url(db_url)  # reopening after the crash: recovery, no migration trouble
    try:
        repo = Repository(db)
        question, answer = repo.load_messages(user_id=user_id, conversation_id=cid).messages
        assert question.id == question_id and question.text == "keep this"
        assert question.attachments[0].data == png_bytes()
        assert question.attachments[0].file_id == "file_1"  # the upload's id was committed
        assert answer.status == "failed" and answer.error is not None  # cut off, retryable
        remote = repo.get_conversation(user_id=user_id, conversation_id=cid).remote
        assert remote == {"conversation": "conv_123", "vector_store": "vs_1"}

        saved = repo.load_messages(user_id=user_id, conversation_id=busy_cid, limit=None).messages
        by_id = {m.id: m for m in saved}
        for mid, digest in committed.items():  # every commit the child reported survived
            assert by_id[mid].attachments[0].sha256 == digest
        for m in saved:  # and whatever else is there is whole
            assert m.attachments and m.attachments[0].data.startswith(b"\x89PNG")
        if db.dialect == "sqlite":
            with db.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    finally:
        db.dispose()
