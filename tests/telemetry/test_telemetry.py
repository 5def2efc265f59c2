"""Telemetry (issue 25, item 7): each answer's trace, the metrics, and an endpoint that is down.

Real where it counts: the traces leave through the OpenTelemetry SDK's own
OTLP/HTTP exporter and arrive at a receiver on 127.0.0.1 that decodes them with
the protocol's generated classes (`fakes/otlp.py`); the metrics are scraped
over HTTP from the port the app serves them on and parsed by
`prometheus_client`'s own parser. The answers come from the fake OpenAI server,
the tools from a real MCP server over stdio, the storage is SQLite.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from assistants_ui import telemetry
from assistants_ui.backends.chat import backend as chat
from assistants_ui.backends.responses import backend as responses
from assistants_ui.core import observe
from assistants_ui.core.live import LiveAnswers
from assistants_ui.core.session import ChatSession
from assistants_ui.core.transcript import Message
from assistants_ui.profiles import Connection, McpServerSettings, Profile
from assistants_ui.settings import load_settings
from assistants_ui.storage import Repository, StorageRecorder, open_url
from browser_support import free_port
from fakes.chat_routes import chat_chunks, chat_text, chat_title, chat_tool_calls
from fakes.mcp_servers import stdio_settings
from fakes.otlp import OtlpReceiver, ReceivedSpan
from fakes.responses_routes import ResponseScript
from fakes.server import Error, FakeOpenAI, Stream

WEATHER = "fakes.sample_functions:get_weather"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def stopped() -> Iterator[None]:
    """Whatever a test starts is stopped after it (telemetry is the process's)."""
    yield
    telemetry.stop()
    assert observe.current() is None


@pytest.fixture(scope="module")
def clock() -> Iterator[McpServerSettings]:
    settings = stdio_settings("clock", timeout=5)
    yield settings
    from assistants_ui.tools.mcp import server_for

    server_for(settings).close()


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Repository]:
    database = open_url(f"sqlite:///{tmp_path / 'history.db'}")
    try:
        yield Repository(database)
    finally:
        database.dispose()


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as r:
        yield r


def start(**settings: Any) -> telemetry.Telemetry:
    loaded, problems = load_settings(**settings)
    assert not problems, problems
    running = telemetry.start(loaded, sessions=lambda: 3)
    assert running is not None
    return running


def session(
    fake: FakeOpenAI,
    repo: Repository,
    *,
    backend: str = "chat",
    live: LiveAnswers | None = None,
    **values: Any,
) -> ChatSession:
    conn = Connection(
        id=f"tel-{backend}",
        type="openai",
        base_url=fake.base_url,
        api_key="sk-test",
        max_retries=0,
        timeout=20,
    )
    prof = Profile(
        **{"id": "helper", "title": "Helper", "backend": backend, "connection": conn.id},
        model="m",
        **values,
    )
    factory = chat if backend == "chat" else responses
    user = repo.ensure_user(auth_provider="password", subject="ann", display_name="Ann")
    recorder = StorageRecorder(repo, user_id=user.id)
    return ChatSession(
        prof, factory.create(prof, conn, load_settings()[0]), recorder=recorder, live=live
    )


def ask(chat_session: ChatSession, question: str) -> Message:
    chat_session.submit(question, [])
    return chat_session.reply().run_to_end()


def one(spans: list[ReceivedSpan], name: str) -> ReceivedSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, (name, sorted(s.name for s in spans))
    return found[0]


def children(spans: list[ReceivedSpan], parent: ReceivedSpan) -> list[str]:
    return sorted(s.name for s in spans if s.parent_id == parent.span_id)


# -- traces ------------------------------------------------------------------------------


def test_an_answer_is_one_trace_with_its_request_tool_calls_and_storage(
    fake: FakeOpenAI, repo: Repository, receiver: OtlpReceiver, clock: McpServerSettings
) -> None:
    fake.expect(
        "chat.completions",
        chat_tool_calls(
            ("c1", "city_time", '{"city": "Rome"}'),
            ("c2", "get_weather", '{"city": "Rome"}'),
            usage=(5, 2),
        ),
        chat_text(["Noon and sunny."], usage=(9, 4)),
    )
    start(otel_exporter_otlp_endpoint=receiver.url)
    chat_session = session(fake, repo, functions=(WEATHER,), mcp_servers=(clock,))
    answer = ask(chat_session, "Time and weather in Rome?")
    assert answer.status == "complete" and answer.text == "Noon and sunny."
    telemetry.stop()  # sends what is queued

    spans = receiver.spans
    root = one(spans, "invoke_agent helper")
    assert root.parent_id == "" and root.kind == "internal" and root.status == "unset"
    assert root["gen_ai.agent.id"] == "helper" and root["gen_ai.agent.name"] == "Helper"
    assert root["gen_ai.conversation.id"] == chat_session.conversation_id
    assert root["assistants_ui.message.id"] == answer.id
    assert (root["gen_ai.usage.input_tokens"], root["gen_ai.usage.output_tokens"]) == (14, 6)
    assert root["assistants_ui.status"] == "complete"
    assert root["assistants_ui.first_words_seconds"] > 0
    assert root.resource["service.name"] == "assistants-ui"
    assert {s.trace_id for s in spans} == {root.trace_id}  # one trace, nothing else sent

    request = one(spans, "chat m")
    assert request.parent_id == root.span_id and request.kind == "client"
    assert request["gen_ai.operation.name"] == "chat" and request["gen_ai.request.model"] == "m"
    assert request["assistants_ui.backend"] == "chat"
    assert "gen_ai.usage.output_tokens" in request.attributes

    mcp = one(spans, "execute_tool city_time")
    assert mcp.parent_id == request.span_id
    assert mcp["assistants_ui.mcp.server"] == "clock" and mcp["gen_ai.tool.call.id"] == "c1"
    assert mcp["gen_ai.tool.type"] == "extension" and mcp.status == "unset"
    function = one(spans, "execute_tool get_weather")
    assert function.parent_id == request.span_id
    assert function["gen_ai.tool.type"] == "function"
    assert "assistants_ui.mcp.server" not in function.attributes

    stored = [s for s in spans if s.name.startswith("storage ")]
    saves = [s for s in stored if s.name == "storage Messages.save_message"]
    assert len(saves) >= 2  # the answer begun, the answer ended
    assert all(s.parent_id == root.span_id and s.kind == "client" for s in stored)
    assert all(s["db.operation.name"] == s.name.removeprefix("storage ") for s in stored)
    # Nothing anyone wrote or read is in a span: no question, no answer, no tool output.
    dumped = json.dumps([s.attributes for s in spans])
    for words in ("Time and weather", "Noon and sunny", "It is 12:00", "Rome"):
        assert words not in dumped


def test_a_failed_answer_carries_its_failure_code(
    fake: FakeOpenAI, repo: Repository, receiver: OtlpReceiver
) -> None:
    fake.expect("chat.completions", Error(401, "Incorrect API key", code="invalid_api_key"))
    start(otel_exporter_otlp_endpoint=receiver.url)
    answer = ask(session(fake, repo), "Hello?")
    assert answer.status == "failed" and answer.error and answer.error.code == "key_refused"
    telemetry.stop()

    root = one(receiver.spans, "invoke_agent helper")
    assert (root.status, root.status_message) == ("error", "key_refused")
    assert root["error.type"] == "key_refused" and root["assistants_ui.status"] == "failed"
    assert "assistants_ui.first_words_seconds" not in root.attributes  # no words came
    request = one(receiver.spans, "chat m")
    assert request.parent_id == root.span_id
    assert (request.status, request["error.type"]) == ("error", "key_refused")


def test_hosted_tools_and_file_search_are_spans_of_the_answer(
    fake: FakeOpenAI, repo: Repository, receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCS_MCP_AUTH", "Bearer docs-token")
    results = [
        {"file_id": "file-a", "filename": "q3.pdf", "score": 0.91, "text": "Revenue grew 12%."},
        {"file_id": "file-b", "filename": "costs.docx", "score": 0.5, "text": "Costs fell 3%."},
    ]
    script = (
        ResponseScript()
        .file_search(["q3"], results)
        .mcp_call("docs", "search_docs", '{"query": "q3"}', output="3 pages found")
        .text(["Up 12%."])
    )
    fake.expect("responses.create", script.stream())
    docs = {
        "server_label": "docs",
        "server_url": "https://mcp.example.com/sse",
        "headers_env": {"Authorization": "DOCS_MCP_AUTH"},
        "allowed_tools": ["search_docs"],
        "require_approval": "never",
    }
    start(otel_exporter_otlp_endpoint=receiver.url)
    chat_session = session(
        fake,
        repo,
        backend="responses",
        tools=("file_search",),
        vector_store_ids=("vs_1",),
        hosted_mcp=(docs,),
    )
    answer = ask(chat_session, "Q3?")
    assert answer.status == "complete"
    telemetry.stop()

    spans = receiver.spans
    root = one(spans, "invoke_agent helper")
    request = one(spans, "chat m")
    assert request["assistants_ui.backend"] == "responses"
    retrieval = one(spans, "retrieval file_search")
    assert retrieval.parent_id == request.span_id and retrieval.trace_id == root.trace_id
    assert retrieval["gen_ai.operation.name"] == "retrieval"
    assert retrieval["assistants_ui.passages"] == 2
    hosted = one(spans, "execute_tool search_docs")
    assert hosted.parent_id == request.span_id
    assert hosted["assistants_ui.mcp.server"] == "docs" and hosted["assistants_ui.tool.hosted"]


# -- metrics -----------------------------------------------------------------------------


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(port: int) -> Samples:
    """Every sample of `/metrics`, parsed by prometheus_client's parser: (name, labels) -> value."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def test_metrics_count_answers_tokens_failures_times_streams_sessions_and_storage(
    fake: FakeOpenAI, repo: Repository
) -> None:
    port = free_port()
    start(metrics_port=port, metrics_address="127.0.0.1")
    live = LiveAnswers(checkpoint_seconds=60, unattended_seconds=None)
    chat_session = session(fake, repo, live=live)

    fake.expect("chat.completions", chat_text(["Hello", " there."], usage=(9, 4)))
    assert ask(chat_session, "Hi").status == "complete"
    fake.expect("chat.completions", Error(500, "The server had an error"))
    assert ask(chat_session, "Again").status == "failed"

    paused = Stream(chat_chunks(["Still", " going."], usage=(3, 2)), pause_after=2)
    fake.expect("chat.completions", paused)
    chat_session.submit("And now?", [])
    stream = chat_session.reply()
    during = scrape(port)
    paused.resume.set()
    stream.run_to_end()
    after = scrape(port)

    assert value(during, "assistants_ui_answers_streaming") == 1
    assert value(after, "assistants_ui_answers_streaming") == 0
    assert value(after, "assistants_ui_sessions") == 3
    answers = "assistants_ui_answers_total"
    assert value(after, answers, assistant="helper", backend="chat", status="complete") == 2
    assert value(after, answers, assistant="helper", backend="chat", status="failed") == 1
    assert value(after, "assistants_ui_tokens_total", assistant="helper", type="input") == 12
    assert value(after, "assistants_ui_tokens_total", assistant="helper", type="output") == 6
    failures = "assistants_ui_answer_failures_total"
    assert value(after, failures, assistant="helper", code="server_error") == 1
    assert [dict(labels) for name, labels in after if name == failures] == [
        {"assistant": "helper", "code": "server_error"}
    ]
    # Two answers had words; all three have an answer time.
    assert value(after, "assistants_ui_first_words_seconds_count", assistant="helper") == 2
    assert value(after, "assistants_ui_answer_seconds_count", assistant="helper") == 3
    assert value(after, "assistants_ui_answer_seconds_sum", assistant="helper") > 0
    saves = value(after, "assistants_ui_storage_seconds_count", operation="Messages.save_message")
    assert saves >= 6  # three questions, three answers begun and ended
    assert value(after, "assistants_ui_storage_seconds_sum", operation="Messages.save_message") > 0


def test_traces_and_metrics_together(
    fake: FakeOpenAI, repo: Repository, receiver: OtlpReceiver
) -> None:
    port = free_port()
    start(otel_exporter_otlp_endpoint=receiver.url, metrics_port=port, metrics_address="127.0.0.1")
    fake.expect("chat.completions", chat_text(["Both."], usage=(2, 1)))
    assert ask(session(fake, repo), "Hi").status == "complete"
    samples = scrape(port)
    telemetry.stop()
    answers = "assistants_ui_answers_total"
    assert value(samples, answers, assistant="helper", backend="chat", status="complete") == 1
    assert one(receiver.spans, "invoke_agent helper")["gen_ai.usage.input_tokens"] == 2


# -- bad input ---------------------------------------------------------------------------


def test_an_endpoint_that_is_down_costs_one_warning_and_answers_go_on(
    fake: FakeOpenAI,
    repo: Repository,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each export gives up within 3 s (the SDK retries a refused connection once after ~1 s).
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "3")
    port = free_port()  # nothing listens there
    running = start(otel_exporter_otlp_endpoint=f"http://127.0.0.1:{port}")
    assert running.tracing is not None
    chat_session = session(fake, repo)
    caplog.set_level(logging.INFO)
    # The title the model writes after the first answer (its own thread) warns of nothing.
    fake.expect("chat.title", chat_title("Two questions"))
    for n in range(2):  # two answers, each batch of spans tried (twice) and refused
        fake.expect("chat.completions", chat_text([f"Answer {n}."]))
        assert ask(chat_session, f"Question {n}").status == "complete"
        running.tracing.flush()
    where = f"http://127.0.0.1:{port}/v1/traces"
    warned = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warned] == [
        f"Traces cannot be sent to {where} (Connection refused). Answers go on; their traces "
        "are dropped until it answers (OTEL_EXPORTER_OTLP_ENDPOINT)."
    ]
    assert warned[0].name == "assistants_ui.telemetry.tracing"

    # The endpoint comes back: said once, and the next answer's trace arrives.
    with OtlpReceiver(port) as back:
        fake.expect("chat.completions", chat_text(["Back."]))
        assert ask(chat_session, "Back?").status == "complete"
        running.tracing.flush()
        back.wait_for(lambda spans: any(s.name == "invoke_agent helper" for s in spans))
    assert f"Traces reach {where} again." in [r.getMessage() for r in caplog.records]
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1


def test_an_answer_never_waits_for_the_exporter(
    fake: FakeOpenAI, repo: Repository, receiver: OtlpReceiver
) -> None:
    running = start(otel_exporter_otlp_endpoint=receiver.url)
    assert running.tracing is not None
    chat_session = session(fake, repo)
    fake.expect("chat.completions", chat_text(["First."]))
    assert ask(chat_session, "One").status == "complete"

    receiver.hold()  # the collector takes the next export and does not answer
    exporting = threading.Thread(target=running.tracing.flush, daemon=True)
    exporting.start()
    assert receiver.arrived.wait(30), "the first answer's spans were not exported"
    # While that export hangs, another answer runs to its end and is saved.
    fake.expect("chat.completions", chat_text(["Second."]))
    chat_session.submit("Two", [])
    stream = chat_session.reply()
    ended = threading.Event()
    threading.Thread(target=lambda: (stream.run_to_end(), ended.set()), daemon=True).start()
    assert ended.wait(60), "the answer waited for the collector"
    second = stream.message
    assert second.status == "complete" and second.text == "Second."
    assert exporting.is_alive() and not receiver.spans  # still waiting on the collector
    receiver.release()
    exporting.join(30)
    telemetry.stop()
    assert len([s for s in receiver.spans if s.name == "invoke_agent helper"]) == 2


def test_a_metrics_port_in_use_is_one_warning_and_the_app_goes_on(
    fake: FakeOpenAI, repo: Repository, caplog: pytest.LogCaptureFixture
) -> None:
    with OtlpReceiver() as busy:  # something already listens on that port
        settings, _ = load_settings(metrics_port=busy.port, metrics_address="127.0.0.1")
        with caplog.at_level(logging.WARNING):
            assert telemetry.start(settings) is None
        [warning] = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert warning == (
            f"METRICS_PORT={busy.port}: cannot listen on 127.0.0.1:{busy.port} "
            "(Address already in use); no metrics are served."
        )
        assert observe.current() is None
        fake.expect("chat.completions", chat_text(["Fine."]))
        assert ask(session(fake, repo), "Hi").text == "Fine."


def test_bad_settings_are_one_sentence_each(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318")
    monkeypatch.setenv("METRICS_PORT", "70000")
    _, problems = load_settings()
    endpoint, port = (str(p) for p in problems)
    assert endpoint.startswith("OTEL_EXPORTER_OTLP_ENDPOINT: ")
    assert "must start with http:// or https:// (got 'collector:4318')" in endpoint
    assert port == "METRICS_PORT: Input should be less than or equal to 65535 (got '70000')"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", " ")
    monkeypatch.setenv("METRICS_PORT", " ")
    settings, problems = load_settings()
    assert not problems
    assert settings.otel_exporter_otlp_endpoint is None and settings.metrics_port is None


# -- costs nothing when not configured -----------------------------------------------------

NOTHING_CONFIGURED = """
import sys
from assistants_ui import telemetry
from assistants_ui.core import observe
from assistants_ui.core import events as ev
from assistants_ui.core.session import ChatSession
from assistants_ui.settings import load_settings
import assistants_ui.runtime, assistants_ui.web.server
from scripted import PROFILE, ScriptedBackend

assert telemetry.start(load_settings()[0]) is None
assert observe.current() is None
session = ChatSession(PROFILE, ScriptedBackend([ev.TextDelta("Hi."), ev.Done()]))
session.submit("Hello", [])
stream = session.reply()
assert stream.telemetry is observe.NO_WATCH
assert stream.run_to_end().text == "Hi."
loaded = sorted(m for m in sys.modules if m.startswith(("opentelemetry.sdk", "prometheus_client")))
print(loaded)
"""


def test_nothing_configured_imports_no_telemetry_library(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", NOTHING_CONFIGURED],
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "PYTHONPATH": f"{ROOT / 'tests'}:{ROOT / 'tests' / 'storage'}",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


HIDDEN = """
import sys
class Hide:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "prometheus_client" or name.startswith("opentelemetry.exporter"):
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, Hide())
from assistants_ui.cli import main
sys.exit(main(["check", "--offline"]))
"""


def test_a_setting_without_its_library_is_named_by_check(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", HIDDEN],
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "METRICS_PORT": "9464",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
            "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    lines = [line for line in done.stdout.splitlines() if "telemetry" in line]
    missing = (
        "is set, but the telemetry libraries are not installed: "
        "pip install 'assistants-ui[telemetry]' (make run and the image install them)"
    )
    assert len(lines) == 2, done.stdout
    assert "METRICS_PORT" in lines[0] or "METRICS_PORT" in lines[1]
    assert all(missing in line for line in lines), done.stdout
