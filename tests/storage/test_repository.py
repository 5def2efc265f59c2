"""Every repository call, on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from samples import every_part_answer, png_bytes, xlsx_bytes
from sqlalchemy import event, update
from stored_files import stored_files

from assistants_ui.core import events as ev
from assistants_ui.core.transcript import Attachment, ErrorPart, Message, TextPart, fold
from assistants_ui.storage import (
    ConversationInfo,
    Database,
    NotFound,
    Repository,
    UserInfo,
    is_valid_id,
    open_url,
)
from assistants_ui.storage.models import StoredMessage
from assistants_ui.storage.writers import STALE_SECONDS


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_conv(repo: Repository, user: UserInfo, **kw: object) -> ConversationInfo:
    return repo.create_conversation(
        user_id=user.id,
        profile_id="helper",
        backend="responses",
        **kw,  # type: ignore[arg-type]
    )


def answer(text: str) -> Message:
    return fold([ev.TextDelta(text), ev.Done()])


# -- users ---------------------------------------------------------------------------


def test_ensure_user_creates_once_and_notes_each_visit(repo: Repository) -> None:
    first = repo.ensure_user(auth_provider="oidc:google", subject="1234", email="a@example.com")
    again = repo.ensure_user(auth_provider="oidc:google", subject="1234", display_name="Ann")
    assert again.id == first.id
    assert again.last_seen_at >= first.last_seen_at
    assert (again.display_name, again.email) == ("Ann", "a@example.com")
    other = repo.ensure_user(auth_provider="password", subject="1234")
    assert other.id != first.id
    assert repo.find_user(auth_provider="oidc:google", subject="1234") == again
    assert repo.find_user(auth_provider="oidc:google", subject="5678") is None
    with pytest.raises(ValueError):
        repo.ensure_user(auth_provider="password", subject="")


# -- conversations --------------------------------------------------------------------


def test_create_and_get(repo: Repository, alice: UserInfo) -> None:
    conv = new_conv(repo, alice, remote={"conversation": "conv_1"})
    assert is_valid_id(conv.id)
    assert conv.title == ""
    got = repo.get_conversation(user_id=alice.id, conversation_id=conv.id)
    assert got == conv
    assert got.remote == {"conversation": "conv_1"}
    assert got.created_at.tzinfo is not None
    with pytest.raises(NotFound):
        repo.create_conversation(user_id=alice.id + 1000, profile_id="p", backend="chat")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "short",
        "x" * 17,
        "../../etc/passwd",
        "abc%def_ghijklmn",
        "ÄÖÜäöüÄÖÜäöüÄÖÜä",
        "1 OR 1=1--aaaaa",
    ],
)
def test_malformed_ids_are_not_found(repo: Repository, alice: UserInfo, bad: str) -> None:
    with pytest.raises(NotFound):
        repo.get_conversation(user_id=alice.id, conversation_id=bad)
    with pytest.raises(NotFound):
        repo.load_messages(user_id=alice.id, conversation_id=bad)


def test_unknown_well_formed_id_is_not_found(repo: Repository, alice: UserInfo) -> None:
    with pytest.raises(NotFound):
        repo.get_conversation(user_id=alice.id, conversation_id="A" * 16)


def test_title_comes_from_the_first_user_message(repo: Repository, alice: UserInfo) -> None:
    conv = new_conv(repo, alice)
    first = Message.user("  What is\n\n the   capital\tof France?  ")
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=first)
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=answer("Paris."))
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=Message.user("Why?"))
    got = repo.get_conversation(user_id=alice.id, conversation_id=conv.id)
    assert got.title == "What is the capital of France?"


def test_long_title_is_cut_at_a_word(repo: Repository, alice: UserInfo) -> None:
    conv = new_conv(repo, alice)
    text = "Please summarise " + "the quarterly report for the northern region " * 5
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=Message.user(text))
    title = repo.get_conversation(user_id=alice.id, conversation_id=conv.id).title
    assert title.endswith("…") and len(title) <= 80
    assert text.startswith(title[:-1])
    assert not title[:-1].endswith(" ")


def test_title_from_attachment_when_no_text(repo: Repository, alice: UserInfo) -> None:
    conv = new_conv(repo, alice)
    msg = Message.user("", [Attachment("report.xlsx", "application/x", xlsx_bytes())])
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=msg)
    assert repo.get_conversation(user_id=alice.id, conversation_id=conv.id).title == "report.xlsx"


def test_rename(repo: Repository, alice: UserInfo) -> None:
    conv = new_conv(repo, alice)
    renamed = repo.rename_conversation(
        user_id=alice.id, conversation_id=conv.id, title="  Trip   plans "
    )
    assert renamed.title == "Trip plans"
    # A renamed conversation keeps its name when the first message arrives.
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=Message.user("Hi"))
    assert repo.get_conversation(user_id=alice.id, conversation_id=conv.id).title == "Trip plans"
    with pytest.raises(ValueError):
        repo.rename_conversation(user_id=alice.id, conversation_id=conv.id, title="   ")
    long = repo.rename_conversation(user_id=alice.id, conversation_id=conv.id, title="x" * 500)
    assert len(long.title) == 200


def test_list_newest_activity_first_with_paging(repo: Repository, alice: UserInfo) -> None:
    convs = [new_conv(repo, alice, title=f"c{i}") for i in range(7)]
    page = repo.list_conversations(user_id=alice.id, limit=3)
    assert [c.title for c in page.items] == ["c6", "c5", "c4"]
    assert page.next_offset == 3
    page2 = repo.list_conversations(user_id=alice.id, limit=3, offset=page.next_offset)
    assert [c.title for c in page2.items] == ["c3", "c2", "c1"]
    last = repo.list_conversations(user_id=alice.id, limit=3, offset=6)
    assert [c.title for c in last.items] == ["c0"] and last.next_offset is None
    # A new message moves a conversation to the top.
    repo.save_message(user_id=alice.id, conversation_id=convs[0].id, message=Message.user("hi"))
    assert repo.list_conversations(user_id=alice.id, limit=1).items[0].id == convs[0].id
    with pytest.raises(ValueError):
        repo.list_conversations(user_id=alice.id, limit=0)


def test_pinned_conversations_come_first_until_unpinned(
    repo: Repository, alice: UserInfo, bob: UserInfo
) -> None:
    convs = [new_conv(repo, alice, title=f"c{i}") for i in range(4)]
    assert not convs[1].pinned
    pinned = repo.set_pinned(user_id=alice.id, conversation_id=convs[1].id, pinned=True)
    assert pinned.pinned
    repo.set_pinned(user_id=alice.id, conversation_id=convs[0].id, pinned=True)

    def titles(**kw: object) -> list[str]:
        page = repo.list_conversations(user_id=alice.id, **kw)  # type: ignore[arg-type]
        return [c.title for c in page.items]

    assert titles() == ["c1", "c0", "c3", "c2"]  # pinned first, each group newest first
    assert titles(limit=2, offset=2) == ["c3", "c2"]
    # Activity reorders within the group, never above the pinned ones.
    repo.save_message(user_id=alice.id, conversation_id=convs[2].id, message=Message.user("hi"))
    assert titles() == ["c1", "c0", "c2", "c3"]
    repo.save_message(user_id=alice.id, conversation_id=convs[0].id, message=Message.user("hi"))
    assert titles() == ["c0", "c1", "c2", "c3"]
    # Search results follow the same order.
    found = repo.search_conversations(user_id=alice.id, query="c")
    assert [c.title for c in found.items][:2] == ["c0", "c1"]
    assert repo.get_conversation(user_id=alice.id, conversation_id=convs[0].id).pinned
    repo.set_pinned(user_id=alice.id, conversation_id=convs[0].id, pinned=False)
    assert titles() == ["c1", "c0", "c2", "c3"]
    # Nobody else can pin someone's conversation.
    with pytest.raises(NotFound):
        repo.set_pinned(user_id=bob.id, conversation_id=convs[2].id, pinned=True)
    assert not repo.get_conversation(user_id=alice.id, conversation_id=convs[2].id).pinned


def test_usage_totals_and_generation_time_are_kept(
    repo: Repository, alice: UserInfo, bob: UserInfo
) -> None:
    conv = new_conv(repo, alice)
    assert repo.usage_totals(user_id=alice.id, conversation_id=conv.id) == (0, 0)
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=Message.user("Hi"))
    for tokens_in, tokens_out, seconds in ((1200, 300, 2.5), (1600, 500, 0.0)):
        reply = fold([ev.TextDelta("ok"), ev.Done(usage=ev.Usage(tokens_in, tokens_out))])
        reply.seconds = seconds
        repo.save_message(user_id=alice.id, conversation_id=conv.id, message=reply)
    assert repo.usage_totals(user_id=alice.id, conversation_id=conv.id) == (2800, 800)
    loaded = repo.load_messages(user_id=alice.id, conversation_id=conv.id).messages
    assert [(m.input_tokens, m.output_tokens, m.seconds) for m in loaded] == [
        (0, 0, 0.0),
        (1200, 300, 2.5),
        (1600, 500, 0.0),
    ]
    with pytest.raises(NotFound):
        repo.usage_totals(user_id=bob.id, conversation_id=conv.id)


def test_feedback_is_kept_per_answer_exported_and_not_activity(
    repo: Repository, alice: UserInfo, bob: UserInfo
) -> None:
    from assistants_ui.storage import to_json

    conv = new_conv(repo, alice)
    question = Message.user("Hi")
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=question)
    reply = answer("Hello")
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=reply)
    other = new_conv(repo, alice, title="newer")  # the newest activity
    repo.set_feedback(
        user_id=alice.id,
        conversation_id=conv.id,
        message_id=reply.id,
        feedback="down",
        comment="Too short.",
    )
    # Feedback is not activity: the newer conversation stays on top.
    assert repo.list_conversations(user_id=alice.id).items[0].id == other.id
    loaded = repo.load_messages(user_id=alice.id, conversation_id=conv.id).messages
    assert [(m.feedback, m.feedback_comment) for m in loaded] == [
        (None, ""),
        ("down", "Too short."),
    ]
    info = repo.get_conversation(user_id=alice.id, conversation_id=conv.id)
    exported = to_json(info, loaded)
    assert '"feedback": "down"' in exported and '"feedback_comment": "Too short."' in exported
    # Saving the answer again (e.g. a reload) keeps it; None withdraws it.
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=loaded[1])
    repo.set_feedback(user_id=alice.id, conversation_id=conv.id, message_id=reply.id, feedback="up")
    again = repo.load_messages(user_id=alice.id, conversation_id=conv.id).messages[1]
    assert (again.feedback, again.feedback_comment) == ("up", "")
    repo.set_feedback(user_id=alice.id, conversation_id=conv.id, message_id=reply.id, feedback=None)
    again = repo.load_messages(user_id=alice.id, conversation_id=conv.id).messages[1]
    assert again.feedback is None
    # Only the owner's answers: not someone else's, not a question, not an unknown id.
    for user, message_id in ((bob, reply.id), (alice, question.id), (alice, "nope")):
        with pytest.raises(NotFound):
            repo.set_feedback(
                user_id=user.id, conversation_id=conv.id, message_id=message_id, feedback="up"
            )
    with pytest.raises(ValueError):
        repo.set_feedback(
            user_id=alice.id,
            conversation_id=conv.id,
            message_id=reply.id,
            feedback="meh",  # type: ignore[arg-type]
        )


def test_search_titles_and_message_text(repo: Repository, alice: UserInfo) -> None:
    trip = new_conv(repo, alice, title="Trip to Lisbon")
    beer = new_conv(repo, alice)
    repo.save_message(
        user_id=alice.id, conversation_id=beer.id, message=Message.user("Brew a STOUT")
    )
    repo.save_message(
        user_id=alice.id,
        conversation_id=beer.id,
        message=answer("Mash at 67 °C on the Straße, 100% malt_extract."),
    )
    new_conv(repo, alice, title="Unrelated")

    def found(q: str) -> list[str]:
        return [c.id for c in repo.search_conversations(user_id=alice.id, query=q).items]

    assert found("lisbon") == [trip.id]
    assert found("stout") == [beer.id]  # case-insensitive, user text
    assert found("MASH") == [beer.id]  # assistant text
    assert found("STRASSE") == [beer.id]  # Unicode case folding
    assert found("brew mash") == [beer.id]  # every word, across messages
    assert found("brew lisbon") == []
    assert found("100%") == [beer.id]
    assert found("0%") == [beer.id]
    assert found("%") == [beer.id]  # LIKE wildcards are literal
    assert found("malt_e") == [beer.id]
    assert found("t_e") == [beer.id]
    assert found("_") == [beer.id]
    assert found("nothing-like-this") == []
    assert len(found("   ")) == 3  # empty query lists all
    page = repo.search_conversations(user_id=alice.id, query="", limit=2)
    assert page.next_offset == 2


def test_a_search_hit_carries_the_text_around_the_first_word(
    repo: Repository, alice: UserInfo, bob: UserInfo
) -> None:
    long = new_conv(repo, alice)
    before, after = "lorem " * 200, " ipsum" * 200
    repo.save_message(user_id=alice.id, conversation_id=long.id, message=Message.user("Hello"))
    repo.save_message(
        user_id=alice.id,
        conversation_id=long.id,
        message=answer(f"{before}The **Paella** <b>RICE</b> recipe{after}"),
    )
    repo.save_message(
        user_id=alice.id, conversation_id=long.id, message=answer("More paella later")
    )
    titled = new_conv(repo, alice, title="Paella night")
    theirs = new_conv(repo, bob, title="Bob's")
    repo.save_message(
        user_id=bob.id, conversation_id=theirs.id, message=Message.user("bob's paella secret")
    )

    hits = repo.search_conversations(user_id=alice.id, query="PAELLA rice").items
    assert [h.id for h in hits] == [long.id]
    [hit] = hits
    # The first message with the first word, cut around it, as search reads it.
    assert "the **paella** <b>rice</b> recipe" in hit.snippet
    assert hit.snippet.index("paella") <= 60
    assert 100 <= len(hit.snippet) <= 160  # bounded, whatever the message's length
    assert "more paella" not in hit.snippet
    by_title = repo.search_conversations(user_id=alice.id, query="paella").items
    assert {h.id for h in by_title} == {long.id, titled.id}  # never Bob's
    assert [h.snippet for h in by_title if h.id == titled.id] == [""]  # title only
    assert "secret" not in " ".join(h.snippet for h in by_title)
    start = repo.search_conversations(user_id=alice.id, query="hello").items
    assert [h.snippet for h in start] == ["hello"]  # a match at the very start
    assert repo.list_conversations(user_id=alice.id).items[0].snippet == ""


def test_set_remote_and_delete_returns_it(repo: Repository, alice: UserInfo) -> None:
    conv = new_conv(repo, alice)
    keep = new_conv(repo, alice, title="keep")
    msg = Message.user("see", [Attachment("a.png", "image/png", png_bytes())])
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=msg)
    repo.set_remote(
        user_id=alice.id,
        conversation_id=conv.id,
        remote={"conversation": "conv_9", "vector_store": "vs_9"},
    )
    assert len(stored_files(repo, conv.id)) == 1
    remote = repo.delete_conversation(user_id=alice.id, conversation_id=conv.id)
    assert remote == [{"conversation": "conv_9", "vector_store": "vs_9"}]
    with pytest.raises(NotFound):
        repo.get_conversation(user_id=alice.id, conversation_id=conv.id)
    assert stored_files(repo, conv.id) == []  # its files went with it
    with pytest.raises(NotFound):
        repo.delete_conversation(user_id=alice.id, conversation_id=conv.id)
    assert [c.id for c in repo.list_conversations(user_id=alice.id).items] == [keep.id]


# -- messages ------------------------------------------------------------------------


def test_every_part_kind_round_trips(repo: Repository, alice: UserInfo) -> None:
    conv = new_conv(repo, alice)
    question = Message.user(
        "Chart this",
        [
            Attachment("sales.xlsx", "application/vnd.ms-excel", xlsx_bytes()),
            Attachment("logo.png", "image/png", png_bytes(), "file_2", "code_interpreter"),
        ],
    )
    reply = every_part_answer()
    question.parent_id, reply.parent_id = "", question.id  # as the chat session sets them
    for m in (question, reply):
        repo.save_message(user_id=alice.id, conversation_id=conv.id, message=m)
    page = repo.load_messages(user_id=alice.id, conversation_id=conv.id)
    assert [m.to_dict() for m in page.messages] == [question.to_dict(), reply.to_dict()]
    assert page.before is None


def test_save_is_an_upsert_by_message_id(repo: Repository, alice: UserInfo) -> None:
    conv = new_conv(repo, alice)
    q = Message.user("hi", [Attachment("a.png", "image/png", png_bytes())])
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=q)
    (before,) = stored_files(repo, conv.id)
    q.attachments[0].file_id = "file_77"  # the upload reached the server
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=q)
    streaming = Message(role="assistant", status="streaming")
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=streaming)
    streaming.parts.append(TextPart("done"))
    streaming.status = "complete"
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=streaming)
    (after,) = stored_files(repo, conv.id)
    assert (after.id, after.provider_file_id, after.sha256) == (before.id, "file_77", before.sha256)
    messages = repo.load_messages(user_id=alice.id, conversation_id=conv.id).messages
    assert [(m.role, m.status, m.text) for m in messages] == [
        ("user", "complete", "hi"),
        ("assistant", "complete", "done"),
    ]
    # A part that is gone takes its file row with it.
    q.attachments.clear()
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=q)
    assert stored_files(repo, conv.id) == []


def test_newest_first_paging_of_a_long_conversation(repo: Repository, alice: UserInfo) -> None:
    conv = new_conv(repo, alice)
    for i in range(120):
        msg = Message.user(f"q{i}") if i % 2 == 0 else answer(f"a{i}")
        repo.save_message(user_id=alice.id, conversation_id=conv.id, message=msg)
    page = repo.load_messages(user_id=alice.id, conversation_id=conv.id, limit=50)
    assert [m.text for m in page.messages] == [
        f"a{i}" if i % 2 else f"q{i}" for i in range(70, 120)
    ]
    older = repo.load_messages(
        user_id=alice.id, conversation_id=conv.id, limit=50, before=page.before
    )
    assert older.messages[0].text == "q20" and older.messages[-1].text == "a69"
    oldest = repo.load_messages(
        user_id=alice.id, conversation_id=conv.id, limit=50, before=older.before
    )
    assert len(oldest.messages) == 20 and oldest.before is None
    everything = repo.load_messages(user_id=alice.id, conversation_id=conv.id, limit=None)
    assert len(everything.messages) == 120 and everything.before is None


def _writer_of(repo: Repository, conversation_id: str, **values: object) -> None:
    """Rewrite who saved the conversation's answer being written, and when."""
    with repo.db.session() as s:
        s.execute(
            update(StoredMessage)
            .where(StoredMessage.conversation_id == conversation_id)
            .where(StoredMessage.role == "assistant")
            .values(**values)
        )


def _dead_pid() -> int:
    """A process id no process has now (a child that has exited and been reaped)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


@pytest.mark.parametrize(
    "gone",
    [
        {"written_at": time.time() - STALE_SECONDS - 1},  # a replica that stopped saving
        {"writer": f"{socket.gethostname()}:{_dead_pid()}:1"},  # this machine's, killed
    ],
    ids=["stale", "dead-process"],
)
def test_interrupted_answer_comes_back_failed_and_retryable(
    repo: Repository, alice: UserInfo, gone: dict[str, object]
) -> None:
    conv = new_conv(repo, alice)
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=Message.user("q"))
    cut = Message(role="assistant", status="streaming", parts=[TextPart("half")])
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=cut)
    # Still being written by this process: it comes back as it is.
    loaded = repo.load_messages(user_id=alice.id, conversation_id=conv.id).messages[-1]
    assert loaded.status == "streaming" and loaded.text == "half" and loaded.error is None
    _writer_of(repo, conv.id, **gone)
    loaded = repo.load_messages(user_id=alice.id, conversation_id=conv.id).messages[-1]
    assert loaded.status == "failed" and loaded.text == "half"
    assert isinstance(loaded.error, ErrorPart) and loaded.error.retryable


def test_an_ended_answer_forgets_its_writer_and_keeps_who_stopped_it(
    repo: Repository, alice: UserInfo
) -> None:
    conv = new_conv(repo, alice)
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=Message.user("q"))
    answer = Message(role="assistant", status="streaming", parts=[TextPart("half")])
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=answer)
    answer.status, answer.stopped_by = "stopped", "unattended"
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=answer)
    with repo.db.session() as s:
        row = s.get(StoredMessage, (conv.id, answer.id))
        assert row is not None and row.writer is None and row.written_at is None
    loaded = repo.load_messages(user_id=alice.id, conversation_id=conv.id).messages[-1]
    assert (loaded.status, loaded.stopped_by) == ("stopped", "unattended")


def test_a_checkpoint_saves_the_text_so_far_and_never_an_ended_answer(
    repo: Repository, alice: UserInfo
) -> None:
    bob = repo.ensure_user(auth_provider="password", subject="bob", display_name="Bob")
    conv = new_conv(repo, alice)
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=Message.user("q"))
    answer = Message(role="assistant", status="streaming", parts=[TextPart("Once")])
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=answer)
    answer.parts[0].text = "Once upon a time"  # type: ignore[union-attr]
    assert repo.checkpoint_message(user_id=alice.id, conversation_id=conv.id, message=answer)
    loaded = repo.load_messages(user_id=alice.id, conversation_id=conv.id).messages[-1]
    assert (loaded.status, loaded.text) == ("streaming", "Once upon a time")
    assert [c.id for c in repo.search_conversations(user_id=alice.id, query="upon").items] == [
        conv.id
    ]
    # Someone else's conversation: nothing written.
    late = Message(role="assistant", status="streaming", parts=[TextPart("x")], id=answer.id)
    assert not repo.checkpoint_message(user_id=bob.id, conversation_id=conv.id, message=late)
    # The answer ended: a checkpoint that comes late changes nothing.
    answer.status = "complete"
    answer.parts[0].text = "Once upon a time, the end."  # type: ignore[union-attr]
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=answer)
    assert not repo.checkpoint_message(user_id=alice.id, conversation_id=conv.id, message=late)
    loaded = repo.load_messages(user_id=alice.id, conversation_id=conv.id).messages[-1]
    assert (loaded.status, loaded.text) == ("complete", "Once upon a time, the end.")


# -- files ---------------------------------------------------------------------------


def test_bytes_round_trip_exactly(repo: Repository, alice: UserInfo) -> None:
    conv = new_conv(repo, alice)
    png, xlsx = png_bytes(64, 64), xlsx_bytes()
    q = Message.user("files", [Attachment("in.png", "image/png", png)])
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=q)
    a = fold([ev.FileOutput("out.xlsx", xlsx, "application/vnd.ms-excel", "cfile_1"), ev.Done()])
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=a)
    infos = stored_files(repo, conv.id)
    assert [(f.name, f.kind, f.size, f.sha256, f.stored) for f in infos] == [
        ("in.png", "uploaded", len(png), sha(png), True),
        ("out.xlsx", "generated", len(xlsx), sha(xlsx), True),
    ]
    assert infos[1].provider_file_id == "cfile_1"
    for info, data in zip(infos, (png, xlsx), strict=True):
        assert info.data is not None and sha(info.data) == sha(data) and info.data == data
    loaded = repo.load_messages(user_id=alice.id, conversation_id=conv.id).messages
    assert loaded[0].attachments[0].data == png
    assert sha(loaded[1].parts[0].data) == sha(xlsx)  # type: ignore[union-attr]


def test_file_over_the_limit_keeps_metadata_and_the_message(db_url: str) -> None:
    db = open_url(db_url, max_stored_file_mb=0.001)  # 1,048 bytes
    try:
        repo = Repository(db)
        user = repo.ensure_user(auth_provider="password", subject="carol")
        conv = new_conv(repo, user)
        big, small = bytes(range(256)) * 8, png_bytes(4, 4)
        q = Message.user(
            "two files",
            [
                Attachment("big.bin", "application/octet-stream", big),
                Attachment("s.png", "image/png", small),
            ],
        )
        result = repo.save_message(user_id=user.id, conversation_id=conv.id, message=q)
        (skipped,) = result.skipped
        assert "big.bin" in str(skipped) and "MAX_STORED_FILE_MB" in str(skipped)
        # Saving again (file ids arrived) does not report it twice.
        assert repo.save_message(user_id=user.id, conversation_id=conv.id, message=q).skipped == ()
        (loaded,) = repo.load_messages(user_id=user.id, conversation_id=conv.id).messages
        assert loaded.text == "two files"
        assert [a.name for a in loaded.attachments] == ["big.bin", "s.png"]
        assert loaded.attachments[0].data == b"" and loaded.attachments[1].data == small
        big_info, small_info = stored_files(repo, conv.id)
        assert (big_info.stored, big_info.size, big_info.sha256) == (False, len(big), sha(big))
        assert big_info.data is None and small_info.data == small
        # Saving the loaded message again keeps what is known of the big file.
        repo.save_message(user_id=user.id, conversation_id=conv.id, message=loaded)
        assert list(stored_files(repo, conv.id)) == [big_info, small_info]
    finally:
        db.dispose()


def test_a_users_language_is_kept_with_the_account(repo: Repository, alice: UserInfo) -> None:
    assert alice.language is None  # follows the browser until chosen
    repo.set_language(user_id=alice.id, language="ja")
    again = repo.ensure_user(auth_provider="password", subject="alice", display_name="Alice")
    assert again.language == "ja"
    assert again == repo.find_user(auth_provider="password", subject="alice")
    bert = repo.ensure_user(auth_provider="password", subject="bert")
    assert bert.language is None  # one user's choice is theirs only
    repo.set_language(user_id=alice.id, language=None)
    assert repo.ensure_user(auth_provider="password", subject="alice").language is None
    with pytest.raises(ValueError):
        repo.set_language(user_id=alice.id, language="x" * 17)
    with pytest.raises(NotFound):
        repo.set_language(user_id=999_999, language="zh")


def test_a_turn_is_one_write_with_the_conversation_the_question_and_the_answer(
    repo: Repository, alice: UserInfo, db: Database
) -> None:
    bob = repo.ensure_user(auth_provider="password", subject="bob", display_name="Bob")
    question = Message.user("What is a fjord?")
    question.parent_id = ""
    answer = Message(role="assistant", status="streaming", parent_id=question.id)
    statements: list[str] = []
    with _traced(db, statements):
        cid = repo.start_turn(
            user_id=alice.id,
            conversation_id=None,
            profile_id="helper",
            backend="chat",
            remote={},
            question=question,
            answer=answer,
        )
    # The conversation, the two messages, the ledger's row: nothing read, nothing updated
    # (saving the two messages one at a time made fifteen statements in three writes).
    assert [s.split()[:3] for s in statements] == [
        ["INSERT", "INTO", "conversations"],
        ["INSERT", "INTO", "messages"],
        ["INSERT", "INTO", "messages"],
        ["INSERT", "INTO", "usage_records"],
    ], statements
    info = repo.get_conversation(user_id=alice.id, conversation_id=cid)
    assert info.title == "What is a fjord?"
    page = repo.load_messages(user_id=alice.id, conversation_id=cid)
    assert [(m.role, m.status) for m in page.messages] == [
        ("user", "complete"),
        ("assistant", "streaming"),
    ]
    assert page.messages[1].parent_id == question.id

    # A later turn in the same conversation: after the last message, the title kept.
    again = Message.user("And a firth?")
    again.parent_id = answer.id
    second = Message(role="assistant", status="streaming", parent_id=again.id)
    assert (
        repo.start_turn(
            user_id=alice.id,
            conversation_id=cid,
            profile_id="helper",
            backend="chat",
            remote={},
            question=again,
            answer=second,
        )
        == cid
    )
    page = repo.load_messages(user_id=alice.id, conversation_id=cid)
    assert [m.text for m in page.messages] == ["What is a fjord?", "", "And a firth?", ""]
    assert repo.get_conversation(user_id=alice.id, conversation_id=cid).title == (
        "What is a fjord?"
    )
    # Someone else's conversation, or no such user: nothing written.
    stray = Message.user("mine now")
    with pytest.raises(NotFound):
        repo.start_turn(
            user_id=bob.id,
            conversation_id=cid,
            profile_id="helper",
            backend="chat",
            remote={},
            question=stray,
            answer=Message(role="assistant", status="streaming"),
        )
    with pytest.raises(NotFound):
        repo.start_turn(
            user_id=9999,
            conversation_id=None,
            profile_id="helper",
            backend="chat",
            remote={},
            question=stray,
            answer=Message(role="assistant", status="streaming"),
        )
    assert len(repo.load_messages(user_id=alice.id, conversation_id=cid).messages) == 4


@contextmanager
def _traced(db: Database, into: list[str]) -> Iterator[None]:
    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        into.append(statement.strip())

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
