"""Users' groups (storage/groups.py) on SQLite and PostgreSQL: given by admins (audited),
brought by a sign-in, known for `check`, listed for the admin page."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete

from assistants_ui.core.transcript import Message
from assistants_ui.storage import NotFound, Repository, UserInfo
from assistants_ui.storage.admin import Admin
from assistants_ui.storage.groups import SSO, Groups
from assistants_ui.storage.models import User

AT = dt.datetime(2026, 12, 20, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def groups(repo: Repository) -> Groups:
    return Groups(repo.db, clock=lambda: AT)


def test_an_admin_gives_and_takes_groups_each_change_audited(
    repo: Repository, groups: Groups, alice: UserInfo, bob: UserInfo
) -> None:
    assert groups.groups_of(user_id=alice.id) == frozenset()
    kept = groups.set_groups(actor="Root (password:root)", user_id=alice.id, groups=["owls", "ops"])
    assert kept == ["ops", "owls"]
    assert groups.groups_of(user_id=alice.id) == {"owls", "ops"}
    assert groups.groups_of(user_id=bob.id) == frozenset()
    groups.set_groups(actor="Root (password:root)", user_id=alice.id, groups=["ops", " ops "])
    groups.set_groups(actor="Root (password:root)", user_id=alice.id, groups=["ops"])  # no-op
    entries = [(e.at, e.actor, e.action, e.target, e.detail) for e in Admin(repo.db).audit()]
    assert entries == [
        (AT, "Root (password:root)", "set_groups", "Alice (password:alice)", "removed owls"),
        (AT, "Root (password:root)", "set_groups", "Alice (password:alice)", "added owls, ops"),
    ]


def test_bad_group_names_and_users_change_nothing(
    repo: Repository, groups: Groups, alice: UserInfo
) -> None:
    groups.set_groups(actor="root", user_id=alice.id, groups=["owls"])
    with pytest.raises(ValueError, match="at most 255 characters"):
        groups.set_groups(actor="root", user_id=alice.id, groups=["ops", "x" * 256])
    with pytest.raises(NotFound):
        groups.set_groups(actor="root", user_id=alice.id + 1000, groups=["ops"])
    guest = repo.ensure_user(auth_provider="anonymous", subject="t" * 32)
    with pytest.raises(ValueError, match="guest"):
        groups.set_groups(actor="root", user_id=guest.id, groups=["ops"])
    assert groups.groups_of(user_id=alice.id) == {"owls"}
    assert len(Admin(repo.db).audit()) == 1


def test_a_sign_in_replaces_the_groups_the_last_one_brought(
    repo: Repository, groups: Groups, alice: UserInfo
) -> None:
    sam = repo.ensure_user(auth_provider="oidc", subject="iss|sam", display_name="Sam")
    groups.note_sso_groups(user_id=sam.id, groups=["owls", "staff"])
    groups.note_sso_groups(user_id=sam.id, groups=["staff", "night"])
    assert groups.groups_of(user_id=sam.id, source=SSO) == {"staff", "night"}
    assert groups.groups_of(user_id=sam.id) == frozenset()  # none given by an admin
    groups.set_groups(actor="root", user_id=alice.id, groups=["ops"])
    assert groups.known_groups() == {"staff", "night", "ops"}
    assert Admin(repo.db).audit() != [] and all(
        e.target != "Sam (oidc:iss|sam)" for e in Admin(repo.db).audit()
    )  # a sign-in is not an admin's action


def test_members_by_name_email_or_group_without_guests(
    repo: Repository, groups: Groups, alice: UserInfo, bob: UserInfo
) -> None:
    repo.ensure_user(auth_provider="oidc", subject="iss|ann", email="Ann@Example.com")
    guest = repo.ensure_user(auth_provider="anonymous", subject="g" * 32)
    groups.set_groups(actor="root", user_id=bob.id, groups=["owls"])
    groups.note_sso_groups(user_id=guest.id, groups=["owls"])  # never listed
    Admin(repo.db).set_disabled(actor="root", user_id=bob.id, disabled=True)
    found = groups.members(names=["ALICE", "ann@example.com"], groups=["owls"])
    assert [(m.label, m.groups, m.disabled) for m in found] == [  # by name
        ("Ann@Example.com", (), False),  # no display name: its e-mail
        ("Alice", (), False),
        ("Bob", ("owls",), True),
    ]
    # A single sign-on user's login name is no name an allow-list matches.
    assert groups.members(names=["iss|ann"]) == []
    assert groups.members(names=[], groups=[]) == []
    assert len(groups.members(groups=["owls"], names=["alice"], limit=1)) == 1


def test_a_users_groups_go_with_the_user(repo: Repository, groups: Groups) -> None:
    carl = repo.ensure_user(auth_provider="password", subject="carl")
    groups.set_groups(actor="root", user_id=carl.id, groups=["owls"])
    with repo.db.session() as s:
        s.execute(delete(User).where(User.id == carl.id))
    assert groups.known_groups() == frozenset()


def test_a_share_says_which_assistant_its_conversation_was_with(
    repo: Repository, alice: UserInfo
) -> None:
    conv = repo.create_conversation(user_id=alice.id, profile_id="owls", backend="chat")
    repo.save_message(user_id=alice.id, conversation_id=conv.id, message=Message.user("Hoot"))
    share = repo.create_share(user_id=alice.id, conversation_id=conv.id)
    assert repo.open_share(token=share.token).profile_id == "owls"
