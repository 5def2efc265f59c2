"""Benchmark: what branches add to opening a long conversation (SQLite).

    .venv/bin/python -m bench.branch_tree

Opening a conversation first finds the branch shown: the database walks it
up from its last message (a recursive query) and returns the newest 50.
This seeds one conversation of 1,000 messages as one branch and times, in
CPU time of this process (so that a loaded machine does not blur it), the
median of 30 runs of:

* `load_messages(limit=50)`: what the page calls when it opens it;
* the branch alone: the walk up 1,000 messages, the newest 50 ids returned;
* the query the page used before branches (the newest 50 by `seq`).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import insert, select, update

from assistants_ui.core.transcript import Message, TextPart
from assistants_ui.storage import Repository, open_url
from assistants_ui.storage.branches import branch as walk_branch
from assistants_ui.storage.branches import leaf
from assistants_ui.storage.codec import encode_message
from assistants_ui.storage.messages import message_of
from assistants_ui.storage.models import Conversation, StoredMessage

MESSAGES = 1_000


def cpu_ms(work: Callable[[], object], runs: int = 30) -> float:
    work()
    times = []
    for _ in range(runs):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return statistics.median(times) * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = open_url(f"sqlite:///{Path(tmp) / 'history.db'}")
        repo = Repository(db)
        user = repo.ensure_user(auth_provider="password", subject="bench")
        cid = repo.create_conversation(user_id=user.id, profile_id="p", backend="chat").id
        rows, parent = [], None
        for seq in range(1, MESSAGES + 1):
            if seq % 2:
                message = Message.user(f"question {seq} " * 40)
            else:
                message = Message(role="assistant", parts=[TextPart(f"answer {seq} " * 80)])
            encoded = encode_message(message)
            rows.append(
                {
                    "conversation_id": cid,
                    "id": message.id,
                    "seq": seq,
                    "parent_id": parent,
                    "role": message.role,
                    "status": "complete",
                    "parts": encoded.parts,
                    "attachments": encoded.attachments,
                    "text_folded": encoded.text_folded,
                    "input_tokens": 0,
                    "output_tokens": 0,
                    "created_at": message.created_at,
                }
            )
            parent = message.id
        with db.session() as s:
            s.execute(insert(StoredMessage), rows)
            s.execute(update(Conversation).where(Conversation.id == cid).values(last_seq=MESSAGES))

        def tree() -> None:
            with db.session() as s:
                branch = walk_branch(cid, leaf(s, cid, None))
                s.execute(select(branch.c.id).order_by(branch.c.seq.desc()).limit(51)).all()

        def before_branches() -> None:
            with db.session() as s:
                newest = s.scalars(
                    select(StoredMessage)
                    .where(StoredMessage.conversation_id == cid)
                    .order_by(StoredMessage.seq.desc())
                    .limit(51)
                ).all()
                [message_of(r, {}) for r in newest[:50]]

        print(f"Opening a conversation of {MESSAGES:,} messages, SQLite, CPU ms (median of 30)")

        def opening() -> None:
            repo.load_messages(user_id=user.id, conversation_id=cid, limit=50)

        print(f"load_messages(limit=50)            {cpu_ms(opening):7.2f}")
        print(f"  of which the branch walk         {cpu_ms(tree):7.2f}")
        print(f"the newest 50 by seq (no branches) {cpu_ms(before_branches):7.2f}")
        db.dispose()


if __name__ == "__main__":
    main()
