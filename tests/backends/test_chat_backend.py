"""The Chat Completions backend through the official SDK against the fake server."""

from __future__ import annotations

import time

import pytest

from assistants_ui.backends.chat.backend import ChatBackend
from assistants_ui.core.session import ChatSession
from assistants_ui.core.transcript import Attachment, Message
from assistants_ui.profiles import Connection, Profile
from fakes.chat_routes import chat_chunks, chat_text, models_list
from fakes.server import SSE, Error, FakeOpenAI, Hang, Stream


def session(
    fake: FakeOpenAI,
    *,
    model: str | None = "m",
    retries: int = 2,
    timeout: float = 10,
    **profile: object,
) -> ChatSession:
    conn = Connection(
        id=f"t{time.monotonic_ns()}",
        type="openai",
        base_url=fake.base_url,
        api_key="sk-test",
        max_retries=retries,
        timeout=timeout,
    )
    prof = Profile(
        id="p",
        title="P",
        backend="chat",
        connection=conn.id,
        model=model,
        upload_types=("txt", "csv", "png"),
        **profile,
    )  # type: ignore[arg-type]
    return ChatSession(prof, ChatBackend(prof, conn))


def ask(chat: ChatSession, text: str, attachments: list[Attachment] | None = None) -> Message:
    chat.submit(text, attachments or [])
    return chat.reply().run_to_end()


def test_streamed_text_and_request_shape(fake: FakeOpenAI) -> None:
    fake.expect("chat.completions", chat_text(["Hel", "lo", "!"], usage=(7, 3)))
    chat = session(fake, instructions="Be brief.", temperature=0.3)
    answer = ask(chat, "Hi")
    assert answer.status == "complete"
    assert answer.text == "Hello!"
    assert (answer.input_tokens, answer.output_tokens) == (7, 3)
    body = fake.calls("chat.completions")[0].body
    assert body["model"] == "m"
    assert body["stream"] is True
    assert body["temperature"] == 0.3
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]
    assert fake.calls("chat.completions")[0].headers["authorization"] == "Bearer sk-test"


def test_history_is_resent_without_failed_answers(fake: FakeOpenAI) -> None:
    chat = session(fake, retries=0)
    fake.expect(
        "chat.completions",
        chat_text(["one"]),
        Error(500, "boom", "server_error"),
        chat_text(["three"]),
    )
    ask(chat, "first")
    failed = ask(chat, "second")
    assert failed.status == "failed"
    chat.reply().run_to_end()  # Retry the same question
    sent = fake.calls("chat.completions")[-1].body["messages"]
    assert sent == [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "one"},
        {"role": "user", "content": "second"},
    ]
    assert [m.role for m in chat.messages] == [
        "user",
        "assistant",
        "user",
        "assistant",
        "assistant",
    ]


def test_text_attachments_are_inlined(fake: FakeOpenAI) -> None:
    chat = session(fake)
    ask(chat, "Sum it", [Attachment("n.csv", "text/csv", b"a,b\n1,2\n")])
    content = fake.calls("chat.completions")[0].body["messages"][-1]["content"]
    assert "Attached file `n.csv`" in content
    assert "a,b\n1,2" in content
    assert content.endswith("Sum it")


def test_images_are_refused_with_a_reason(fake: FakeOpenAI) -> None:
    chat = session(fake)
    (check,) = chat.check_uploads([("cat.png", "image/png", 10)])
    assert not check.ok
    assert "not known to see images" in check.reason
    assert fake.requests == []


def test_upload_type_and_size_checked_before_sending(fake: FakeOpenAI) -> None:
    chat = session(fake, max_upload_mb=0.001)
    exe, big, ok = chat.check_uploads(
        [
            ("x.exe", "application/octet-stream", 10),
            ("big.txt", "text/plain", 5000),
            ("ok.txt", "text/plain", 10),
        ]
    )
    assert not exe.ok and ".exe files are not accepted" in exe.reason
    assert not big.ok and "MB limit" in big.reason
    assert ok.ok
    assert fake.requests == []


def test_401_is_explained_and_not_retryable(fake: FakeOpenAI) -> None:
    fake.expect("chat.completions", Error(401, "Incorrect API key", code="invalid_api_key"))
    answer = ask(session(fake), "Hi")
    assert answer.status == "failed"
    assert answer.error is not None
    assert "refused the API key (401)" in answer.error.reason
    assert "OPENAI_API_KEY" in answer.error.reason
    assert not answer.error.retryable
    assert len(fake.calls("chat.completions")) == 1


def test_429_then_success_is_retried_by_the_sdk(fake: FakeOpenAI) -> None:
    fake.expect(
        "chat.completions",
        Error(429, "slow down", "rate_limit_error", headers={"retry-after-ms": "10"}),
        chat_text(["ok"]),
    )
    answer = ask(session(fake, retries=2), "Hi")
    assert answer.status == "complete"
    assert answer.text == "ok"
    assert len(fake.calls("chat.completions")) == 2


def test_429_until_retries_run_out(fake: FakeOpenAI) -> None:
    slow = Error(429, "slow down", "rate_limit_error", headers={"retry-after-ms": "10"})
    fake.expect("chat.completions", slow, slow)
    answer = ask(session(fake, retries=1), "Hi")
    assert answer.error is not None
    assert "rate limiting" in answer.error.reason
    assert answer.error.retryable


def test_500_after_retries(fake: FakeOpenAI) -> None:
    boom = Error(500, "internal", "server_error", headers={"retry-after-ms": "10"})
    fake.expect("chat.completions", boom, boom, boom)
    answer = ask(session(fake, retries=2), "Hi")
    assert answer.error is not None
    assert "failed (500) after 2 automatic retries" in answer.error.reason
    assert len(fake.calls("chat.completions")) == 3


def test_an_answer_keeps_its_generation_time_for_tokens_per_second(fake: FakeOpenAI) -> None:
    fake.expect("chat.completions", chat_text(["a", "b", "c"], delay=0.02, usage=(5, 3)))
    answer = ask(session(fake), "Hi")
    assert answer.seconds > 0  # first event to last: the fake waits between chunks
    assert Message.from_dict(answer.to_dict()).seconds == answer.seconds
    assert Message.user("Hi").seconds == 0.0  # a question has none


def test_stream_cut_midway_keeps_the_partial_answer(fake: FakeOpenAI) -> None:
    fake.expect("chat.completions", Stream(chat_chunks(["par", "tial", " more"]), cut_after=3))
    answer = ask(session(fake, retries=0), "Hi")
    assert answer.status == "failed"
    assert answer.text == "partial"
    assert answer.error is not None and answer.error.retryable
    assert "broke while the answer was streaming" in answer.error.reason


def test_an_error_sent_inside_the_stream_keeps_the_text_and_names_it(fake: FakeOpenAI) -> None:
    # vLLM and LiteLLM-style proxies report a failure mid-answer as a data event of its own.
    events = chat_chunks(["half ", "an answer"], finish=None, usage=None)
    events.append(SSE({"error": {"message": "the GPU ran out of memory", "code": 500}}))
    fake.expect("chat.completions", Stream(events))
    answer = ask(session(fake, retries=0), "Hi")
    assert answer.status == "failed"
    assert answer.text == "half an answer"
    assert answer.error is not None
    assert "the GPU ran out of memory" in answer.error.reason


def test_stream_closed_without_finish_is_a_failure(fake: FakeOpenAI) -> None:
    fake.expect(
        "chat.completions",
        Stream(chat_chunks(["half"], finish=None, usage=None), done_marker=False),
    )
    answer = ask(session(fake), "Hi")
    assert answer.status == "failed"
    assert answer.text == "half"


def test_server_that_never_answers_times_out(fake: FakeOpenAI) -> None:
    fake.expect("chat.completions", Hang())
    start = time.monotonic()
    answer = ask(session(fake, retries=0, timeout=0.5), "Hi")
    assert time.monotonic() - start < 5
    assert answer.error is not None
    assert "did not answer in time" in answer.error.reason


def test_unreachable_server_names_the_setting() -> None:
    conn = Connection(
        id="dead", type="openai", base_url="http://127.0.0.1:9/v1", max_retries=0, timeout=2
    )
    prof = Profile(id="p", title="P", backend="chat", connection="dead", model="m")
    chat = ChatSession(prof, ChatBackend(prof, conn))
    answer = ask(chat, "Hi")
    assert answer.error is not None
    assert "Cannot reach the server at http://127.0.0.1:9/v1" in answer.error.reason
    assert "OPENAI_BASE_URL" in answer.error.reason


def test_length_finish_is_incomplete(fake: FakeOpenAI) -> None:
    fake.expect("chat.completions", chat_text(["cut"], finish="length"))
    answer = ask(session(fake), "Hi")
    assert answer.status == "incomplete"


def test_refusal_is_shown_as_such(fake: FakeOpenAI) -> None:
    fake.expect("chat.completions", chat_text([], refusal="I can't help with that."))
    answer = ask(session(fake), "Hi")
    assert [p.kind for p in answer.parts] == ["refusal"]


def test_model_defaults_to_the_servers_first(fake: FakeOpenAI) -> None:
    fake.expect("models.list", models_list(["llama3.2", "other"]))
    ask(session(fake, model=None), "Hi")
    assert fake.calls("chat.completions")[0].body["model"] == "llama3.2"


def test_stop_closes_the_stream_and_keeps_the_partial(fake: FakeOpenAI) -> None:
    fake.expect("chat.completions", Stream(chat_chunks(["a"] * 200), delay=0.02))
    chat = session(fake)
    chat.submit("long please")
    stream = chat.reply()
    while "aaa" not in stream.message.text:
        stream.poll(0.05)
    stream.cancel()
    assert stream.message.status == "stopped"
    kept = stream.message.text
    assert kept.startswith("aaa") and len(kept) < 200
    assert chat.active is None
    # The conversation goes on.
    fake.expect("chat.completions", chat_text(["next"]))
    assert ask(chat, "again").text == "next"


@pytest.mark.parametrize("pieces", [["x" * 10] * 50])
def test_poll_bounds_folds_per_frame(fake: FakeOpenAI, pieces: list[str]) -> None:
    fake.expect("chat.completions", Stream(chat_chunks(pieces), delay=0.005))
    chat = session(fake)
    chat.submit("go")
    stream = chat.reply()
    frames = 0
    while not stream.poll(0.1):
        frames += 1
    assert stream.message.text == "".join(pieces)
    assert frames < 10  # ~0.25 s of deltas folded in a handful of frames, not 50
