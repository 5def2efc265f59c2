"""The admin page's storage: usage across users (a ledger that deleting conversations
leaves alone), disabling, daily limits, the audit log."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from assistants_ui.auth.sessions import LoginSessions
from assistants_ui.core.limits import EVERYONE, GUESTS, day_window, user_target
from assistants_ui.core.transcript import ImagePart, Message, TextPart
from assistants_ui.storage import Database, NotFound, Repository, UserInfo
from assistants_ui.storage.admin import Admin
from assistants_ui.storage.errors import AmountRefused
from assistants_ui.storage.models import UsageRecord, utcnow

ADMIN = "Root (password:root)"


def _turn(
    repo: Repository,
    user: UserInfo,
    profile: str,
    *,
    at: float,
    tokens: tuple[int, int] = (10, 5),
    conversation: str | None = None,
) -> str:
    """One question and its answer, sent at epoch `at`; returns the conversation id."""
    if conversation is None:
        conversation = repo.create_conversation(
            user_id=user.id, profile_id=profile, backend="chat"
        ).id
    question = Message.user("hello")
    question.created_at = at
    answer = Message(role="assistant", parts=[TextPart("hi")])
    answer.created_at = at + 1
    answer.input_tokens, answer.output_tokens = tokens
    for message in (question, answer):
        repo.save_message(user_id=user.id, conversation_id=conversation, message=message)
    return conversation


def _now() -> float:
    return utcnow().timestamp()


def test_users_list_totals_newest_activity_first_with_search_and_pages(
    repo: Repository, db: Database, alice: UserInfo, bob: UserInfo
) -> None:
    cid = _turn(repo, alice, "helper", at=_now())
    _turn(repo, alice, "helper", at=_now(), conversation=cid, tokens=(100, 50))
    _turn(repo, alice, "coder", at=_now())
    _turn(repo, bob, "helper", at=_now())  # bob is the most recent
    carol = repo.ensure_user(auth_provider="password", subject="carol", email="carol@x.org")
    admin = Admin(db)

    rows = admin.users()
    assert [u.subject for u in rows] == ["carol", "bob", "alice"]  # carol signed in last
    by_name = {u.subject: u for u in rows}
    assert (by_name["alice"].conversations, by_name["alice"].messages) == (2, 3)
    assert by_name["alice"].tokens == 15 + 150 + 15
    assert (by_name["bob"].messages, by_name["bob"].tokens) == (1, 15)
    assert (by_name["carol"].conversations, by_name["carol"].messages) == (0, 0)
    assert admin.count_users() == 3
    assert [u.subject for u in admin.users(query="CAROL@")] == ["carol"]
    assert admin.count_users(query="nobody") == 0
    assert admin.users(query="50%_\\") == []  # LIKE's wildcards are literal
    first, second = admin.users(limit=2), admin.users(limit=2, offset=2)
    assert len(first) == 2 and len(second) == 1
    assert {u.id for u in first + second} == {alice.id, bob.id, carol.id}
    with pytest.raises(ValueError):
        admin.users(limit=0)


def test_daily_usage_per_day_and_assistant_within_the_window(
    repo: Repository, db: Database, alice: UserInfo, bob: UserInfo
) -> None:
    now = utcnow()
    today, _ = day_window(now)
    yesterday = today - dt.timedelta(days=1)
    _turn(repo, alice, "helper", at=today.timestamp() + 60, tokens=(7, 3))
    _turn(repo, bob, "helper", at=today.timestamp() + 120, tokens=(1, 1))
    _turn(repo, alice, "coder", at=yesterday.timestamp() + 60)
    _turn(repo, alice, "coder", at=(today - dt.timedelta(days=40)).timestamp())  # too old
    admin = Admin(db, clock=lambda: now)

    rows = admin.daily_usage(days=30)
    assert [(r.day, r.profile_id, r.messages, r.tokens) for r in rows] == [
        (yesterday.date(), "coder", 1, 15),
        (today.date(), "helper", 2, 12),
    ]
    per_user = admin.daily_usage(days=1, per_user=True)
    assert sorted((r.user, r.messages, r.tokens) for r in per_user) == [
        ("Alice", 1, 10),
        ("Bob", 1, 2),
    ]
    mine = admin.daily_usage(days=30, user_id=bob.id)
    assert [(r.profile_id, r.messages) for r in mine] == [("helper", 1)]
    assert len(admin.daily_usage(days=60)) == 3
    with pytest.raises(ValueError):
        admin.daily_usage(days=0)


def test_disabling_is_audited_and_ends_the_users_logins(
    repo: Repository, db: Database, alice: UserInfo, bob: UserInfo
) -> None:
    sessions = LoginSessions(db)
    sid = sessions.start(auth_provider="password", subject="alice", lifetime=dt.timedelta(days=1))
    other = sessions.start(auth_provider="password", subject="bob", lifetime=dt.timedelta(days=1))
    admin = Admin(db)
    assert not admin.is_disabled(auth_provider="password", subject="alice")

    admin.set_disabled(actor=ADMIN, user_id=alice.id, disabled=True)
    assert admin.is_disabled(auth_provider="password", subject="alice")
    assert not admin.is_disabled(auth_provider="password", subject="bob")
    assert not admin.is_disabled(auth_provider="password", subject="nobody")
    assert not sessions.active(sid, auth_provider="password", subject="alice")
    assert sessions.active(other, auth_provider="password", subject="bob")
    assert [u.disabled for u in admin.users(query="alice")] == [True]

    admin.set_disabled(actor=ADMIN, user_id=alice.id, disabled=True)  # already: not audited
    admin.set_disabled(actor=ADMIN, user_id=alice.id, disabled=False)
    assert not admin.is_disabled(auth_provider="password", subject="alice")
    log = admin.audit()
    assert [(e.action, e.actor, e.target) for e in log] == [
        ("enable", ADMIN, "Alice (password:alice)"),
        ("disable", ADMIN, "Alice (password:alice)"),
    ]
    assert log[0].at >= log[1].at
    with pytest.raises(NotFound):
        admin.set_disabled(actor=ADMIN, user_id=999_999, disabled=True)


@pytest.mark.parametrize(
    ("messages", "tokens", "field"),
    [
        ("ten", "", "Messages per day"),
        ("-1", "", "Messages per day"),
        ("", "1.5", "Tokens per day"),
        ("", "99999999999", "Tokens per day"),
    ],
)
def test_a_nonsense_limit_is_refused_with_a_sentence_and_changes_nothing(
    db: Database, alice: UserInfo, messages: str, tokens: str, field: str
) -> None:
    admin = Admin(db)
    with pytest.raises(ValueError, match=field) as caught:
        admin.set_limit(actor=ADMIN, target=EVERYONE, messages=messages, tokens=tokens)
    assert isinstance(caught.value, AmountRefused)  # typed: which field, and why
    assert caught.value.field == ("messages" if field.startswith("Messages") else "tokens")
    assert admin.limits() == [] and admin.audit() == []


def test_limits_are_set_replaced_removed_and_audited(db: Database, alice: UserInfo) -> None:
    admin = Admin(db)
    admin.set_limit(actor=ADMIN, target=EVERYONE, messages="1,000")
    admin.set_limit(actor=ADMIN, target=user_target(alice.id), profile_id="helper", tokens="500")
    admin.set_limit(actor=ADMIN, target=EVERYONE, messages="20", tokens="")
    assert {(x.target, x.profile_id, x.messages, x.tokens) for x in admin.limits()} == {
        (EVERYONE, "", 20, None),
        (user_target(alice.id), "helper", None, 500),
    }
    assert admin.set_limit(actor=ADMIN, target=EVERYONE) is None  # both blank: removed
    assert admin.set_limit(actor=ADMIN, target=GUESTS) is None  # nothing to remove
    assert [x.target for x in admin.limits()] == [user_target(alice.id)]
    log = admin.audit()
    assert [e.action for e in log] == ["remove_limit", "set_limit", "set_limit", "set_limit"]
    assert log[2].target == "Alice (password:alice)"
    assert log[2].detail == "assistant helper: 500 tokens/day"
    with pytest.raises(ValueError):
        admin.set_limit(actor=ADMIN, target="somebody", messages="1")
    with pytest.raises(NotFound):
        admin.set_limit(actor=ADMIN, target=user_target(999_999), messages="1")


def test_a_limit_counts_today_only_and_says_when_it_resets(
    repo: Repository, db: Database, alice: UserInfo, bob: UserInfo
) -> None:
    now = utcnow()
    today, tomorrow = day_window(now)
    admin = Admin(db, clock=lambda: now)
    admin.set_limit(actor=ADMIN, target=EVERYONE, profile_id="helper", messages="2")
    _turn(repo, alice, "helper", at=(today - dt.timedelta(seconds=5)).timestamp())  # yesterday
    _turn(repo, alice, "helper", at=today.timestamp() + 1)
    _turn(repo, alice, "coder", at=today.timestamp() + 2)
    assert admin.check_limits(user_id=alice.id, guest=False, profile_id="helper") is None

    _turn(repo, alice, "helper", at=today.timestamp() + 3)
    hit = admin.check_limits(user_id=alice.id, guest=False, profile_id="helper")
    assert hit is not None
    assert (hit.kind, hit.allowed, hit.used, hit.profile_id) == ("messages", 2, 2, "helper")
    assert hit.resets_at == tomorrow
    assert "resets at 00:00 UTC" in hit.message(now)
    # Another assistant and another user are not concerned.
    assert admin.check_limits(user_id=alice.id, guest=False, profile_id="coder") is None
    assert admin.check_limits(user_id=bob.id, guest=False, profile_id="helper") is None


def test_the_most_specific_limit_wins_and_both_scopes_apply(
    repo: Repository, db: Database, alice: UserInfo, bob: UserInfo
) -> None:
    now = utcnow()
    admin = Admin(db, clock=lambda: now)
    for _ in range(3):
        _turn(repo, alice, "helper", at=now.timestamp() - 1, tokens=(40, 10))
        _turn(repo, bob, "coder", at=now.timestamp() - 1, tokens=(40, 10))
    admin.set_limit(actor=ADMIN, target=EVERYONE, messages="3")
    admin.set_limit(actor=ADMIN, target=user_target(alice.id), messages="10")
    # Alice's own limit replaces everyone's; bob has reached everyone's.
    assert admin.check_limits(user_id=alice.id, guest=False, profile_id="helper") is None
    hit = admin.check_limits(user_id=bob.id, guest=False, profile_id="helper")
    assert hit is not None and (hit.allowed, hit.used, hit.profile_id) == (3, 3, "")
    # A tokens cap on one assistant applies on top of the all-assistants one.
    admin.set_limit(actor=ADMIN, target=EVERYONE, profile_id="helper", tokens="150")
    hit = admin.check_limits(user_id=alice.id, guest=False, profile_id="helper")
    assert hit is not None and (hit.kind, hit.allowed, hit.used) == ("tokens", 150, 150)


def test_guests_have_their_own_limit_even_before_their_first_save(
    repo: Repository, db: Database, alice: UserInfo
) -> None:
    admin = Admin(db)
    guest = repo.ensure_user(auth_provider="anonymous", subject="browser-token-1")
    admin.set_limit(actor=ADMIN, target=GUESTS, messages="1")
    _turn(repo, guest, "helper", at=_now())
    assert admin.check_limits(user_id=guest.id, guest=True, profile_id="helper") is not None
    assert admin.check_limits(user_id=alice.id, guest=False, profile_id="helper") is None
    assert admin.check_limits(user_id=None, guest=True, profile_id="helper") is None
    admin.set_limit(actor=ADMIN, target=GUESTS, messages="0")
    blocked = admin.check_limits(user_id=None, guest=True, profile_id="helper")
    assert blocked is not None and "blocked" in blocked.message(utcnow())


def test_deleting_conversations_keeps_their_usage_limits_chart_and_csv(
    repo: Repository, db: Database, alice: UserInfo, bob: UserInfo
) -> None:
    now = utcnow()
    admin = Admin(db, clock=lambda: now)
    admin.set_limit(actor=ADMIN, target=EVERYONE, messages="2")
    cid = _turn(repo, alice, "helper", at=now.timestamp() - 2, tokens=(30, 5))
    _turn(repo, alice, "helper", at=now.timestamp() - 1, conversation=cid, tokens=(40, 5))
    _turn(repo, bob, "helper", at=now.timestamp() - 1)
    hit = admin.check_limits(user_id=alice.id, guest=False, profile_id="helper")
    assert hit is not None and (hit.kind, hit.allowed, hit.used) == ("messages", 2, 2)
    chart = admin.daily_usage(days=7)
    csv_rows = admin.daily_usage(days=7, per_user=True)  # what the admin page's CSV holds
    assert sorted((r.user, r.messages, r.tokens) for r in csv_rows) == [
        ("Alice", 2, 80),
        ("Bob", 1, 15),
    ]

    repo.delete_conversation(user_id=alice.id, conversation_id=cid)
    # Deleting removes the content, not the usage: still over the limit, same figures.
    hit = admin.check_limits(user_id=alice.id, guest=False, profile_id="helper")
    assert hit is not None and (hit.kind, hit.allowed, hit.used) == ("messages", 2, 2)
    assert "2 used today" in hit.message(now)
    assert admin.daily_usage(days=7) == chart
    assert admin.daily_usage(days=7, per_user=True) == csv_rows
    assert [(r.messages, r.tokens) for r in admin.daily_usage(days=7, user_id=alice.id)] == [
        (2, 80)
    ]
    [row] = admin.users(query="alice")
    assert (row.conversations, row.messages, row.tokens) == (0, 2, 80)


def _ledger_rows(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(UsageRecord)) or 0)


def test_an_answer_counts_once_when_it_ends_never_at_its_checkpoints(
    repo: Repository, db: Database, alice: UserInfo
) -> None:
    now = utcnow()
    admin = Admin(db, clock=lambda: now)
    admin.set_limit(actor=ADMIN, target=EVERYONE, tokens="100")
    cid = repo.create_conversation(user_id=alice.id, profile_id="helper", backend="chat").id
    question = Message.user("hello")
    answer = Message(role="assistant", parts=[TextPart("so")], status="streaming")
    for message in (question, answer):
        repo.save_message(user_id=alice.id, conversation_id=cid, message=message)

    def used() -> tuple[int, int]:
        [day] = admin.daily_usage(days=1)
        return day.messages, day.tokens

    assert used() == (1, 0) and _ledger_rows(db) == 1  # the question, sent
    # A tool round's usage arrives while the answer is still written: checkpoints of
    # its text alone and with a file keep it, but the ledger waits for the end.
    answer.input_tokens, answer.output_tokens = 90, 30
    assert repo.checkpoint_message(user_id=alice.id, conversation_id=cid, message=answer)
    answer.parts.append(ImagePart("chart.png", "image/png", b"\x89PNG..."))
    assert repo.checkpoint_message(user_id=alice.id, conversation_id=cid, message=answer)
    assert used() == (1, 0) and _ledger_rows(db) == 1
    assert admin.check_limits(user_id=alice.id, guest=False, profile_id="helper") is None

    answer.status = "stopped"  # however it ends, it counts once it ended
    repo.save_message(user_id=alice.id, conversation_id=cid, message=answer)
    assert used() == (1, 120) and _ledger_rows(db) == 2
    hit = admin.check_limits(user_id=alice.id, guest=False, profile_id="helper")
    assert hit is not None and (hit.kind, hit.used) == ("tokens", 120)
    # Saved again (a decision on one of its requests, say): still counted once.
    repo.save_message(user_id=alice.id, conversation_id=cid, message=answer)
    assert used() == (1, 120) and _ledger_rows(db) == 2


def test_guests_of_one_address_share_the_guests_limit(
    repo: Repository, db: Database, alice: UserInfo
) -> None:
    """GUEST_LIMITS_PER_ADDRESS: a guest that deleted its cookie (a new guest, no row yet)
    is counted with the other guests of its address; a guest's own limit stays its own."""
    admin = Admin(db)
    admin.set_limit(actor=ADMIN, target=GUESTS, messages="2")
    first = repo.ensure_user(auth_provider="anonymous", subject="browser-token-1")
    admin.note_guest_address(user_id=first.id, address="addr-1")
    _turn(repo, first, "helper", at=_now())
    second = repo.ensure_user(auth_provider="anonymous", subject="browser-token-2")
    admin.note_guest_address(user_id=second.id, address="addr-1")
    _turn(repo, second, "coder", at=_now())
    for who in (None, first.id, second.id):  # a new browser, and both old ones
        hit = admin.check_limits(user_id=who, guest=True, profile_id="helper", address="addr-1")
        assert hit is not None and hit.used == 2, who
    assert (
        admin.check_limits(user_id=None, guest=True, profile_id="helper", address="addr-2") is None
    )
    # Per browser (no address), each has used one of its two.
    assert admin.check_limits(user_id=first.id, guest=True, profile_id="helper") is None
    # A signed-in user's row is never given an address, nor counted with guests.
    admin.note_guest_address(user_id=alice.id, address="addr-1")
    _turn(repo, alice, "helper", at=_now())
    hit = admin.check_limits(user_id=None, guest=True, profile_id="helper", address="addr-1")
    assert hit is not None and hit.used == 2
    admin.set_limit(actor=ADMIN, target=user_target(first.id), messages="5")
    own = admin.check_limits(user_id=first.id, guest=True, profile_id="helper", address="addr-1")
    assert own is None  # its own limit wins, and counts its own one message
