"""Answers that outlive the page: the worker folds and saves, `LiveAnswers` keeps,
checkpoints and stops them (core/session.py, core/live.py)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

import pytest

from assistants_ui.core import events as ev
from assistants_ui.core.backend import Remote, Route, SendContext
from assistants_ui.core.live import WATCH_GRACE, LiveAnswers
from assistants_ui.core.session import ChatSession, ReplyStream
from assistants_ui.core.transcript import Attachment, Message
from assistants_ui.profiles import Profile

PROFILE = Profile(id="helper", title="Helper", backend="chat", model="m")
END = ev.Done("complete")


class Paced:
    """A backend whose answer is what the test puts on `events`, when it puts it."""

    def __init__(self) -> None:
        self.events: queue.SimpleQueue[ev.StreamEvent | None] = queue.SimpleQueue()
        self.cancelled = threading.Event()

    def route(self, name: str, mime: str) -> Route:
        return Route("inline")

    def open(self) -> Remote:
        return {"conversation": "conv_1"}

    def upload(self, remote: Remote, attachment: Attachment) -> Attachment:
        return attachment

    def send(self, message: Message, context: SendContext) -> Iterator[ev.StreamEvent]:
        while (event := self.events.get(timeout=30)) is not None:
            yield event

    def cancel(self, remote: Remote) -> None:
        self.cancelled.set()

    def delete(self, remote: Remote) -> None:
        pass

    def display_title(self) -> str:
        return "Helper"


class Saved:
    """A recorder that keeps what was saved, and from which thread."""

    def __init__(self) -> None:
        self.saves: list[tuple[str, str, str]] = []  # (kind, status, text)
        self.threads: set[str] = set()
        self.lock = threading.Lock()

    def _note(self, kind: str, message: Message) -> None:
        with self.lock:
            self.saves.append((kind, message.status, message.text))
            self.threads.add(threading.current_thread().name)

    def save_message(self, session: ChatSession, message: Message) -> None:
        session.conversation_id = session.conversation_id or "c1"
        self._note("save", message)

    def start_turn(self, session: ChatSession, question: Message, answer: Message) -> None:
        session.conversation_id = session.conversation_id or "c1"
        self._note("turn", question)

    def checkpoint(self, session: ChatSession, message: Message) -> None:
        self._note("checkpoint", message)

    def save_feedback(self, session: ChatSession, message: Message) -> None:
        pass

    def save_remote(self, session: ChatSession) -> None:
        pass

    def last(self, kind: str) -> tuple[str, str]:
        with self.lock:
            return next((s, t) for k, s, t in reversed(self.saves) if k == kind)


def session(live: LiveAnswers | None = None) -> tuple[ChatSession, Paced, Saved]:
    backend, saved = Paced(), Saved()
    chat = ChatSession(PROFILE, backend, recorder=saved, live=live)
    return chat, backend, saved


def folded(stream: ReplyStream, version: int) -> None:
    """Wait until the worker has folded `version` events."""
    for _ in range(600):
        if stream.version >= version:
            return
        stream.wait(stream.version, 0.05)
    raise AssertionError(f"still at version {stream.version}, not {version}")


def started(chat: ChatSession, backend: Paced, *texts: str) -> None:
    chat.submit("Tell me")
    stream = chat.reply()
    for text in texts:
        backend.events.put(ev.TextDelta(text))
    folded(stream, len(texts) + 1)  # the remote's update, then each delta


def test_an_answer_nobody_follows_runs_to_its_end_and_saves_itself() -> None:
    """No page polls it (a closed tab): the worker folds every event and saves the end."""
    chat, backend, saved = session()
    chat.submit("Tell me")
    stream = chat.reply()
    for text in ("Once ", "upon ", "a time."):
        backend.events.put(ev.TextDelta(text))
    backend.events.put(END)
    backend.events.put(None)
    assert stream._ended.wait(10)
    assert saved.last("save") == ("complete", "Once upon a time.")
    assert "reply" in saved.threads  # saved by the worker, not by a page
    assert chat.active is None and not chat.busy


def test_stop_says_who_stopped_it_keeps_what_came_and_drops_what_comes_after() -> None:
    chat, backend, saved = session()
    started(chat, backend, "Half ")
    stream = chat.active
    assert stream is not None
    stream.cancel("user")
    backend.events.put(ev.TextDelta("more"))  # the server had already sent this
    backend.events.put(None)
    assert backend.cancelled.wait(10)  # the server is asked to stop too
    assert stream.done and stream.message.stopped_by == "user"
    assert saved.last("save") == ("stopped", "Half ")
    stream._thread.join(10)
    assert stream.message.text == "Half "


def test_a_second_page_follows_the_answer_of_the_first() -> None:
    live = LiveAnswers(checkpoint_seconds=60)
    first, backend, _ = session(live)
    started(first, backend, "Shared ")
    assert first.conversation_id is not None
    stream = live.get(first.conversation_id)
    assert stream is first.active
    # Another tab opened the conversation from storage: the saved copy of the answer.
    copy = Message(role="assistant", status="streaming", id=stream.message.id)
    second = ChatSession(PROFILE, backend, messages=[first.messages[0], copy], live=live)
    second.conversation_id = first.conversation_id
    second.follow(stream)
    assert second.busy and second.messages[-1] is stream.message
    backend.events.put(ev.TextDelta("text."))
    backend.events.put(END)
    backend.events.put(None)
    assert stream._ended.wait(10)
    assert second.messages[-1].text == "Shared text." and not second.busy
    assert live.get(first.conversation_id) is None and len(live) == 0


def test_an_answer_whose_question_waits_is_found_by_its_conversation_once_saved() -> None:
    """`ask(later=True)`: kept by its own id until the turn is saved, then by the
    conversation's (a reload opening it follows it), counted once throughout."""
    live = LiveAnswers(checkpoint_seconds=60)
    chat, backend, saved = session(live)
    chat.ask("Tell me", later=True)
    stream = chat.active
    assert stream is not None and chat.conversation_id is None
    assert len(live) == 1 and saved.saves == []
    assert stream.save_turn()
    assert chat.conversation_id == "c1" and live.get("c1") is stream and len(live) == 1
    assert saved.saves == [("turn", "complete", "Tell me")]
    backend.events.put(END)
    backend.events.put(None)
    assert stream._ended.wait(10)
    assert len(live) == 0 and [kind for kind, _, _ in saved.saves] == ["turn", "save"]


def test_housekeeping_checkpoints_what_changed_and_stops_what_nobody_watches() -> None:
    now = [1000.0]
    live = LiveAnswers(checkpoint_seconds=60, unattended_seconds=600, clock=lambda: now[0])
    chat, backend, saved = session(live)
    started(chat, backend, "Once ")
    stream = chat.active
    assert stream is not None
    stream.watched_at = now[0]
    live.sweep()
    assert saved.last("checkpoint") == ("streaming", "Once ")
    count = len(saved.saves)
    live.sweep()  # nothing changed: nothing written
    assert len(saved.saves) == count
    backend.events.put(ev.TextDelta("upon "))
    folded(stream, stream.version + 1)
    live.sweep()
    assert saved.last("checkpoint") == ("streaming", "Once upon ")
    now[0] += 600 + WATCH_GRACE + 1  # nobody has shown it since
    live.sweep()
    assert stream.done and stream.message.stopped_by == "unattended"
    assert saved.last("save") == ("stopped", "Once upon ")
    assert not stream.checkpoint()  # ended: a late checkpoint writes nothing
    backend.events.put(None)


def test_the_shutdown_stops_every_answer_each_saved() -> None:
    live = LiveAnswers(checkpoint_seconds=60)
    chats = [session(live) for _ in range(3)]
    for index, (chat, backend, _) in enumerate(chats):
        chat.conversation_id = f"c{index}"
        started(chat, backend, f"answer {index} ")
    assert live.stop_all("shutdown") == 3
    for index, (chat, backend, saved) in enumerate(chats):
        assert saved.last("save") == ("stopped", f"answer {index} ")
        assert chat.messages[-1].stopped_by == "shutdown"
        backend.events.put(None)
    assert len(live) == 0


@pytest.mark.parametrize("seen", [-1, 0])
def test_wait_returns_at_once_when_the_answer_has_ended(seen: int) -> None:
    chat, backend, _ = session()
    chat.submit("Tell me")
    stream = chat.reply()
    backend.events.put(END)
    backend.events.put(None)
    assert stream._ended.wait(10)
    assert stream.wait(seen, 30.0)  # no wait: ended


class SlowEnd(Saved):
    """A recorder whose save of the ended answer waits until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()

    def save_message(self, session: ChatSession, message: Message) -> None:
        if message.role == "assistant" and message.ended:
            assert self.go.wait(10)
        super().save_message(session, message)


def test_a_page_has_the_final_text_while_the_end_is_still_being_saved() -> None:
    """The page paints an answer's last words when they are final, not when the save
    (waiting its turn for the database) is done; `saved` then waits for that."""
    backend, recorder = Paced(), SlowEnd()
    chat = ChatSession(PROFILE, backend, recorder=recorder)
    chat.submit("Tell me")
    stream = chat.reply()
    backend.events.put(ev.TextDelta("All of it."))
    backend.events.put(END)
    backend.events.put(None)
    seen = -1
    for _ in range(200):
        if stream.wait(seen, 0.05, saved=False):
            break
        seen = stream.version
    else:
        raise AssertionError("the final text never came")
    assert stream.message.text == "All of it." and stream.message.status == "complete"
    assert not stream.done and not stream.saved(0.05)  # its save still waits
    assert not stream.wait(stream.version, 0.05)  # the default waits for the save
    recorder.go.set()
    assert stream.saved(10) and stream.done
    assert recorder.last("save") == ("complete", "All of it.")
