"""Capabilities per connection: a feature the server refuses, in whatever error-body
shape, is dropped for that connection and the request sent again once; what was
learned is kept for the process and printed by `assistants-ui check`."""

from __future__ import annotations

from typing import Any

import pytest
from test_responses_backend import ask, body, make

from assistants_ui.backends.capabilities import refused_feature
from assistants_ui.core.transcript import ErrorPart, NoticePart
from fakes.responses_routes import text_reply
from fakes.server import Error, FakeOpenAI, Json

OGX_WORDS = "OGX does not yet support 'stream' and 'background' together."

SHAPES: dict[str, Any] = {
    "openai": Error(400, "Unsupported parameter: 'background'."),
    "fastapi-detail": Json({"detail": OGX_WORDS}, status=400),
    "fastapi-validation": Json(
        {"detail": [{"loc": ["body", "background"], "msg": "Extra inputs are not permitted"}]},
        status=422,
    ),
    "error-string": Json({"error": "background: not implemented"}, status=400),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_a_refused_background_mode_is_dropped_and_the_request_sent_again(
    fake: FakeOpenAI, shape: str
) -> None:
    fake.expect("responses.create", SHAPES[shape], text_reply(["fine"]))
    chat, backend = make(fake)
    answer = ask(chat, "hi")
    assert answer.text == "fine" and answer.status == "complete"
    first, second = fake.calls("responses.create")
    assert first.body["background"] is True and "background" not in second.body
    learned = backend.capabilities.known()["background"]
    assert learned.supported is False and learned.reason
    # Remembered for the connection: the next answer does not ask again.
    fake.expect("responses.create", text_reply(["again"]))
    assert ask(chat, "more").text == "again"
    assert "background" not in body(fake)
    assert len(fake.calls("responses.create")) == 3


def test_a_refused_hosted_tool_is_dropped_and_the_page_told(fake: FakeOpenAI) -> None:
    refusal = Json({"detail": "Tool type 'web_search' is not supported"}, status=400)
    fake.expect("responses.create", refusal, text_reply(["without it"]))
    chat, backend = make(fake, tools=("web_search",))
    answer = ask(chat, "news?")
    assert answer.text == "without it"
    [notice] = [p for p in answer.parts if isinstance(p, NoticePart)]
    assert "web_search" in notice.text and "not supported" in notice.text
    assert "tools" not in body(fake)
    assert backend.capabilities.known()["tool:web_search"].supported is False


def test_a_refusal_naming_no_optional_feature_is_shown_not_retried(
    fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    fake.expect("responses.create", Json({"detail": "Model 'gpt-test' not found."}, status=400))
    chat, _ = make(fake)
    with caplog.at_level("WARNING", logger="assistants_ui.core.session"):
        answer = ask(chat, "hi")
    [error] = [p for p in answer.parts if isinstance(p, ErrorPart)]
    assert "Model 'gpt-test' not found" in error.reason
    assert len(fake.calls("responses.create")) == 1
    # The log says the same as the page.
    [line] = [r.getMessage() for r in caplog.records if "answer failed" in r.getMessage()]
    assert error.reason in line


def test_a_feature_refused_again_is_not_retried_forever(fake: FakeOpenAI) -> None:
    words = Json({"detail": "include is not supported here"}, status=400)
    fake.expect("responses.create", words, words, words)
    chat, _ = make(fake, tools=("file_search",), vector_store_ids=("vs_1",))
    ask(chat, "hi")
    sent = fake.calls("responses.create")
    assert len(sent) == 2  # once with include, once without; then the error is shown
    assert "include" in sent[0].body and "include" not in sent[1].body


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (OGX_WORDS, "background"),
        ("Unknown include value: file_search_call.results", "include:file_search_call.results"),
        ("file_search tool is not available", "tool:file_search"),
        ("Unrecognized request argument supplied: stream_options", "stream_usage"),
        ("The model is overloaded", None),
        ("Vector store vs_1 for file_search not found", None),  # missing, not unsupported
    ],
)
def test_which_feature_a_reason_names(reason: str, expected: str | None) -> None:
    sent = ["background", "include:file_search_call.results", "tool:file_search", "stream_usage"]
    assert refused_feature(400, reason, sent) == expected
    assert refused_feature(500, reason, sent) is None  # a failure is not a refusal


def test_chat_drops_stream_options_where_refused(fake: FakeOpenAI) -> None:
    from test_chat_backend import ask as chat_ask
    from test_chat_backend import session

    from fakes.chat_routes import chat_text

    refusal = Json({"detail": "Unrecognized request argument supplied: stream_options"}, status=400)
    fake.expect("chat.completions", refusal, chat_text(["Hi"]), chat_text(["Again"]))
    chat = session(fake)
    assert chat_ask(chat, "Hello").text == "Hi"
    first, second = fake.calls("chat.completions")
    assert "stream_options" in first.body and "stream_options" not in second.body
    assert chat_ask(chat, "More").text == "Again"
    assert "stream_options" not in fake.calls("chat.completions")[-1].body


def test_chat_learns_that_usage_is_reported(fake: FakeOpenAI) -> None:
    from test_chat_backend import ask as chat_ask
    from test_chat_backend import session

    from assistants_ui.backends.capabilities import capabilities_for
    from fakes.chat_routes import chat_text

    fake.expect("chat.completions", chat_text(["Hi"], usage=(5, 1)))
    chat = session(fake)
    chat_ask(chat, "Hello")
    connection = chat.backend.connection  # type: ignore[attr-defined]
    assert capabilities_for(connection).known()["stream_usage"].supported is True
