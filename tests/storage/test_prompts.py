"""The prompt library in storage (SQLite and PostgreSQL): a user's own prompts, prompts
published to everyone or to a group, names unique per owner, each deletable only by its
owner (published ones by an admin, the page checks)."""

from __future__ import annotations

import pytest

from assistants_ui.storage import NotFound, Repository, UserInfo
from assistants_ui.storage.prompts import EVERYONE, group_audience


def test_own_and_published_prompts_reach_whom_they_should(
    repo: Repository, alice: UserInfo, bob: UserInfo
) -> None:
    mine = repo.save_prompt(user_id=alice.id, name="/Summary", body=" Summarize {{text}} ")
    assert (mine.name, mine.body, mine.published) == ("summary", "Summarize {{text}}", False)
    shared = repo.save_prompt(
        user_id=None,
        name="summary",
        body="Company summary of {{text}}",
        audience=EVERYONE,
        created_by="Root (password:root)",
    )
    team = repo.save_prompt(
        user_id=None, name="standup", body="Standup notes", audience=group_audience("Eng")
    )
    assert [(p.name, p.published) for p in repo.prompts_for(user_id=alice.id)] == [
        ("summary", False),
        ("summary", True),
    ]
    assert [p.id for p in repo.prompts_for(user_id=bob.id)] == [shared.id]
    assert [p.id for p in repo.prompts_for(user_id=bob.id, groups=["eng"])] == [
        team.id,  # by name
        shared.id,
    ]
    assert {p.id for p in repo.published_prompts()} == {shared.id, team.id}
    assert shared.created_by == "Root (password:root)"


def test_names_are_unique_per_owner_and_edits_keep_them(
    repo: Repository, alice: UserInfo, bob: UserInfo
) -> None:
    first = repo.save_prompt(user_id=alice.id, name="mail", body="Write to {{who}}")
    repo.save_prompt(user_id=bob.id, name="mail", body="Bob's")  # another owner: fine
    with pytest.raises(ValueError, match="exists"):
        repo.save_prompt(user_id=alice.id, name="mail", body="again")
    for bad in ("Two words", "", "x" * 41, "-dash"):
        with pytest.raises(ValueError):
            repo.save_prompt(user_id=alice.id, name=bad, body="b")
    with pytest.raises(ValueError):
        repo.save_prompt(user_id=alice.id, name="empty", body="  ")
    with pytest.raises(ValueError):  # a user's own prompt has no audience
        repo.save_prompt(user_id=alice.id, name="x", body="b", audience=EVERYONE)
    edited = repo.save_prompt(
        user_id=alice.id, name="mail", body="Write kindly to {{who}}", prompt_id=first.id
    )
    assert (edited.id, edited.body) == (first.id, "Write kindly to {{who}}")
    with pytest.raises(NotFound):  # not bob's to edit
        repo.save_prompt(user_id=bob.id, name="mine", body="b", prompt_id=first.id)


def test_only_the_owner_deletes_a_prompt(repo: Repository, alice: UserInfo, bob: UserInfo) -> None:
    mine = repo.save_prompt(user_id=alice.id, name="mail", body="b")
    shared = repo.save_prompt(user_id=None, name="all", body="b", audience=EVERYONE)
    for user_id, prompt_id in ((bob.id, mine.id), (alice.id, shared.id), (None, mine.id)):
        with pytest.raises(NotFound):
            repo.delete_prompt(user_id=user_id, prompt_id=prompt_id)
    repo.delete_prompt(user_id=alice.id, prompt_id=mine.id)
    repo.delete_prompt(user_id=None, prompt_id=shared.id)
    assert repo.prompts_for(user_id=alice.id) == []
