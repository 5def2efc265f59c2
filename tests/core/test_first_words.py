"""First words first (core.first_words): work nobody waits for steps aside while answers
wait on this process for their first words, never for long, never for the model."""

from __future__ import annotations

import threading

from test_live_answers import PROFILE, Paced, Saved, folded, session

from assistants_ui.core import events as ev
from assistants_ui.core.backend import Remote
from assistants_ui.core.first_words import FIRST_WORDS, FirstWords
from assistants_ui.core.session import ChatSession
from assistants_ui.core.transcript import Attachment


def stepping_aside(words: FirstWords, limit: float = 60, me: object = None) -> threading.Thread:
    thread = threading.Thread(target=words.step_aside, args=(limit, me), daemon=True)
    thread.start()
    return thread


def test_nobody_waiting_nobody_steps_aside() -> None:
    thread = stepping_aside(FirstWords())
    thread.join(10)
    assert not thread.is_alive()


def test_work_steps_aside_until_the_first_words_are_out() -> None:
    words, answer = FirstWords(expire=120), object()
    words.waiting_on_us(answer)
    thread = stepping_aside(words)
    thread.join(0.3)
    assert thread.is_alive() and len(words) == 1  # still waiting for them
    words.not_on_us(answer)
    thread.join(10)
    assert not thread.is_alive() and len(words) == 0


def test_an_answer_does_not_wait_for_itself() -> None:
    words, answer = FirstWords(expire=120), object()
    words.waiting_on_us(answer)
    thread = stepping_aside(words, me=answer)
    thread.join(10)
    assert not thread.is_alive()
    assert words.waits(answer)


def test_an_answer_nobody_paints_holds_nobody_up_for_long() -> None:
    """Its tab closed, its first words are never painted: it counts no longer than
    `expire`, and the work waiting for it goes on."""
    words, answer = FirstWords(expire=0.2), object()
    words.waiting_on_us(answer)
    thread = stepping_aside(words)
    thread.join(10)
    assert not thread.is_alive()
    assert not words.waits(answer)


def test_the_limit_bounds_the_wait() -> None:
    words = FirstWords(expire=120)
    words.waiting_on_us(object())
    thread = stepping_aside(words, limit=0.1)
    thread.join(10)
    assert not thread.is_alive()


def test_an_answer_waits_on_us_until_its_request_is_out_and_again_until_it_is_shown() -> None:
    """Its first words: from the start to the request, then from the first event to the
    page's paint; the model's own time is not counted, nor anything after the end."""
    chat, backend, _ = session()
    chat.submit("Tell me")
    stream = chat.reply()
    assert FIRST_WORDS.waits(stream) or stream.requested_at is not None
    for _ in range(600):  # until the request is on its way
        if stream.requested_at is not None:
            break
        stream.wait(stream.version, 0.05)
    assert not FIRST_WORDS.waits(stream)  # the model's turn: nobody steps aside for it
    backend.events.put(ev.TextDelta("Hello"))
    folded(stream, 2)
    assert FIRST_WORDS.waits(stream)  # arrived, not yet painted
    stream.shown()
    assert not FIRST_WORDS.waits(stream)
    backend.events.put(ev.Done("complete"))
    backend.events.put(None)
    assert stream._ended.wait(10)
    assert not FIRST_WORDS.waits(stream)


def test_an_answer_that_ends_before_it_is_painted_waits_no_more() -> None:
    chat, backend, _ = session()
    chat.submit("Tell me")
    stream = chat.reply()
    backend.events.put(ev.TextDelta("Hi"))
    backend.events.put(ev.Done("complete"))
    backend.events.put(None)
    assert stream._ended.wait(10)
    assert not FIRST_WORDS.waits(stream)


class SlowUpload(Paced):
    """Uploads a file only when the test says so."""

    def __init__(self) -> None:
        super().__init__()
        self.uploading = threading.Event()
        self.go_on = threading.Event()

    def upload(self, remote: Remote, attachment: Attachment) -> Attachment:
        self.uploading.set()
        assert self.go_on.wait(30)
        return attachment


def test_nobody_steps_aside_for_an_answers_own_upload() -> None:
    """A 20 MB file being read and sent is that answer's own large job: the others go
    on meanwhile, and its request still waits on us once the upload is done."""
    backend = SlowUpload()
    chat = ChatSession(PROFILE, backend, recorder=Saved())
    chat.submit("Read this", [Attachment(name="notes.txt", mime="text/plain", data=b"x" * 10)])
    stream = chat.reply()
    try:
        assert backend.uploading.wait(30)
        assert not FIRST_WORDS.waits(stream)
    finally:
        backend.go_on.set()
    backend.events.put(ev.Done("complete"))
    backend.events.put(None)
    assert stream._ended.wait(10)
    assert not FIRST_WORDS.waits(stream)
