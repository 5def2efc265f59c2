"""Benchmark: history storage with 5,000 conversations, one of 1,000 messages.

    .venv/bin/python -m bench.history            (also run by `make bench`)

Seeds one user's history (5,000 conversations of 4 messages, plus one of
1,000 messages with a chart image every 10th answer) and 1,000 conversations
of a second user, into a temporary SQLite file and, when the PostgreSQL
server binaries are installed, into a temporary PostgreSQL server, then
measures through the `Repository` the page calls:

* open: the newest 50 messages of the 1,000-message conversation, as
  `Message` objects with their image bytes (target: well under 1 s);
* older: the 50 before those ("load older");
* sidebar: the first page of 50 conversations, newest first;
* search: titles and message text, the median over 8 queries (common,
  rare, two-word, and matching nothing, which reads every message); target
  200 ms; the slowest query is shown too.

Each figure is the median of repeated runs after one warm-up. Seeding uses
bulk inserts of the rows the repository writes (encode_message), which is
faster than 21,000 single-message transactions and gives the same tables.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import insert

from assistants_ui.core import events as ev
from assistants_ui.core.transcript import Message, fold
from assistants_ui.storage import Database, Repository, open_url
from assistants_ui.storage.codec import encode_message, fold_text, title_for
from assistants_ui.storage.models import Conversation, StoredMessage, utcnow
from assistants_ui.storage.repository import new_id

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "storage"))

from pgcluster import PgCluster, find_bindir  # noqa: E402
from samples import png_bytes  # noqa: E402

CONVERSATIONS = 5_000
LONG = 1_000
OTHER_USER_CONVERSATIONS = 1_000
QUERIES = [
    "invoice",  # common word
    "quarterly forecast",  # two words
    "zebra",  # rare
    "Lisbon",  # title-ish word
    "migration plan",
    "kubernetes",
    "conversation 4321",  # one title
    "no-such-word-anywhere",  # matches nothing: reads every message
]
TARGETS_MS = {"open": 1000.0, "older": 1000.0, "sidebar": 200.0, "search": 200.0}

WORDS = (  # noqa: SIM905 - a vocabulary reads better as prose
    "the a of to and in for on with report invoice quarterly forecast budget team "
    "meeting customer product launch data chart table python code error server "
    "database migration plan travel Lisbon Paris summary draft email review "
    "contract deadline kubernetes cluster deploy release notes sales revenue growth"
).split()


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def seed(db: Database, rng: random.Random) -> tuple[int, str]:
    repo = Repository(db)
    alice = repo.ensure_user(auth_provider="password", subject="alice")
    bob = repo.ensure_user(auth_provider="password", subject="bob")
    base = utcnow().timestamp() - 10_000_000
    conv_rows: list[dict[str, object]] = []
    msg_rows: list[dict[str, object]] = []

    def add(user_id: int, index: int, messages: list[Message]) -> str:
        cid = new_id()
        title = f"Conversation {index}: " + title_for(messages[0])
        when = utcnow().fromtimestamp(base + index * 60, utcnow().tzinfo)
        conv_rows.append(
            dict(
                id=cid,
                user_id=user_id,
                profile_id="helper",
                backend="responses",
                remote={"conversation": f"conv_{index}"},
                title=title[:200],
                title_folded=fold_text(title[:200]),
                last_seq=len(messages),
                created_at=when,
                updated_at=when,
            )
        )
        for seq, m in enumerate(messages, 1):
            enc = encode_message(m)
            msg_rows.append(
                dict(
                    conversation_id=cid,
                    id=m.id,
                    seq=seq,
                    parent_id=messages[seq - 2].id if seq > 1 else None,  # one branch
                    role=m.role,
                    status=m.status,
                    parts=enc.parts,
                    attachments=enc.attachments,
                    text_folded=enc.text_folded,
                    input_tokens=0,
                    output_tokens=0,
                    created_at=m.created_at,
                )
            )
        return cid

    def flush() -> None:
        with db.session() as s:
            if conv_rows:
                s.execute(insert(Conversation), conv_rows)
            if msg_rows:
                s.execute(insert(StoredMessage), msg_rows)
        conv_rows.clear()
        msg_rows.clear()

    def short_conversation() -> list[Message]:
        rare = " Zebra." if rng.random() < 0.002 else ""
        return [
            Message.user(sentence(rng, 12) + rare),
            fold([ev.TextDelta(sentence(rng, 80)), ev.Done()]),
            Message.user(sentence(rng, 10)),
            fold([ev.TextDelta(sentence(rng, 120)), ev.Done()]),
        ]

    for i in range(OTHER_USER_CONVERSATIONS):
        add(bob.id, i, short_conversation())
    flush()
    for i in range(CONVERSATIONS - 1):
        add(alice.id, i, short_conversation())
        if len(conv_rows) >= 1000:
            flush()
    flush()

    # The long conversation goes through the repository itself (files included),
    # and last, so it is the newest.
    long_id = repo.create_conversation(
        user_id=alice.id, profile_id="helper", backend="responses"
    ).id
    chart = png_bytes(200, 120)
    for i in range(LONG):
        if i % 2 == 0:
            message = Message.user(sentence(rng, 15))
        else:
            events: list[ev.StreamEvent] = [ev.TextDelta(sentence(rng, 150))]
            if i % 20 == 1:
                events.append(ev.ImageOutput(f"chart{i}.png", chart, "image/png", f"f{i}"))
            message = fold([*events, ev.Done()])
        repo.save_message(user_id=alice.id, conversation_id=long_id, message=message)
    return alice.id, long_id


def timed(fn: Callable[[], object], runs: int) -> float:
    """Median wall time in ms over `runs`, after one warm-up call."""
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def measure(db: Database, runs: int) -> dict[str, float]:
    rng = random.Random(1234)
    t0 = time.perf_counter()
    user_id, long_id = seed(db, rng)
    seeded = time.perf_counter() - t0
    repo = Repository(db)
    first = repo.load_messages(user_id=user_id, conversation_id=long_id, limit=50)
    assert len(first.messages) == 50 and first.before is not None
    assert sum(1 for m in first.messages for p in m.parts if p.kind == "image") >= 2
    results = {
        "seed_s": seeded,
        "open": timed(
            lambda: repo.load_messages(user_id=user_id, conversation_id=long_id, limit=50), runs
        ),
        "older": timed(
            lambda: repo.load_messages(
                user_id=user_id, conversation_id=long_id, limit=50, before=first.before
            ),
            runs,
        ),
        "sidebar": timed(lambda: repo.list_conversations(user_id=user_id, limit=50), runs),
    }
    per_query = {
        q: timed(lambda q=q: repo.search_conversations(user_id=user_id, query=q), runs)
        for q in QUERIES
    }
    results["search"] = statistics.median(per_query.values())
    results["search_max"] = max(per_query.values())
    page = repo.list_conversations(user_id=user_id, limit=50)
    assert page.items[0].id == long_id and page.next_offset == 50
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per figure")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args()

    columns: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
        db = open_url(f"sqlite:///{tmp}/history.db")
        try:
            columns["SQLite"] = measure(db, args.runs)
        finally:
            db.dispose()
    if not args.no_postgres:
        try:
            bindir = find_bindir(install=False)
        except RuntimeError as exc:
            print(f"(PostgreSQL skipped: {exc})")
        else:
            cluster = PgCluster(bindir).start()
            try:
                db = open_url(cluster.create_database("bench"))
                try:
                    columns["PostgreSQL"] = measure(db, args.runs)
                finally:
                    db.dispose()
            finally:
                cluster.stop()

    names = list(columns)
    print(
        f"\nHistory storage: {CONVERSATIONS:,} conversations for one user "
        f"(+{OTHER_USER_CONVERSATIONS:,} of another), one of {LONG:,} messages; "
        f"median of {args.runs} runs\n"
    )
    header = f"{'measure':<34}" + "".join(f"{n + ' ms':>14}{'x target':>10}" for n in names)
    print(header + f"{'target ms':>11}")
    print("-" * len(header + " " * 11))
    labels = {
        "open": "open: newest 50 of 1,000 messages",
        "older": "load older: the 50 before",
        "sidebar": "sidebar: first 50 conversations",
        "search": "search: median of 8 queries",
        "search_max": "search: slowest query",
    }
    for key, label in labels.items():
        target = TARGETS_MS["search" if key == "search_max" else key]
        row = f"{label:<34}"
        for n in names:
            ms = columns[n][key]
            row += f"{ms:>14.1f}{ms / target:>10.3f}"
        print(row + f"{target:>11.0f}")
    print("\n'x target' = measured / target (below 1 is within target).")
    print("seeding took " + ", ".join(f"{n} {columns[n]['seed_s']:.1f} s" for n in names))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
