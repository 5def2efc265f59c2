"""The Assistants backend through the official SDK, over real HTTP, against the fake server.

Runs are scripted with `fakes.assistants_scripts`; every event and object the
fake sends is validated against OpenAI's OpenAPI schemas (the `fake` fixture
fails a test otherwise).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from assistants_ui.backends.assistants.backend import AssistantsBackend, create
from assistants_ui.core.backend import BackendError
from assistants_ui.core.citations import annotate
from assistants_ui.core.session import ChatSession
from assistants_ui.core.transcript import (
    Attachment,
    FilePart,
    ImagePart,
    Message,
    NoticePart,
    RefusalPart,
    TextPart,
    ToolPart,
)
from assistants_ui.profiles import DEFAULT_UPLOAD_TYPES, Connection, Profile
from assistants_ui.settings import load_settings
from fakes.assistants_scripts import (
    Cut,
    Hang,
    add_assistant,
    cite,
    code,
    error_event,
    file_search,
    function_call,
    image_message,
    link,
    refusal,
    script,
    text,
)
from fakes.files_routes import add_file
from fakes.server import Error, FakeOpenAI

pytestmark = [
    pytest.mark.filterwarnings("ignore:The Assistants API is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning"),
]

CI = {"type": "code_interpreter"}
FS = {"type": "file_search"}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 3
BINARY = bytes(range(256)) * 8 + b"\x00\xff\r\n"


def make(
    fake: FakeOpenAI,
    *,
    tools: list[dict[str, Any]] | None = None,
    name: str | None = "Data helper",
    retries: int = 2,
    title: str = "asst_fake",
    **profile: Any,
) -> tuple[ChatSession, AssistantsBackend]:
    add_assistant(fake, name=name, tools=[CI, FS] if tools is None else tools)
    conn = Connection(
        id=f"t{time.monotonic_ns()}",
        type="openai",
        base_url=fake.base_url,
        api_key="sk-test",
        max_retries=retries,
        timeout=10,
    )
    prof = Profile(
        id="asst_fake",
        title=title,
        backend="assistants",
        connection=conn.id,
        assistant_id="asst_fake",
        upload_types=DEFAULT_UPLOAD_TYPES,
        **profile,
    )
    backend = create(prof, conn, load_settings()[0])
    return ChatSession(prof, backend), backend


def ask(chat: ChatSession, words: str, attachments: list[Attachment] | None = None) -> Message:
    chat.submit(words, attachments or [])
    return chat.reply().run_to_end()


def parts(answer: Message, kind: type[Any]) -> list[Any]:
    return [p for p in answer.parts if isinstance(p, kind)]


def body(fake: FakeOpenAI, route: str, index: int = -1) -> Any:
    return fake.calls(route)[index].body


# -- answers ------------------------------------------------------------------------------


def test_text_in_a_thread_per_conversation(fake: FakeOpenAI) -> None:
    chat, _ = make(fake, instructions="Answer in French.", temperature=0.2)
    script(fake, text("Bon", "jour", " !"))
    answer = ask(chat, "Hi")
    assert answer.status == "complete"
    assert answer.text == "Bonjour !"
    assert (answer.input_tokens, answer.output_tokens) == (12, 34)
    thread = chat.remote["thread"]
    assert thread.startswith("thread_")
    assert chat.remote["run"] == ""  # the run ended
    assert body(fake, "messages.create")["content"] == [{"type": "text", "text": "Hi"}]
    run = body(fake, "runs.create")
    assert run["assistant_id"] == "asst_fake"
    assert run["stream"] is True
    # RUN_INSTRUCTIONS / the profile's instructions add to the assistant's own.
    assert run["additional_instructions"] == "Answer in French."
    assert "instructions" not in run
    assert run["temperature"] == 0.2

    script(fake, text("Encore."))
    assert ask(chat, "Again").text == "Encore."
    assert len(fake.calls("threads.create")) == 1
    assert chat.remote["thread"] == thread
    stored = fake.state["threads"][thread]["messages"]
    assert [m["role"] for m in stored] == ["user", "assistant", "user", "assistant"]


def test_code_logs_chart_and_a_generated_file_with_exact_bytes(fake: FakeOpenAI) -> None:
    chat, _backend = make(fake)
    chart = add_file(fake, "/mnt/data/chart.png", PNG)
    data = add_file(fake, "/mnt/data/report.xlsx", BINARY)
    script(
        fake,
        code(("import pandas as pd\n", "df.plot()"), logs="saved\n", images=(chart,)),
        text(
            "Here is [the report](sandbox:/mnt/data/report.xlsx).",
            annotations=(link("sandbox:/mnt/data/report.xlsx", data),),
        ),
    )
    answer = ask(chat, "Plot and save")
    assert answer.status == "complete"
    assert [p.kind for p in answer.parts] == ["tool", "image", "text", "file"]
    (tool,) = parts(answer, ToolPart)
    assert (tool.tool, tool.status) == ("code_interpreter", "completed")
    assert tool.code == "import pandas as pd\ndf.plot()"
    assert tool.logs == "saved\n"
    (image,) = parts(answer, ImagePart)
    assert (image.name, image.mime, image.data, image.file_id) == (
        "chart.png",
        "image/png",
        PNG,
        chart,
    )
    (made,) = parts(answer, FilePart)
    assert made.name == "report.xlsx"
    assert made.data == BINARY  # binary intact
    assert made.mime == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    shown, notes = annotate(answer.text, parts(answer, TextPart)[0].citations)
    assert shown == "Here is **the report**."
    assert notes == []


def test_outputs_only_in_the_completed_step_and_message(fake: FakeOpenAI) -> None:
    """A server that sends snapshots rather than deltas still gives the whole answer."""
    chat, _ = make(fake)
    chart = add_file(fake, "chart", PNG)  # the sandbox's names may lack an extension
    script(
        fake,
        code(("print(6 * 7)",), logs="42\n", images=(chart,), outputs_in_deltas=False),
        text("It is ", "42.", stream_deltas=False),
    )
    answer = ask(chat, "6*7?")
    (tool,) = parts(answer, ToolPart)
    assert (tool.code, tool.logs) == ("print(6 * 7)", "42\n")
    (image,) = parts(answer, ImagePart)
    assert (image.name, image.mime, image.data) == ("chart.png", "image/png", PNG)
    assert answer.text == "It is 42."


def test_an_image_in_the_message_itself(fake: FakeOpenAI) -> None:
    chat, _ = make(fake)
    chart = add_file(fake, "plot.png", PNG)
    script(fake, image_message(chart), text("Above: the plot."))
    answer = ask(chat, "Plot")
    assert [p.kind for p in answer.parts] == ["image", "text"]
    assert parts(answer, ImagePart)[0].data == PNG


def test_file_citations_become_numbered_footnotes_with_file_names(fake: FakeOpenAI) -> None:
    chat, _ = make(fake)
    manual = add_file(fake, "manual.pdf", b"%PDF")
    faq = add_file(fake, "faq.md", b"# FAQ")
    script(
        fake,
        file_search(),
        text("Intro. "),  # a first message: the cited text part spans both
        text(
            "It is 42",
            "【4:0†source】",
            ", see also",
            "【4:1†source】",
            ".",
            annotations=(cite("【4:0†source】", manual), cite("【4:1†source】", faq)),
        ),
    )
    answer = ask(chat, "What is it?")
    (search,) = parts(answer, ToolPart)
    assert (search.tool, search.status) == ("file_search", "completed")
    (part,) = parts(answer, TextPart)
    assert [(c.kind, c.label, c.file_id) for c in part.citations] == [
        ("file", "manual.pdf", manual),
        ("file", "faq.md", faq),
    ]
    shown, notes = annotate(part.text, part.citations)
    assert shown == "Intro. It is 42 [1], see also [2]."
    assert [n.label for n in notes] == ["manual.pdf", "faq.md"]


def test_citations_after_a_tool_call_are_placed_in_their_own_text(fake: FakeOpenAI) -> None:
    chat, _ = make(fake)
    doc = add_file(fake, "guide.txt", b"guide")
    script(
        fake,
        text("Let me check."),
        code(("print(1)",), logs="1\n"),
        text("It says so", "【7:0†source】", ".", annotations=(cite("【7:0†source】", doc),)),
    )
    answer = ask(chat, "Check")
    first, second = parts(answer, TextPart)
    assert (first.text, first.citations) == ("Let me check.", [])
    assert annotate(second.text, second.citations)[0] == "It says so [1]."


def test_a_refusal(fake: FakeOpenAI) -> None:
    chat, _ = make(fake)
    script(fake, refusal("I can't help with that."))
    answer = ask(chat, "Bad idea")
    assert [p.text for p in parts(answer, RefusalPart)] == ["I can't help with that."]


# -- functions --------------------------------------------------------------------------------


def test_a_function_round_trip(fake: FakeOpenAI) -> None:
    chat, _ = make(fake, functions=("fakes.sample_functions:get_weather",))
    script(fake, function_call((("get_weather", '{"city": "Paris"}'),)))
    script(fake, text("Sunny, 22 °C."))
    answer = ask(chat, "Weather in Paris?")
    assert answer.status == "complete"
    (tool,) = parts(answer, ToolPart)
    assert (tool.tool, tool.name, tool.status) == ("function", "get_weather", "completed")
    assert tool.arguments == '{"city": "Paris"}'
    assert tool.output == "Sunny in Paris (22 °C)"
    sent = body(fake, "runs.submit_tool_outputs")
    assert sent["stream"] is True
    assert [o["output"] for o in sent["tool_outputs"]] == ["Sunny in Paris (22 °C)"]
    assert answer.text == "Sunny, 22 °C."


def test_a_failing_or_missing_function_tells_the_model_and_the_user(fake: FakeOpenAI) -> None:
    chat, _ = make(fake, functions=("fakes.sample_functions:broken_sensor",))
    script(
        fake,
        function_call((("broken_sensor", '{"city": "Oslo"}'), ("unknown_tool", "{}"))),
    )
    script(fake, text("Sorry, no data."))
    answer = ask(chat, "Weather in Oslo?")
    assert answer.status == "complete"
    broken, unknown = parts(answer, ToolPart)
    assert broken.status == "failed"
    assert "the sensor in Oslo is offline" in broken.error
    assert unknown.status == "failed"
    assert "no tool named 'unknown_tool' (available: broken_sensor)" in unknown.error
    outputs = [o["output"] for o in body(fake, "runs.submit_tool_outputs")["tool_outputs"]]
    assert outputs[0].startswith("Error: broken_sensor raised RuntimeError")
    assert outputs == [broken.error, unknown.error]  # the model is told what the user sees


def test_tool_rounds_are_bounded(fake: FakeOpenAI) -> None:
    chat, _ = make(fake, functions=("fakes.sample_functions:get_weather",), max_tool_rounds=1)
    script(fake, function_call((("get_weather", '{"city": "A"}'),)))
    script(fake, function_call((("get_weather", '{"city": "B"}'),)))
    answer = ask(chat, "Loop")
    assert answer.status == "incomplete"
    assert "max_tool_rounds" in parts(answer, NoticePart)[-1].text
    first, refused = parts(answer, ToolPart)
    assert first.status == "completed"
    assert refused.status == "incomplete" and "limit of 1 tool rounds" in refused.error
    assert len(fake.calls("runs.cancel")) == 1


# -- how runs end -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("end", "options", "status", "says", "retryable"),
    [
        (
            "failed",
            {"error": ("server_error", "boom")},
            "failed",
            "The server, during the assistant's run, failed: boom. Retry in a moment.",
            True,
        ),
        (
            "failed",
            {"error": ("rate_limit_exceeded", "quota")},
            "failed",
            "rate limiting requests or the quota is used up: quota. Wait",
            True,
        ),
        (
            "failed",
            {"error": ("invalid_prompt", "bad")},
            "failed",
            "during the assistant's run, rejected the request: bad.",
            False,
        ),
        ("expired", {}, "failed", "expired before it finished", True),
        ("cancelled", {}, "stopped", "cancelled before it finished", None),
        ("incomplete", {}, "incomplete", "length limit (max_completion_tokens)", None),
    ],
)
def test_how_a_run_ends_is_one_clear_message(
    fake: FakeOpenAI,
    end: str,
    options: dict[str, Any],
    status: str,
    says: str,
    retryable: bool | None,
) -> None:
    chat, _ = make(fake)
    script(fake, text("Part of it"), end=end, **options)
    answer = ask(chat, "Go")
    assert answer.status == status
    assert answer.text == "Part of it"
    if retryable is None:
        notices = [p.text for p in parts(answer, NoticePart)]
        assert len(notices) == 1 and says in notices[0]
    else:
        assert answer.error is not None
        assert says in answer.error.reason
        assert answer.error.retryable is retryable
        assert chat.can_retry is retryable
    assert chat.remote["run"] == ""


def test_an_error_event_mid_stream_keeps_what_arrived(fake: FakeOpenAI) -> None:
    chat, _ = make(fake)
    script(fake, text("So far"), error_event("overloaded"), end=None)
    answer = ask(chat, "Go")
    assert answer.status == "failed"
    assert answer.text == "So far"
    assert answer.error is not None and "overloaded" in answer.error.reason


def test_429_then_success_is_retried_by_the_sdk(fake: FakeOpenAI) -> None:
    chat, _ = make(fake)
    fake.expect("runs.create", Error(429, "slow down", headers={"retry-after-ms": "10"}))
    script(fake, text("ok"))
    answer = ask(chat, "Hi")
    assert answer.status == "complete"
    assert answer.text == "ok"
    assert len(fake.calls("runs.create")) == 2
    assert len(fake.calls("messages.create")) == 1


def test_a_cut_stream_keeps_the_text_and_retry_continues_the_run_free_thread(
    fake: FakeOpenAI,
) -> None:
    chat, _ = make(fake)
    script(fake, text("Hel", "lo"), Cut())
    answer = ask(chat, "Hi")
    assert answer.status == "failed"
    assert answer.text == "Hello"
    assert answer.error is not None and answer.error.retryable
    assert answer.error.code == "stream_cut"
    assert chat.remote["run"].startswith("run_")  # the run may still be going
    # Retry: the question is not posted twice; the leftover run is cancelled first.
    script(fake, text("Hello again"))
    retried = chat.reply().run_to_end()
    assert retried.status == "complete"
    assert retried.text == "Hello again"
    assert len(fake.calls("messages.create")) == 1
    assert len(fake.calls("runs.cancel")) == 1
    assert any("still running" in p.text for p in parts(retried, NoticePart))


@pytest.mark.parametrize("named", [True, False], ids=["run-named", "run-listed"])
def test_a_new_message_while_a_run_is_active_cancels_it_and_goes_on(
    fake: FakeOpenAI, named: bool
) -> None:
    chat, _ = make(fake)
    script(fake, text("Half"), Cut())
    ask(chat, "First")
    run = chat.remote["run"]
    chat.remote["run"] = ""  # as if the page never saw the run's id
    if not named:  # a server whose refusal does not name the run: it is looked up
        fake.expect("messages.create", Error(400, "Can't add messages while a run is active."))
    script(fake, text("Second answer"))
    answer = ask(chat, "Second")
    assert answer.status == "complete"
    assert answer.text == "Second answer"
    assert len(fake.calls("messages.create")) == 3  # accepted, refused (run active), accepted
    assert len(fake.calls("runs.list")) == (0 if named else 1)
    (cancel,) = fake.calls("runs.cancel")
    assert cancel.path.endswith(f"/runs/{run}/cancel")
    assert any("still running" in p.text for p in parts(answer, NoticePart))


def test_stop_cancels_the_run_on_the_server(fake: FakeOpenAI) -> None:
    chat, _ = make(fake)
    script(fake, text("Hel"), Hang())
    chat.submit("Long answer please")
    stream = chat.reply()
    while stream.message.text != "Hel" or not chat.remote.get("run"):
        assert not stream.poll(0.05)
    run = chat.remote["run"]
    stream.cancel()
    assert fake.state["run_cancelled"].wait(10)
    assert stream.message.status == "stopped"
    assert stream.message.text == "Hel"
    assert fake.state["threads"][chat.remote["thread"]]["runs"][run]["status"] == "cancelled"
    # The conversation goes on.
    script(fake, text("next"))
    assert ask(chat, "again").text == "next"


# -- errors ---------------------------------------------------------------------------------------


def test_a_404_for_the_assistants_api_says_it_was_shut_down(fake: FakeOpenAI) -> None:
    chat, backend = make(fake)
    fake.expect("threads.create", Error(404, "Invalid URL (POST /v1/threads)"))
    answer = ask(chat, "Hi")
    assert answer.status == "failed"
    assert answer.error is not None
    reason = answer.error.reason
    assert "shut it down on 2026-08-26" in reason
    assert "assistants-ui import-assistant" in reason
    assert "\n" not in reason
    assert not answer.error.retryable
    fake.expect("assistants.retrieve", Error(404, "No such route"))
    refused = backend.route("a.csv", "text/csv")
    assert not refused.accepted and "2026-08-26" in refused.reason
    assert backend.display_title() == "asst_fake"  # no name to show: the configured title


def test_an_unknown_assistant_id_is_named(fake: FakeOpenAI) -> None:
    chat, backend = make(fake)
    del fake.state["assistants"]["asst_fake"]
    route = backend.route("a.csv", "text/csv")
    assert not route.accepted
    assert (
        "does not know the assistant asst_fake (404)" in route.reason
        and "ASSISTANT_ID" in route.reason
    )
    answer = ask(chat, "Hi")
    assert (
        answer.error is not None
        and "does not know the assistant asst_fake (404)" in answer.error.reason
    )


def test_a_vanished_thread_is_replaced_with_a_notice(fake: FakeOpenAI) -> None:
    chat, _ = make(fake)
    script(fake, text("one"))
    ask(chat, "First")
    old = chat.remote["thread"]
    del fake.state["threads"][old]
    script(fake, text("two"))
    answer = ask(chat, "Second")
    assert answer.text == "two"
    assert chat.remote["thread"] != old
    assert any("no longer exists" in p.text for p in parts(answer, NoticePart))


# -- uploads and files --------------------------------------------------------------------------


def test_uploads_go_to_the_tools_that_accept_their_type(fake: FakeOpenAI) -> None:
    chat, _ = make(fake, tools=[CI, FS])
    files = [
        Attachment("data.csv", "text/csv", b"a,b\n1,2\n"),
        Attachment("paper.pdf", "application/pdf", b"%PDF-1.7"),
        Attachment("cat.png", "image/png", PNG),
        Attachment("table.xlsx", "application/octet-stream", BINARY),
    ]
    checks = chat.check_uploads([(f.name, f.mime, f.size) for f in files])
    assert [c.route for c in checks] == [
        "code_interpreter",
        "code_interpreter+file_search",
        "image+code_interpreter",
        "code_interpreter",
    ]
    script(fake, text("Got them."))
    ask(chat, "Look", files)
    uploads = {c.body["file"]["filename"]: c.body for c in fake.calls("files.create")}
    assert {n: b["purpose"] for n, b in uploads.items()} == dict.fromkeys(
        ["data.csv", "paper.pdf", "cat.png", "table.xlsx"], "assistants"
    )
    assert uploads["table.xlsx"]["file"]["data"] == BINARY
    ids = {a.name: a.file_id for a in chat.messages[0].attachments}
    sent = body(fake, "messages.create")
    assert sent["content"] == [
        {"type": "text", "text": "Look"},
        {"type": "image_file", "image_file": {"file_id": ids["cat.png"]}},
    ]
    assert sent["attachments"] == [
        {"file_id": ids["data.csv"], "tools": [CI]},
        {"file_id": ids["paper.pdf"], "tools": [CI, FS]},
        {"file_id": ids["cat.png"], "tools": [CI]},
        {"file_id": ids["table.xlsx"], "tools": [CI]},
    ]


def test_a_type_no_tool_of_the_assistant_accepts_is_refused(fake: FakeOpenAI) -> None:
    chat, _ = make(fake, tools=[FS])
    xlsx, pdf, png = chat.check_uploads(
        [
            ("t.xlsx", "application/octet-stream", 9),
            ("p.pdf", "application/pdf", 9),
            ("c.png", "image/png", 9),
        ]
    )
    assert not xlsx.ok and "file search cannot read .xlsx files" in xlsx.reason
    assert pdf.route == "file_search"
    assert png.route == "image"
    bare, _ = make(fake, tools=[])
    (csv,) = bare.check_uploads([("d.csv", "text/csv", 9)])
    assert not csv.ok and "neither code interpreter nor file search" in csv.reason
    assert fake.calls("files.create") == []
    assert len(fake.calls("assistants.retrieve")) == 2  # looked up once per backend


def test_two_generated_files_each_keep_their_own_bytes(fake: FakeOpenAI) -> None:
    chat, _backend = make(fake)
    first = add_file(fake, "/mnt/data/a.csv", b"a\n1\n")
    second = add_file(fake, "/mnt/data/b.bin", BINARY)
    script(
        fake,
        text(
            "[a.csv](sandbox:/mnt/data/a.csv) and ",
            "[b.bin](sandbox:/mnt/data/b.bin)",
            annotations=(
                link("sandbox:/mnt/data/a.csv", first),
                link("sandbox:/mnt/data/b.bin", second),
            ),
        ),
    )
    answer = ask(chat, "Two files")
    made = {p.name: (p.file_id, p.data) for p in parts(answer, FilePart)}
    assert made == {"a.csv": (first, b"a\n1\n"), "b.bin": (second, BINARY)}
    shown, _ = annotate(answer.text, parts(answer, TextPart)[0].citations)
    assert shown == "**a.csv** and **b.bin**"


def test_a_generated_file_that_cannot_be_fetched_is_a_notice(fake: FakeOpenAI) -> None:
    chat, _ = make(fake)
    script(
        fake,
        text(
            "[gone.csv](sandbox:/mnt/data/gone.csv)",
            annotations=(link("sandbox:/mnt/data/gone.csv", "file-gone"),),
        ),
    )
    answer = ask(chat, "File")
    assert answer.status == "complete"
    (notice,) = parts(answer, NoticePart)
    assert "gone.csv could not be fetched" in notice.text
    assert parts(answer, FilePart) == []


def test_delete_removes_the_thread(fake: FakeOpenAI) -> None:
    chat, backend = make(fake)
    ask(chat, "Hi")
    thread = chat.remote["thread"]
    backend.delete(chat.remote)
    assert thread not in fake.state["threads"]
    backend.delete(chat.remote)  # already gone: fine


# -- configuration --------------------------------------------------------------------------------


def test_the_assistants_name_is_the_title_when_none_is_given(fake: FakeOpenAI) -> None:
    _, backend = make(fake, name="Data helper")
    assert backend.display_title() == "Data helper"
    _, titled = make(fake, title="Team bot")
    assert titled.display_title() == "Team bot"
    _, unnamed = make(fake, name=None)
    assert unnamed.display_title() == "asst_fake"


def test_run_options_from_the_profile(fake: FakeOpenAI) -> None:
    chat, _ = make(fake, model="gpt-4.1", max_output_tokens=1000)
    ask(chat, "Hi")
    run = body(fake, "runs.create")
    assert (run["model"], run["max_completion_tokens"]) == ("gpt-4.1", 1000)
    assert "additional_instructions" not in run and "temperature" not in run


def test_a_function_that_does_not_import_is_refused_at_build_time(fake: FakeOpenAI) -> None:
    with pytest.raises(BackendError, match="no_such_module"):
        make(fake, functions=("no_such_module:f",))


def test_the_original_projects_environment_chats_with_uploads_and_downloads(
    fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistants_ui.runtime import Runtime

    for name, value in {
        "OPENAI_API_KEY": "sk-original",
        "ASSISTANT_ID": "asst_fake",
        "ENABLED_FILE_UPLOAD_MESSAGE": "Upload a data file",
        "AUTHENTICATION_REQUIRED": "False",
        "RUN_INSTRUCTIONS": "Be concise.",
        "OPENAI_BASE_URL": fake.base_url,
    }.items():
        monkeypatch.setenv(name, value)
    add_assistant(fake, name="Sales analyst", tools=[CI])
    rt = Runtime.load()
    (profile,) = rt.profiles
    backend = rt.backend(profile)
    assert isinstance(backend, AssistantsBackend)
    assert backend.display_title() == "Sales analyst"
    assert profile.upload_label == "Upload a data file"
    result = add_file(fake, "/mnt/data/summary.xlsx", BINARY)
    script(
        fake,
        code(("import pandas as pd",), logs="ok\n"),
        text(
            "[summary.xlsx](sandbox:/mnt/data/summary.xlsx)",
            annotations=(link("sandbox:/mnt/data/summary.xlsx", result),),
        ),
    )
    chat = ChatSession(profile, backend)
    answer = ask(chat, "Summarise", [Attachment("sales.xls", "application/vnd.ms-excel", BINARY)])
    assert answer.status == "complete"
    (made,) = parts(answer, FilePart)
    assert (made.name, made.data) == ("summary.xlsx", BINARY)
    assert chat.messages[0].attachments[0].route == "code_interpreter"
    assert body(fake, "runs.create")["additional_instructions"] == "Be concise."
    assert fake.calls("runs.create")[0].headers["authorization"] == "Bearer sk-original"
