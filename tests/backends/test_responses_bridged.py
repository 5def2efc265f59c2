"""Streams that bend the spec: a gateway that bridges the Responses API onto Chat
Completions gives the deltas and each "done" event of one message an item id of its
own, all at output_index 0, and repeats the whole text in every "done" event.

Against the fake server over real HTTP, through the official SDK (`bridged` in
tests/fakes/responses_routes.py); every event is validated against OpenAI's
OpenAPI document. The answer shows each text once, and it is the text that
`response.completed` lists.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from test_responses_backend import ask, make, parts

from assistants_ui.backends.responses.backend import ResponsesBackend
from assistants_ui.core import events as ev
from assistants_ui.core.backend import SendContext
from assistants_ui.core.transcript import Message, ReasoningPart, RefusalPart, TextPart
from fakes.responses_routes import ResponseScript, request_problems, url_citation
from fakes.server import FakeOpenAI


@pytest.fixture(autouse=True)
def requests_match_the_schema(fake: FakeOpenAI) -> Iterator[None]:
    yield
    problems = request_problems(fake)
    assert not problems, "\n".join(problems)


def completed(script: ResponseScript, kind: str = "output_text") -> list[str]:
    """The texts (or refusals, or summaries) `response.completed` lists, in order."""
    out = []
    for item in script.output:
        for content in item.get("content", []) + item.get("summary", []):
            if content["type"] == kind:
                out.append(content["refusal" if kind == "refusal" else "text"])
    return out


def events_of(backend: ResponsesBackend) -> list[ev.StreamEvent]:
    context = SendContext(history=[], remote={}, cancelled=threading.Event())
    return list(backend.send(Message.user("Go"), context))


def answer_to(fake: FakeOpenAI, script: ResponseScript) -> Message:
    fake.expect("responses.create", script.stream())
    chat, _ = make(fake)
    answer = ask(chat, "Go")
    assert answer.status == "complete", answer.parts
    return answer


def test_deltas_and_three_done_events_with_ids_of_their_own_show_the_text_once(
    fake: FakeOpenAI,
) -> None:
    script = ResponseScript().bridged(["The answer ", "is ", "42."])
    answer = answer_to(fake, script)
    assert [p.text for p in parts(answer, TextPart)] == ["The answer is 42."]
    assert answer.text == "".join(completed(script))


def test_the_done_events_alone_show_the_text_once(fake: FakeOpenAI) -> None:
    script = ResponseScript().bridged(["Only ", "the done events."], deltas=False)
    answer = answer_to(fake, script)
    assert [p.text for p in parts(answer, TextPart)] == ["Only the done events."]
    assert answer.text == "".join(completed(script))


def test_a_text_only_the_completed_response_lists_is_shown(fake: FakeOpenAI) -> None:
    """Nothing streamed, no done event: the answer is not left empty and complete."""
    script = ResponseScript().bridged(["Listed ", "at the end."], deltas=False, dones=False)
    answer = answer_to(fake, script)
    assert answer.text == "Listed at the end." == "".join(completed(script))


def test_the_items_final_text_wins_over_the_deltas(fake: FakeOpenAI) -> None:
    script = ResponseScript().bridged(["Helo ", "wrld."], final="Hello, world.")
    fake.expect("responses.create", script.stream())
    _, backend = make(fake)
    events = events_of(backend)
    assert [e for e in events if isinstance(e, ev.Replace)] == [
        ev.Replace("text", 0, "Hello, world.")
    ]
    fake.expect("responses.create", script.stream())
    answer = answer_to(fake, script)
    assert [p.text for p in parts(answer, TextPart)] == ["Hello, world."]
    assert answer.text == "".join(completed(script))


def test_a_done_event_that_repeats_the_deltas_replaces_nothing(fake: FakeOpenAI) -> None:
    """The page repaints a replaced text whole: the same text is no reason to."""
    fake.expect("responses.create", ResponseScript().bridged(["Same ", "text."]).stream())
    _, backend = make(fake)
    events = events_of(backend)
    assert [e for e in events if isinstance(e, ev.Replace)] == []
    assert [e.text for e in events if isinstance(e, ev.TextDelta)] == ["Same ", "text."]


def test_citations_listed_again_by_every_done_event_are_kept_once(fake: FakeOpenAI) -> None:
    cite = url_citation("https://example.com/r", "Report", 4, 10)
    script = ResponseScript().bridged(["See ", "report."], annotations=[cite])
    answer = answer_to(fake, script)
    [text] = parts(answer, TextPart)
    assert text.text == "See report."
    assert [(c.url, c.start, c.end) for c in text.citations] == [("https://example.com/r", 4, 10)]


def test_two_messages_both_at_output_index_0_each_show_once(fake: FakeOpenAI) -> None:
    script = ResponseScript().bridged(["First ", "message. "]).bridged(["Second."], deltas=False)
    answer = answer_to(fake, script)
    assert answer.text == "First message. Second." == "".join(completed(script))


def test_a_bridged_refusal_shows_once_and_its_final_word_wins(fake: FakeOpenAI) -> None:
    script = ResponseScript().bridged(["I can't ", "help."], refusal=True)
    answer = answer_to(fake, script)
    assert [p.text for p in parts(answer, RefusalPart)] == ["I can't help."]
    script = ResponseScript().bridged(["I cant"], refusal=True, final="I can't help with that.")
    answer = answer_to(fake, script)
    assert [p.text for p in parts(answer, RefusalPart)] == completed(script, "refusal")
    assert completed(script, "refusal") == ["I can't help with that."]


@pytest.mark.parametrize(
    ("pieces", "options"),
    [(["Weighing ", "the data."], {"deltas": False}), (["Weighing"], {"final": "Weighing it."})],
    ids=["done-events-only", "final-text-differs"],
)
def test_a_bridged_reasoning_summary_shows_once_as_the_response_lists_it(
    fake: FakeOpenAI, pieces: list[str], options: dict[str, Any]
) -> None:
    script = ResponseScript().bridged_reasoning(pieces, **options).bridged(["42."])
    answer = answer_to(fake, script)
    assert [p.text for p in parts(answer, ReasoningPart)] == completed(script, "summary_text")
    assert answer.text == "42."
