"""Bad input at the websocket: a client gone mid-answer, sessions that never send, a burst.

The app runs as `make run` starts it (`assistants-ui run`, a real process) and
is driven through Streamlit's own websocket protocol (`streamlit_client`), as
`bench/load.py` drives it: the server keeps serving the others, the gone
session's answer runs to its end and is stored (or is stopped, saved, once
nobody watched it for UNATTENDED_ANSWER_MINUTES), and its threads end.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistants_ui.storage import Repository, open_url
from browser_support import app_command, free_port, serving
from fakes.chat_routes import chat_chunks, chat_text
from fakes.server import FakeOpenAI, Stream
from streamlit_client import PageSession, Run, run_isolated

TIMEOUT = 60
WORDS = [f"w{i} " for i in range(400)]  # 400 words, 20 s at 50 ms each


READ_TIMEOUT = "3"  # OPENAI_TIMEOUT: how long a silent model server holds a worker


@pytest.fixture
def app(
    tmp_path: Path, fake: FakeOpenAI, request: pytest.FixtureRequest
) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {
        **getattr(request, "param", {}),
        "OPENAI_BASE_URL": fake.base_url,
        "OPENAI_MODEL": "m",
        "OPENAI_MAX_RETRIES": "0",
        "OPENAI_TIMEOUT": READ_TIMEOUT,
        "HOME": str(tmp_path / "home"),
        "ENABLED_FILE_UPLOAD_MESSAGE": "",
    }
    with (
        (tmp_path / "app.log").open("wb") as log,
        serving(app_command(port), port, cwd=tmp_path, env=env, output=log) as (url, proc),
    ):
        yield url, proc.pid


def threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def wait_for(what: str, check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not {what} after {TIMEOUT} s")
        time.sleep(0.1)


def stored_answers(db: Path) -> list[tuple[str, str]]:
    """(status, text of the parts) of every stored answer."""
    if not db.exists():
        return []
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT status, parts FROM messages WHERE role = 'assistant'").fetchall()
    return [(status, str(parts)) for status, parts in rows]


async def opened(url: str) -> PageSession:
    page = await PageSession.open(url)
    await page.run(timeout=TIMEOUT)
    assert page.chat_input_id, "the page's first run painted no chat input"
    return page


def warmed_threads(url: str, pid: int, fake: FakeOpenAI, sessions: int) -> int:
    """The app's threads once `sessions` pages were open at once and one answered.

    The first runs start threads that stay for the process's life (thread pools
    grown to the load, the database's), so "nothing left behind" is measured
    against the same load played once before.
    """
    fake.expect("chat.completions", chat_text(["Warm."]))

    async def warm_up() -> None:
        pages = await asyncio.gather(*(opened(url) for _ in range(sessions)))
        await pages[0].chat("Warm up.", timeout=TIMEOUT)
        for page in pages:
            page.abort()

    run_isolated(warm_up())
    return settled_threads(pid)


def settled_threads(pid: int) -> int:
    """The thread count once it stayed the same for a second."""
    counts = [-1]

    def steady() -> bool:
        time.sleep(1)
        counts.append(threads(pid))
        return counts[-1] == counts[-2]

    wait_for("steady", steady)
    return counts[-1]


class _Seen(Exception):
    """Enough of the answer has arrived."""


def until_w20(run: Run) -> None:
    """Stop reading once the answer's 21st word is on the page."""
    if "w20" in run.text:
        raise _Seen


def stored_stops(db: Path) -> list[tuple[str, str | None]]:
    """(status, who stopped it) of every stored answer."""
    with sqlite3.connect(db) as con:
        query = "SELECT status, stopped_by FROM messages WHERE role = 'assistant'"
        return [(status, by) for status, by in con.execute(query).fetchall()]


def test_a_client_gone_mid_answer_leaves_it_running_to_its_end_and_frees_its_threads(
    app: tuple[str, int], fake: FakeOpenAI, tmp_path: Path
) -> None:
    url, pid = app
    before = warmed_threads(url, pid, fake, 2)
    fake.expect("chat.completions", chat_text(WORDS, delay=0.02), chat_text(["Still ", "here."]))

    async def scenario() -> Run:
        gone, other = await opened(url), await opened(url)

        with pytest.raises(_Seen):
            await gone.chat("Write a lot.", on_text=until_w20, timeout=TIMEOUT)
        assert threads(pid) > before  # the answer's worker (and the script's thread) run
        gone.abort()  # no close handshake: a closed laptop, a lost network
        answer = await other.chat("Are you there?", timeout=TIMEOUT)
        await other.close()
        await asyncio.to_thread(
            wait_for, "back to the threads before", lambda: threads(pid) <= before
        )
        return answer

    answer = run_isolated(scenario())
    assert "Still here." in answer.text and not answer.errors
    db = tmp_path / "data" / "assistants-ui.db"
    wait_for("stored whole", lambda: any("w399" in text for _, text in stored_answers(db)))
    (whole,) = [(status, text) for status, text in stored_answers(db) if "w399" in text]
    assert whole[0] == "complete"  # nobody pressed Stop: the answer ran to its end
    assert "w0 w1 w2" in whole[1]
    assert len(fake.calls("chat.completions")) == 1 + 2  # the warm-up, then once per answer


def test_a_client_gone_while_the_model_server_is_silent_frees_its_worker_too(
    app: tuple[str, int], fake: FakeOpenAI, tmp_path: Path
) -> None:
    """The worker blocked on a server that stopped sending ends at the read timeout,
    and what had arrived is stored with the failure."""
    url, pid = app
    before = warmed_threads(url, pid, fake, 1)
    fake.expect("chat.completions", Stream(chat_chunks(WORDS), hang_after=30))

    async def scenario() -> None:
        gone = await opened(url)

        with pytest.raises(_Seen):
            await gone.chat("Write a lot.", on_text=until_w20, timeout=TIMEOUT)
        gone.abort()

    run_isolated(scenario())
    db = tmp_path / "data" / "assistants-ui.db"
    wait_for("stored", lambda: any(s == "failed" for s, _ in stored_answers(db)))
    (partial,) = [text for status, text in stored_answers(db) if status == "failed"]
    assert "w0 w1 w2" in partial and "w20" in partial
    assert "timeout" in partial or "stream_cut" in partial
    wait_for("back to the threads before", lambda: threads(pid) <= before)


@pytest.mark.parametrize("app", [{"UNATTENDED_ANSWER_MINUTES": "0"}], indirect=True)
def test_an_answer_nobody_watches_is_stopped_by_the_server_once_the_operator_says_so(
    app: tuple[str, int], fake: FakeOpenAI, tmp_path: Path
) -> None:
    """UNATTENDED_ANSWER_MINUTES=0: stopped as soon as no page shows it, kept so far."""
    url, _ = app
    fake.expect("chat.completions", chat_text(WORDS, delay=0.05))

    async def scenario() -> None:
        gone = await opened(url)
        with pytest.raises(_Seen):
            await gone.chat("Write a lot.", on_text=until_w20, timeout=TIMEOUT)
        gone.abort()

    run_isolated(scenario())
    db = tmp_path / "data" / "assistants-ui.db"
    wait_for("stopped", lambda: any(s == "stopped" for s, _ in stored_answers(db)))
    assert stored_stops(db) == [("stopped", "unattended")]
    (partial,) = [text for status, text in stored_answers(db) if status == "stopped"]
    assert "w20" in partial and "w399" not in partial


def test_a_crash_mid_answer_keeps_what_was_shown_marked_cut_off_with_retry(
    tmp_path: Path, fake: FakeOpenAI
) -> None:
    """`kill -9` mid-answer, restart, reopen: at least 90% of what the page showed a
    second before the kill is there, marked cut off, with Retry."""
    env = {
        "OPENAI_BASE_URL": fake.base_url,
        "OPENAI_MODEL": "m",
        "HOME": str(tmp_path / "home"),
        "ENABLED_FILE_UPLOAD_MESSAGE": "",
    }
    fake.expect("chat.completions", chat_text(WORDS, delay=0.05))
    shown: list[tuple[float, str]] = []  # (when, the answer's text the page showed)

    def until_killed(proc: subprocess.Popen[bytes]) -> Callable[[Run], None]:
        def seen(run: Run) -> None:
            now = time.monotonic()
            shown.append((now, run.text))
            if "w100" in run.text and now - next(t for t, text in shown if "w100" in text) > 1.5:
                proc.kill()  # SIGKILL: no shutdown hook, no last save
                raise _Seen

        return seen

    port = free_port()
    with (
        (tmp_path / "app.log").open("wb") as log,
        serving(app_command(port), port, cwd=tmp_path, env=env, output=log) as (url, proc),
    ):

        async def crash() -> None:
            page = await opened(url)
            with pytest.raises(_Seen):
                await page.chat("Write a lot.", on_text=until_killed(proc), timeout=TIMEOUT)
            page.abort()

        run_isolated(crash())
        killed_at = time.monotonic()
        proc.wait(timeout=TIMEOUT)
    before = [text for t, text in shown if t <= killed_at - 1.0][-1]
    # The page paints a growing paragraph in pieces: the words it showed are w0..wN.
    words_before = 1 + max(int(w[1:]) for w in re.findall(r"\bw\d+\b", before))
    db = tmp_path / "data" / "assistants-ui.db"
    with sqlite3.connect(db) as con:
        (cid, user_id) = con.execute("SELECT id, user_id FROM conversations").fetchone()
    # Reopened as the page reopens it (the guest's cookie is not this client's to send;
    # tests/e2e/test_day_of_use_browser.py reopens it in Chromium).
    database = open_url(f"sqlite:///{db}")
    try:
        answer = Repository(database).load_messages(user_id=user_id, conversation_id=cid)
    finally:
        database.dispose()
    cut = answer.messages[-1]
    assert cut.status == "failed" and cut.error is not None and cut.error.retryable
    assert "cut off" in cut.error.reason
    kept_words = cut.text.split()
    assert kept_words == [w.strip() for w in WORDS[: len(kept_words)]]
    assert len(kept_words) >= 0.9 * words_before, (len(kept_words), words_before)


def test_silent_sessions_and_a_burst_do_not_keep_others_from_being_served(
    app: tuple[str, int], fake: FakeOpenAI
) -> None:
    url, pid = app
    before = warmed_threads(url, pid, fake, 22)
    fake.expect("chat.completions", chat_text(["Served ", "anyway."], delay=0.05))

    async def scenario() -> Run:
        silent = await PageSession.open(url)  # a websocket that never sends a thing
        idle = await opened(url)  # a page loaded and never used
        burst = await asyncio.gather(*(opened(url) for _ in range(20)))
        answer = await burst[-1].chat("Hello?", timeout=TIMEOUT)
        for page in [silent, idle, *burst]:
            page.abort()
        return answer

    answer = run_isolated(scenario())
    assert "Served anyway." in answer.text and not answer.errors
    assert answer.status == "FINISHED_SUCCESSFULLY"
    # Every session's script run ended: no thread was left behind by the 22 sessions.
    wait_for("back to the threads before", lambda: threads(pid) <= before)
