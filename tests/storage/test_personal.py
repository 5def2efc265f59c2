"""Personal instructions and memory in storage (SQLite and PostgreSQL): each user's
own, within their limits, deletable, gone with the user."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from assistants_ui.storage import Repository, UserInfo
from assistants_ui.storage.models import Memory, User
from assistants_ui.storage.personal import FACT_MAX_CHARS, PersonalInfo


def test_a_users_texts_are_theirs_and_replaced_whole(
    repo: Repository, alice: UserInfo, bob: UserInfo
) -> None:
    assert repo.personal(user_id=alice.id) == PersonalInfo()
    saved = repo.set_personal(
        user_id=alice.id,
        about_me="  I keep bees.  ",
        how_to_answer="Short answers.",
        memory_enabled=True,
        max_chars=100,
    )
    assert saved == PersonalInfo("I keep bees.", "Short answers.", True)
    assert repo.personal(user_id=alice.id) == saved
    assert repo.personal(user_id=bob.id) == PersonalInfo()
    repo.set_personal(
        user_id=alice.id, about_me="", how_to_answer="", memory_enabled=False, max_chars=100
    )
    assert repo.personal(user_id=alice.id) == PersonalInfo()


def test_texts_over_the_limit_are_refused_and_nothing_changes(
    repo: Repository, alice: UserInfo
) -> None:
    repo.set_personal(
        user_id=alice.id, about_me="Kept", how_to_answer="", memory_enabled=False, max_chars=10
    )
    with pytest.raises(ValueError, match="limited to 10"):
        repo.set_personal(
            user_id=alice.id,
            about_me="x" * 11,
            how_to_answer="",
            memory_enabled=True,
            max_chars=10,
        )
    assert repo.personal(user_id=alice.id) == PersonalInfo("Kept", "", False)


def test_memory_keeps_facts_once_within_the_limit_and_forgets_them(
    repo: Repository, alice: UserInfo, bob: UserInfo
) -> None:
    first = repo.remember(user_id=alice.id, text="Prefers  metric units", max_facts=2)
    assert first is not None and first.text == "Prefers metric units"
    again = repo.remember(user_id=alice.id, text="Prefers metric units", max_facts=2)
    assert again == first  # asked twice: kept once
    assert repo.remember(user_id=alice.id, text="Has a cat", max_facts=2) is not None
    assert repo.remember(user_id=alice.id, text="Lives in Oslo", max_facts=2) is None  # full
    assert [m.text for m in repo.memories(user_id=alice.id)] == [
        "Prefers metric units",
        "Has a cat",
    ]
    for bad in ("   ", "x" * (FACT_MAX_CHARS + 1)):
        with pytest.raises(ValueError):
            repo.remember(user_id=alice.id, text=bad, max_facts=10)
    assert repo.memories(user_id=bob.id) == []
    assert repo.forget(user_id=bob.id, memory_id=first.id) == 0  # not bob's
    assert repo.forget(user_id=alice.id, memory_id=first.id) == 1
    assert [m.text for m in repo.memories(user_id=alice.id)] == ["Has a cat"]
    assert repo.forget(user_id=alice.id) == 1
    assert repo.memories(user_id=alice.id) == []


def test_everything_kept_goes_with_the_user(repo: Repository, alice: UserInfo) -> None:
    repo.set_personal(
        user_id=alice.id, about_me="a", how_to_answer="b", memory_enabled=True, max_chars=10
    )
    repo.remember(user_id=alice.id, text="fact", max_facts=10)
    with repo.db.session() as s:
        s.execute(delete(User).where(User.id == alice.id))
    with repo.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Memory)) == 0
    assert repo.personal(user_id=alice.id) == PersonalInfo()
