"""Benchmark: the admin page's queries over 10,000 users and 1,000,000 messages (SQLite).

    .venv/bin/python -m bench.admin_queries        (also run by `make bench`)

Seeds a temporary SQLite database through the app's own migrations, then
bulk-inserts (one `executemany` per table, straight through sqlite3) 10,000
users with 10 conversations each over the last year, 10 messages per
conversation (5 questions, 5 answers with tokens), across 4 assistants:
1,000,000 messages. Then times every query the admin page and the per-send
checks run (`storage.admin.Admin`), the median of repeated runs after one
warm-up, and the per-day queries once more without `ix_messages_created_at`
(migration 0010_admin) to show what the index is for.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable

from assistants_ui.core.limits import EVERYONE, user_target
from assistants_ui.storage import open_url
from assistants_ui.storage.admin import Admin
from assistants_ui.storage.models import utcnow

USERS = 10_000
CONVERSATIONS_PER_USER = 10
MESSAGES_PER_CONVERSATION = 10
PROFILES = ("helper", "coder", "writer", "analyst")
DAYS = 365
ACTOR = "bench (password:bench)"


def _stamp(moment: dt.datetime) -> str:
    """A UTC datetime as SQLAlchemy stores it in SQLite (naive, microseconds)."""
    return moment.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def seed(path: str, rng: random.Random) -> None:
    now = utcnow()
    start = now.timestamp() - DAYS * 86400
    parts = json.dumps([{"kind": "text", "text": "a short message", "citations": []}])
    con = sqlite3.connect(path)
    try:
        users = []
        for uid in range(1, USERS + 1):
            anonymous = uid % 5 == 0  # every fifth is a guest browser
            users.append(
                (
                    uid,
                    "anonymous" if anonymous else "password",
                    f"guest-token-{uid:08d}" if anonymous else f"user{uid}",
                    "" if anonymous else f"User {uid}",
                    "" if anonymous else f"user{uid}@example.com",
                    _stamp(now - dt.timedelta(days=DAYS)),
                    _stamp(now - dt.timedelta(seconds=rng.randrange(DAYS * 86400))),
                    "",
                )
            )
        con.executemany(
            "INSERT INTO users (id, auth_provider, subject, display_name, email, created_at, "
            "last_seen_at, disabled_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            users,
        )
        conversations = []
        messages = []
        for uid in range(1, USERS + 1):
            for c in range(CONVERSATIONS_PER_USER):
                cid = f"c{uid:07d}x{c:02d}abcde"[:16]
                first = start + rng.random() * (DAYS * 86400 - 3600)
                times = [first + i * 30 for i in range(MESSAGES_PER_CONVERSATION)]
                for seq, at in enumerate(times, 1):
                    question = seq % 2 == 1
                    messages.append(
                        (
                            cid,
                            f"m{seq:02d}",
                            seq,
                            "user" if question else "assistant",
                            "complete",
                            parts,
                            "[]",
                            "a short message",
                            0 if question else rng.randrange(200, 2000),
                            0 if question else rng.randrange(50, 800),
                            at,
                        )
                    )
                updated = dt.datetime.fromtimestamp(times[-1], dt.UTC)
                conversations.append(
                    (
                        cid,
                        uid,
                        PROFILES[(uid + c) % len(PROFILES)],
                        "chat",
                        "{}",
                        f"Conversation {c}",
                        f"conversation {c}",
                        MESSAGES_PER_CONVERSATION,
                        _stamp(dt.datetime.fromtimestamp(first, dt.UTC)),
                        _stamp(updated),
                    )
                )
        con.executemany(
            "INSERT INTO conversations (id, user_id, profile_id, backend, remote, title, "
            "title_folded, last_seq, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            conversations,
        )
        con.executemany(
            "INSERT INTO messages (conversation_id, id, seq, role, status, parts, attachments, "
            "text_folded, input_tokens, output_tokens, created_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            messages,
        )
        con.commit()
        con.execute("ANALYZE")
    finally:
        con.close()


def timed(fn: Callable[[], object], runs: int) -> float:
    """Median wall time in ms over `runs`, after one warm-up call."""
    fn()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per query")
    args = parser.parse_args()
    rng = random.Random(15)
    with tempfile.TemporaryDirectory(prefix="bench-admin-") as tmp:
        path = f"{tmp}/admin.db"
        db = open_url(f"sqlite:///{path}")  # the app's migrations make the tables
        try:
            t0 = time.perf_counter()
            seed(path, rng)
            seeded = time.perf_counter() - t0
            admin = Admin(db)
            heavy = admin.users(limit=1)[0].id
            admin.set_limit(actor=ACTOR, target=EVERYONE, messages="200", tokens="200000")
            admin.set_limit(
                actor=ACTOR, target=user_target(heavy), profile_id="helper", messages="50"
            )
            admin.set_disabled(actor=ACTOR, user_id=heavy, disabled=True)
            admin.set_disabled(actor=ACTOR, user_id=heavy, disabled=False)
            assert admin.count_users() == USERS
            assert len(admin.users(limit=50)) == 50
            assert sum(r.messages for r in admin.daily_usage(days=DAYS)) > 0

            queries: list[tuple[str, str, Callable[[], object]]] = [
                ("count_users", "users metric and paging", admin.count_users),
                ("users(limit=50)", "users table, first page", lambda: admin.users(limit=50)),
                (
                    "users(offset=9950)",
                    "users table, last page",
                    lambda: admin.users(limit=50, offset=USERS - 50),
                ),
                (
                    "users(query='user42')",
                    "find a user",
                    lambda: (admin.count_users(query="user42"), admin.users(query="user42")),
                ),
                ("daily_usage(7)", "chart, 7 days", lambda: admin.daily_usage(days=7)),
                ("daily_usage(30)", "chart, 30 days (default)", lambda: admin.daily_usage(days=30)),
                ("daily_usage(90)", "chart, 90 days", lambda: admin.daily_usage(days=90)),
                (
                    "daily_usage(30, per_user)",
                    "CSV download, 30 days",
                    lambda: admin.daily_usage(days=30, per_user=True),
                ),
                ("limits()", "limits table", admin.limits),
                ("audit(100)", "audit log", lambda: admin.audit(limit=100)),
                (
                    "check_limits",
                    "before every send",
                    lambda: admin.check_limits(user_id=heavy, guest=False, profile_id="helper"),
                ),
                (
                    "is_disabled",
                    "every run of every user",
                    lambda: admin.is_disabled(auth_provider="password", subject="user42"),
                ),
            ]
            with_index = {name: timed(fn, args.runs) for name, _, fn in queries}
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP INDEX ix_messages_created_at")
            per_day = [q for q in queries if q[0].startswith("daily_usage")]
            without = {name: timed(fn, max(1, args.runs // 2)) for name, _, fn in per_day}
            csv_rows = len(admin.daily_usage(days=30, per_user=True))
        finally:
            db.dispose()

    print(
        f"\nAdmin page queries: {USERS:,} users, "
        f"{USERS * CONVERSATIONS_PER_USER:,} conversations, "
        f"{USERS * CONVERSATIONS_PER_USER * MESSAGES_PER_CONVERSATION:,} messages over "
        f"{DAYS} days (SQLite; seeded in {seeded:.1f} s); median of {args.runs} runs\n"
    )
    header = f"{'query':<28}{'what it serves':<28}{'ms':>10}{'ms w/o index':>14}"
    print(header)
    print("-" * len(header))
    for name, what, _ in queries:
        plain = f"{without[name]:,.1f}" if name in without else ""
        print(f"{name:<28}{what:<28}{with_index[name]:>10,.1f}{plain:>14}")
    print(f"\n(the 30-day CSV has {csv_rows:,} rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
