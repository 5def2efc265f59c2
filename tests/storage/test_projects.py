"""Projects in storage (SQLite and PostgreSQL): a user's own, their conversations listed
and searched by project, their files, one ZIP archive in the export formats, and deletion
one conversation per transaction (remote state queued), restartable when interrupted."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
from sqlalchemy import func, select

from assistants_ui.core.transcript import Attachment, Message, TextPart
from assistants_ui.storage import Database, NotFound, Repository, UserInfo
from assistants_ui.storage.archive import ARCHIVE_FORMAT, write_project_archive
from assistants_ui.storage.models import (
    Conversation,
    Project,
    ProjectConversation,
    RemoteDeletion,
    UsageRecord,
    utcnow,
)
from assistants_ui.storage.projects import MAX_PROJECT_FILES, Projects
from assistants_ui.web.turns import turn_for


def _chat(repo: Repository, user: UserInfo, text: str, project: str | None = None) -> str:
    cid = repo.create_conversation(
        user_id=user.id,
        profile_id="helper",
        backend="responses",
        remote={"conversation": f"conv_{text}"},
        title=text,
        project_id=project,
    ).id
    question = Message.user(text, [Attachment(name="a.txt", mime="text/plain", data=b"attached")])
    for message in (question, Message(role="assistant", parts=[TextPart(f"About {text}")])):
        repo.save_message(user_id=user.id, conversation_id=cid, message=message)
    return cid


def test_projects_are_their_owners_and_hold_conversations(
    repo: Repository, alice: UserInfo, bob: UserInfo
) -> None:
    bees = repo.create_project(user_id=alice.id, name="  Bee   keeping ", instructions="Be kind")
    assert (bees.name, bees.instructions) == ("Bee keeping", "Be kind")
    garden = repo.create_project(user_id=alice.id, name="garden")
    inside = _chat(repo, alice, "hives", project=bees.id)
    outside = _chat(repo, alice, "taxes")
    assert [(p.name, p.conversations) for p in repo.list_projects(user_id=alice.id)] == [
        ("Bee keeping", 1),
        ("garden", 0),
    ]
    assert repo.list_projects(user_id=bob.id) == []
    for call in (
        lambda: repo.get_project(user_id=bob.id, project_id=bees.id),
        lambda: repo.update_project(user_id=bob.id, project_id=bees.id, name="mine"),
        lambda: repo.delete_project(user_id=bob.id, project_id=bees.id),
        lambda: repo.create_conversation(
            user_id=bob.id, profile_id="p", backend="chat", project_id=bees.id
        ),
        lambda: repo.set_project(user_id=bob.id, conversation_id=inside, project_id=None),
        lambda: repo.set_project(user_id=alice.id, conversation_id=outside, project_id="x" * 16),
    ):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(ValueError):
        repo.create_project(user_id=alice.id, name="   ")

    listed = repo.list_conversations(user_id=alice.id, project_id=bees.id).items
    assert [c.id for c in listed] == [inside]
    assert {c.id for c in repo.list_conversations(user_id=alice.id).items} == {inside, outside}
    found = repo.search_conversations(user_id=alice.id, query="about", project_id=bees.id)
    assert [c.id for c in found.items] == [inside]
    assert repo.project_of(user_id=alice.id, conversation_id=inside).id == bees.id  # type: ignore[union-attr]

    repo.set_project(user_id=alice.id, conversation_id=outside, project_id=garden.id)
    repo.set_project(user_id=alice.id, conversation_id=inside, project_id=None)
    assert repo.project_of(user_id=alice.id, conversation_id=inside) is None
    assert [
        c.id for c in repo.list_conversations(user_id=alice.id, project_id=garden.id).items
    ] == [outside]
    renamed = repo.update_project(
        user_id=alice.id, project_id=garden.id, name="Garden", instructions=" Plants "
    )
    assert (renamed.name, renamed.instructions) == ("Garden", "Plants")


def test_a_first_turn_written_at_once_is_placed_as_a_created_conversation_is(
    repo: Repository, alice: UserInfo, bob: UserInfo
) -> None:
    """A send's one write (`start_turn`) makes the conversation in its project, or a
    temporary chat, as `create_conversation` does; another's project refuses it whole."""
    bees = repo.create_project(user_id=alice.id, name="Bees")

    def turn(user: UserInfo, text: str, **placement: object) -> str:
        question = Message.user(text)
        question.parent_id = ""
        return repo.start_turn(
            user_id=user.id,
            conversation_id=None,
            profile_id="helper",
            backend="chat",
            remote={},
            question=question,
            answer=Message(role="assistant", status="streaming", parent_id=question.id),
            **placement,  # type: ignore[arg-type]
        )

    inside = turn(alice, "hives", project_id=bees.id)
    passing = turn(alice, "passing", expires_at=utcnow() + dt.timedelta(hours=1))
    assert repo.project_of(user_id=alice.id, conversation_id=inside).id == bees.id  # type: ignore[union-attr]
    assert repo.is_temporary_chat(user_id=alice.id, conversation_id=passing)
    assert not repo.is_temporary_chat(user_id=alice.id, conversation_id=inside)
    assert [c.id for c in repo.list_conversations(user_id=alice.id).items] == [inside]
    with pytest.raises(NotFound):
        turn(bob, "mine now", project_id=bees.id)
    assert repo.list_conversations(user_id=bob.id).items == []


def test_a_projects_files_and_what_its_answers_get(
    repo: Repository, alice: UserInfo, bob: UserInfo
) -> None:
    project = repo.create_project(user_id=alice.id, name="Docs", instructions="Cite the notes.")
    first = repo.add_project_file(
        user_id=alice.id, project_id=project.id, name="notes.md", mime="text/markdown", data=b"v1"
    )
    repo.add_project_file(
        user_id=alice.id, project_id=project.id, name="notes.md", mime="text/markdown", data=b"v2"
    )  # the same name replaces it
    other = repo.add_project_file(
        user_id=alice.id, project_id=project.id, name="faq.txt", mime="text/plain", data=b"Q?"
    )
    files = repo.list_project_files(user_id=alice.id, project_id=project.id)
    assert [(f.name, f.size) for f in files] == [("notes.md", 2), ("faq.txt", 2)]
    assert len(files[0].sha256) == 64 and files[0].id != first.id
    assert (
        repo.project_file_data(user_id=alice.id, project_id=project.id, file_id=other.id) == b"Q?"
    )
    with pytest.raises(NotFound):
        repo.project_file_data(user_id=bob.id, project_id=project.id, file_id=other.id)
    repo.delete_project_file(user_id=alice.id, project_id=project.id, file_id=other.id)
    context = repo.project_context(user_id=alice.id, project_id=project.id)
    assert (context.name, context.instructions, context.files) == (
        "Docs",
        "Cite the notes.",
        [("notes.md", b"v2")],
    )
    for n in range(MAX_PROJECT_FILES - 1):
        repo.add_project_file(
            user_id=alice.id, project_id=project.id, name=f"{n}.txt", mime="text/plain", data=b"x"
        )
    with pytest.raises(ValueError, match="files per project"):
        repo.add_project_file(
            user_id=alice.id, project_id=project.id, name="more.txt", mime="", data=b"x"
        )

    cid = _chat(repo, alice, "question", project=project.id)
    turn = turn_for(repo, alice.id, cid, tools=True, max_facts=10)
    assert "This conversation belongs to the project 'Docs'." in turn.instructions
    assert "Cite the notes." in turn.instructions
    # The files apart: the chat backend searches them on the documents shelf instead.
    assert turn.project_files.startswith("The project's file `notes.md`:\n```\nv2\n```")
    assert "notes.md" not in turn.instructions
    assert turn.functions == ()  # memory is off
    assert (
        "Cite the notes."
        not in turn_for(repo, alice.id, None, tools=True, max_facts=10).instructions
    )


def test_a_project_is_one_archive_in_the_export_formats(repo: Repository, alice: UserInfo) -> None:
    project = repo.create_project(user_id=alice.id, name="Trip to Kyoto", instructions="Plan.")
    repo.add_project_file(
        user_id=alice.id, project_id=project.id, name="list.txt", mime="text/plain", data=b"tea"
    )
    first = _chat(repo, alice, "temples", project=project.id)
    second = _chat(repo, alice, "food", project=project.id)
    _chat(repo, alice, "elsewhere")
    out = io.BytesIO()
    assert write_project_archive(repo, user_id=alice.id, project_id=project.id, out=out) == 2
    archive = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    head = json.loads(archive.read("project.json"))
    assert head["format"] == ARCHIVE_FORMAT
    assert (head["project"]["name"], head["project"]["instructions"]) == ("Trip to Kyoto", "Plan.")
    assert [f["path"] for f in head["files"]] == ["files/list.txt"]
    assert archive.read("files/list.txt") == b"tea"
    assert {c["id"] for c in head["conversations"]} == {first, second}
    for entry in head["conversations"]:
        exported = json.loads(archive.read(entry["json"]))
        assert exported["conversation"]["id"] == entry["id"]
        texts = [m["parts"][0].get("text") for m in exported["messages"]]
        assert texts == [entry["title"], f"About {entry['title']}"]
        assert archive.read(entry["markdown"]).decode().startswith(f"# {entry['title']}")


def test_deleting_a_project_deletes_its_conversations_and_queues_their_remote_state(
    repo: Repository, db: Database, alice: UserInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = repo.create_project(user_id=alice.id, name="Old work")
    ids = [_chat(repo, alice, f"c{n}", project=project.id) for n in range(4)]
    kept = _chat(repo, alice, "kept")
    ledger = _count(db, UsageRecord)
    one = Projects._delete_one
    calls = {"n": 0}

    def failing(self: Projects, user_id: int, conversation_id: str) -> bool:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("the process stops here")
        return one(self, user_id, conversation_id)

    monkeypatch.setattr(Projects, "_delete_one", failing)
    with pytest.raises(RuntimeError):
        repo.delete_project(user_id=alice.id, project_id=project.id)
    left = repo.project_conversation_ids(user_id=alice.id, project_id=project.id)
    assert len(left) == 2 and set(left) < set(ids)  # two went whole, two are whole
    assert _count(db, RemoteDeletion) == 2

    monkeypatch.setattr(Projects, "_delete_one", one)
    assert repo.delete_project(user_id=alice.id, project_id=project.id) == 2  # goes on
    with db.session() as s:
        assert s.scalars(select(Conversation.id)).all() == [kept]
        assert s.scalar(select(func.count()).select_from(Project)) == 0
    assert _count(db, RemoteDeletion) == 4
    assert _count(db, UsageRecord) == ledger


def _count(db: Database, model: type) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_a_project_of_a_thousand_conversations_pages_exports_and_deletes_whole(
    repo: Repository, db: Database, alice: UserInfo
) -> None:
    project = repo.create_project(user_id=alice.id, name="Big")
    with db.session() as s:  # made at once: what is measured is reading and deleting them
        for n in range(1000):
            cid = f"{n:016d}"
            s.add(
                Conversation(
                    id=cid,
                    user_id=alice.id,
                    profile_id="p",
                    backend="chat",
                    title=f"c{n}",
                    title_folded=f"c{n}",
                    last_seq=0,
                )
            )
            s.flush()
            s.add(ProjectConversation(conversation_id=cid, project_id=project.id))
    assert repo.get_project(user_id=alice.id, project_id=project.id).conversations == 1000
    page = repo.list_conversations(user_id=alice.id, project_id=project.id, limit=30)
    assert len(page.items) == 30 and page.next_offset == 30
    out = io.BytesIO()
    assert write_project_archive(repo, user_id=alice.id, project_id=project.id, out=out) == 1000
    assert repo.delete_project(user_id=alice.id, project_id=project.id) == 1000
    assert _count(db, Conversation) == 0
