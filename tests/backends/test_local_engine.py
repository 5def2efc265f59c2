"""The in-process model: real generation with the bundled GGUF (short outputs)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from assistants_ui.backends.chat.backend import ChatBackend
from assistants_ui.backends.chat.local_engine import (
    EngineChunk,
    LocalEngine,
    LocalModelError,
    bundled_model_path,
    check_model_file,
    default_threads,
)
from assistants_ui.core.session import ChatSession
from assistants_ui.core.transcript import NoticePart
from assistants_ui.profiles import Connection, Profile

pytestmark = pytest.mark.local_model


@pytest.fixture(scope="module")
def engine() -> LocalEngine:
    return LocalEngine.get(None, context_tokens=1024, threads=None)


def local_session(max_output_tokens: int | None = 12, **conn: object) -> ChatSession:
    connection = Connection(id="local", type="local", **conn)  # type: ignore[arg-type]
    profile = Profile(
        id="local",
        title="Local",
        backend="chat",
        connection="local",
        instructions="You are helpful.",
        max_output_tokens=max_output_tokens,
    )
    return ChatSession(profile, ChatBackend(profile, connection))


def test_bundled_model_is_found_without_importing_llm() -> None:
    import sys

    path = bundled_model_path()
    assert path is not None and path.suffix == ".gguf" and path.stat().st_size > 50_000_000
    assert "llm" not in sys.modules
    assert check_model_file(None) == path


def test_the_engine_is_shared_per_process(engine: LocalEngine) -> None:
    assert LocalEngine.get(None, context_tokens=1024, threads=None) is engine


def test_real_tokens_stream_through_the_session() -> None:
    chat = local_session(context_tokens=1024, max_tokens=12)
    chat.submit("Say hello.")
    deltas: list[int] = []
    stream = chat.reply()
    while not stream.poll(0.02):
        deltas.append(len(stream.message.text))
    answer = stream.message
    assert answer.text.strip(), "the model said nothing"
    assert answer.status in ("complete", "incomplete")
    assert answer.output_tokens > 0 and answer.input_tokens > 0
    assert len({d for d in deltas if d}) > 1, "the answer did not stream"


@pytest.mark.parametrize(
    ("assistants", "connections", "said"),
    [(6, 200, "(6 tokens, max_output_tokens)"), (None, 6, "(6 tokens, LOCAL_MAX_TOKENS)")],
)
def test_an_answer_cut_at_its_length_limit_names_the_setting_that_set_it(
    assistants: int | None, connections: int, said: str
) -> None:
    """The assistant's `max_output_tokens` wins over the connection's LOCAL_MAX_TOKENS,
    and the notice names the one that applied (it named LOCAL_MAX_TOKENS either way)."""
    chat = local_session(assistants, context_tokens=1024, max_tokens=connections)
    chat.submit("Write a long story about a lighthouse.")
    stream = chat.reply()
    while not stream.poll(0.05):
        pass
    notices = [p.text for p in stream.message.parts if isinstance(p, NoticePart)]
    assert stream.message.status == "incomplete", notices
    assert notices == [f"The answer reached its length limit {said}."]


def test_chat_template_comes_from_the_gguf(engine: LocalEngine) -> None:
    template = engine.llama.metadata["tokenizer.chat_template"]
    assert engine.formatter.template == template
    tokens, stop, _, _ = engine.fit([{"role": "user", "content": "hi"}], 16)
    prompt = engine.llama.detokenize(tokens, special=True).decode()
    assert "<|im_start|>user\nhi<|im_end|>" in prompt  # SmolLM2's ChatML template
    assert stop == ["<|im_end|>"]


def test_long_conversation_drops_oldest_turns(engine: LocalEngine) -> None:
    turns = [{"role": "system", "content": "Be brief."}]
    for i in range(60):
        turns.append({"role": "user", "content": f"question {i} " + "word " * 40})
        turns.append({"role": "assistant", "content": f"answer {i} " + "word " * 40})
    turns.append({"role": "user", "content": "the last question"})
    tokens, _, dropped, truncated = engine.fit(turns, 128)
    assert len(tokens) + 128 <= engine.context_tokens
    assert dropped > 0 and not truncated
    prompt = engine.llama.detokenize(tokens, special=True).decode()
    assert "Be brief." in prompt and "the last question" in prompt
    assert "question 0 " not in prompt


def test_one_huge_message_is_cut_from_the_front(engine: LocalEngine) -> None:
    text = "filler " * 3000 + "FINAL QUESTION?"
    tokens, _, _, truncated = engine.fit([{"role": "user", "content": text}], 64)
    assert truncated
    assert len(tokens) + 64 <= engine.context_tokens
    assert "FINAL QUESTION?" in engine.llama.detokenize(tokens, special=True).decode()


def test_long_conversation_still_answers() -> None:
    chat = local_session(context_tokens=512, max_tokens=8)
    for i in range(12):
        chat.submit(f"Tell me fact number {i} about the sea, " + "please " * 20)
        answer = chat.reply().run_to_end()
        assert answer.status in ("complete", "incomplete"), answer.error
    kinds = [p.kind for p in chat.messages[-1].parts]
    assert "notice" in kinds  # told that older turns were left out


def test_concurrent_users_wait_their_turn(engine: LocalEngine) -> None:
    results: dict[str, list[str]] = {}
    inside = []
    lock_seen = threading.Lock()

    def run(name: str) -> None:
        chunks = []
        for c in engine.stream(
            [{"role": "user", "content": f"Count to five, {name}."}], max_tokens=10
        ):
            if c.text:
                with lock_seen:
                    inside.append(name)
                chunks.append(c.text)
        results[name] = chunks

    threads = [threading.Thread(target=run, args=(n,)) for n in ("a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert set(results) == {"a", "b", "c"}
    # Serialised: each user's tokens form one contiguous run.
    runs = [k for i, k in enumerate(inside) if i == 0 or inside[i - 1] != k]
    assert sorted(runs) == ["a", "b", "c"]


def test_cancel_releases_the_model_quickly(engine: LocalEngine) -> None:
    cancelled = threading.Event()
    got = 0
    start = time.monotonic()
    for c in engine.stream(
        [{"role": "user", "content": "Write a long essay."}], max_tokens=400, cancelled=cancelled
    ):
        got += bool(c.text)
        if got == 3:
            cancelled.set()
    assert got <= 5
    assert engine.generate_lock.acquire(timeout=1)
    engine.generate_lock.release()
    assert time.monotonic() - start < 10


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda d: d / "missing.gguf", "does not exist"),
        (lambda d: (d / "x.gguf").write_text("not a model") and d / "x.gguf", "not a GGUF"),
        (lambda d: d, "is not a file"),
    ],
)
def test_bad_model_path_is_explained(tmp_path: Path, make: object, words: str) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(LocalModelError, match=words) as info:
        check_model_file(path)
    assert "LOCAL_MODEL_PATH" in str(info.value)
    chat = local_session(model_path=path)
    chat.submit("hi")
    answer = chat.reply().run_to_end()
    assert answer.error is not None and words in answer.error.reason
    assert not answer.error.retryable


@pytest.mark.parametrize(("cpus", "threads"), [(None, 1), (1, 1), (2, 1), (4, 3), (32, 8)])
def test_default_threads_leave_a_cpu_to_the_page(
    monkeypatch: pytest.MonkeyPatch, cpus: int | None, threads: int
) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: cpus)
    assert default_threads() == threads


def test_the_local_model_writes_a_title_within_its_token_limit(engine: LocalEngine) -> None:
    from assistants_ui.core.titles import TITLE_TOKENS, title_request
    from assistants_ui.core.transcript import Message, TextPart

    chat = local_session(context_tokens=1024, max_tokens=12)
    question = Message.user("Plan a three day trip to Lisbon for me.")
    answer = Message("assistant", [TextPart("Day one: Alfama and the castle. Day two: Belém.")])
    assert isinstance(chat.backend, ChatBackend)
    written = chat.backend.title(title_request(question, answer, "en"))
    assert written.strip()
    tokens = engine.llama.tokenize(written.encode(), add_bos=False, special=False)
    assert len(tokens) <= TITLE_TOKENS + 1  # a token may detokenize to a split


def test_a_title_gives_the_model_up_to_an_answer_waiting_for_it(engine: LocalEngine) -> None:
    """A title (a background request) holding the model ends at its next token once an
    answer waits: the answer's first words never wait for a title."""
    from assistants_ui.backends.chat.local_engine import YIELDED

    title = engine.stream(
        [{"role": "user", "content": "Write a long essay about the sea."}],
        max_tokens=200,
        wait_notice=False,
        yields=True,
    )
    first = next(title)  # the title is being written: it holds the model
    assert first.text and first.finish_reason is None
    answered: list[str] = []

    def answer() -> None:
        for chunk in engine.stream([{"role": "user", "content": "Say hello."}], max_tokens=4):
            answered.append(chunk.text)

    thread = threading.Thread(target=answer)
    thread.start()
    deadline = time.monotonic() + 30
    while engine._waiting == 0 and time.monotonic() < deadline:  # the answer waits now
        thread.join(0.01)
    assert engine._waiting == 1
    rest = list(title)
    assert [c.finish_reason for c in rest] == [YIELDED]  # at once, nothing more written
    thread.join(60)
    assert "".join(answered).strip()
    assert engine._waiting == 0


def test_the_shutdown_waits_for_what_the_model_is_writing_and_lets_nothing_start(
    engine: LocalEngine,
) -> None:
    """`LocalEngine.close_all`: a title being written when the server stops is finished
    first (llama.cpp torn down under it crashed the process: exit 139), and no
    generation starts after it."""
    chunks: list[EngineChunk] = []
    writing = threading.Event()

    def title() -> None:
        for chunk in engine.stream([{"role": "user", "content": "Name this chat."}], max_tokens=16):
            writing.set()
            chunks.append(chunk)

    thread = threading.Thread(target=title, daemon=True)
    thread.start()
    assert writing.wait(60)
    try:
        assert LocalEngine.close_all(60) == 0
        assert chunks[-1].finish_reason is not None  # it had finished when that returned
        assert engine.generate_lock.locked()  # and nothing may start now
    finally:  # the other tests use the models: every one close_all took is given back
        for each in LocalEngine._instances.values():
            if each.generate_lock.locked():
                each.generate_lock.release()
    thread.join(10)
