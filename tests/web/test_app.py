"""The chat page through Streamlit's AppTest: send, stream, switch, fail, retry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fakes.chat_routes import chat_chunks, chat_text
from fakes.server import Error, FakeOpenAI, Stream

APP = str(Path(__file__).parents[2] / "streamlit_app.py")


def app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    return at.run()


def texts(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown] + [t.value for t in at.text]  # user text: st.text


def use_fake(monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("OPENAI_MODEL", "fake-model")
    monkeypatch.setenv("OPENAI_MAX_RETRIES", "0")


def test_send_shows_the_question_and_the_streamed_reply(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    use_fake(monkeypatch, fake)
    monkeypatch.setenv("ASSISTANT_TITLE", "Test helper")
    fake.expect("chat.completions", chat_text(["The answer ", "is ", "42."], delay=0.01))
    at = app()
    assert at.title[0].value.endswith("Test helper")
    at.chat_input[0].set_value("What is it?").run()
    assert not at.exception
    assert "What is it?" in texts(at)
    assert "The answer is 42." in texts(at)
    assert [m.name for m in at.chat_message] == ["user", "assistant"]
    # The next run renders the same conversation from session state.
    at.run()
    assert "The answer is 42." in texts(at)


def test_failure_is_one_message_keeps_the_question_and_retry_works(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    use_fake(monkeypatch, fake)
    fake.expect(
        "chat.completions",
        Stream(chat_chunks(["Half an ", "answer"]), cut_after=3),
        chat_text(["Whole answer."]),
    )
    at = app()
    at.chat_input[0].set_value("Tell me").run()
    assert not at.exception
    assert len(at.error) == 1
    assert "broke while the answer was streaming" in at.error[0].value
    assert "Tell me" in texts(at)
    assert "Half an answer" in texts(at)
    assert not at.chat_input[0].disabled
    retry = [b for b in at.button if b.label == "Retry"]
    assert len(retry) == 1
    retry[0].click().run()
    assert "Whole answer." in texts(at)
    assert "Half an answer" in texts(at)  # what arrived before the failure is kept
    assert not [b for b in at.button if b.label == "Retry"]
    bodies = [c.body for c in fake.calls("chat.completions")]
    assert bodies[0]["messages"] == bodies[1]["messages"]


def test_401_explains_the_key(monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI) -> None:
    use_fake(monkeypatch, fake)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    fake.expect("chat.completions", Error(401, "Incorrect API key provided"))
    at = app()
    at.chat_input[0].set_value("Hi").run()
    assert "refused the API key (401)" in at.error[0].value
    assert not [b for b in at.button if b.label == "Retry"]  # retrying cannot help
    assert "Hi" in texts(at)


def test_switching_assistant_starts_a_new_conversation(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI, tmp_path: Path
) -> None:
    (tmp_path / "assistants.toml").write_text(f"""
[connections.fake]
type = "openai"
base_url = "{fake.base_url}"

[[assistants]]
id = "one"
title = "First"
backend = "chat"
connection = "fake"
model = "m1"
welcome = "Hello from the first."

[[assistants]]
id = "two"
title = "Second"
backend = "chat"
connection = "fake"
model = "m2"
""")
    at = app()
    assert "Hello from the first." in texts(at)
    at.chat_input[0].set_value("question one").run()
    assert "question one" in texts(at)
    at.selectbox[0].set_value("two").run()
    assert at.title[0].value.endswith("Second")
    assert "question one" not in texts(at)
    at.chat_input[0].set_value("question two").run()
    assert fake.calls("chat.completions")[-1].body["model"] == "m2"
    at.button(key="new_chat").click().run()
    assert "question two" not in texts(at)


def test_configuration_problems_are_shown_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "assistants.toml").write_text('[[assistants]]\nid = "x"\nbackend = "nope"\n')
    at = app()
    assert not at.exception
    assert "unknown backend 'nope'" in at.error[0].value
    assert not at.chat_input


def test_refused_upload_keeps_the_message(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    use_fake(monkeypatch, fake)
    at = app()
    # AppTest cannot attach files to the chat input; drive the same path directly.
    from assistants_ui.core.transcript import Attachment
    from assistants_ui.web import chat_view

    chat = at.session_state["chat"]
    refused = chat_view._refuse_uploads(
        chat, "Look at this", [Attachment("virus.exe", "application/x-msdownload", b"MZ")]
    )
    assert refused
    at.run()
    assert "virus.exe" in at.error[0].value and "Retry" in at.error[0].value
    assert "Look at this" in texts(at)
    assert fake.calls("chat.completions") == []


@pytest.mark.local_model
def test_local_model_answers_with_nothing_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_MAX_TOKENS", "16")
    at = app()
    at.chat_input[0].set_value("Say hello.").run()
    assert not at.exception
    assert not at.error
    answer = at.chat_message[-1]
    assert answer.name == "assistant"
    assert any(m.value.strip() for m in answer.markdown)
    # The local model's answer says its tokens and its speed.
    [usage] = [c.value for c in answer.caption if "tokens in" in c.value]
    assert re.fullmatch(r"[\d,]+ tokens in · [1-9][\d,]* out · [\d,.]+ tokens/s", usage), usage


def test_unreachable_base_url_is_said_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_MODEL", "m")
    monkeypatch.setenv("SHOW_CONNECTION_DETAILS", "true")  # else only admins see the URL
    at = app()
    assert not at.exception
    [warning] = at.warning
    assert "Cannot reach the server at http://127.0.0.1:9/v1" in warning.value
    assert "OPENAI_BASE_URL" in warning.value
    assert at.chat_input  # the page still works: the message says what to fix


def test_bad_local_model_path_is_said_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "model.gguf").write_bytes(b"not a model at all")
    monkeypatch.setenv("LOCAL_MODEL_PATH", str(tmp_path / "model.gguf"))
    at = app()
    assert not at.exception
    assert "LOCAL_MODEL_PATH" in at.error[0].value
    assert "is not a GGUF model file" in at.error[0].value


def test_a_key_the_server_refuses_is_said_at_start(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    use_fake(monkeypatch, fake)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    fake.expect("models.list", Error(401, "Incorrect API key provided"))
    at = app()
    assert "refused the API key (401)" in at.warning[0].value


def test_long_lived_objects_are_frozen_once_per_new_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Streamlit collects every generation after each run; what the imports
    created is frozen so that it is not walked again, and only when a run
    imported something new (a collection is not repeated on every run)."""
    import gc
    import sys
    import types

    from assistants_ui.web import app

    monkeypatch.setattr(app, "_frozen_modules", 0)
    try:
        app._freeze_long_lived()
        assert gc.get_freeze_count() > 10_000  # streamlit and our modules at least
        gc.unfreeze()
        app._freeze_long_lived()  # nothing new imported: nothing collected or frozen
        assert gc.get_freeze_count() == 0
        monkeypatch.setitem(sys.modules, "a_backend_imported_late", types.ModuleType("late"))
        app._freeze_long_lived()
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def starters_toml(tmp_path: Path, fake: FakeOpenAI) -> None:
    (tmp_path / "assistants.toml").write_text(f"""
[connections.fake]
type = "openai"
base_url = "{fake.base_url}"

[[assistants]]
id = "helper"
title = "Helper"
backend = "chat"
connection = "fake"
model = "m"
starters = ["Explain recursion", "Write a haiku"]
""")


def test_a_starter_click_sends_it_like_typed_text(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI, tmp_path: Path
) -> None:
    starters_toml(tmp_path, fake)
    fake.expect("chat.completions", chat_text(["Recursion is ", "self-reference."]))
    at = app()
    labels = [b.label for b in at.button if b.key and b.key.startswith("starter-")]
    assert labels == ["Explain recursion", "Write a haiku"]
    at.button(key="starter-0").click().run()
    assert not at.exception
    assert [m.name for m in at.chat_message] == ["user", "assistant"]
    assert "Explain recursion" in texts(at)
    assert "Recursion is self-reference." in texts(at)
    assert fake.calls("chat.completions")[0].body["messages"][-1]["content"] == (
        "Explain recursion"
    )
    # The chat is not empty any more: the suggestions are gone, now and after a rerun.
    assert not [b for b in at.button if b.key and b.key.startswith("starter-")]
    at.run()
    assert not [b for b in at.button if b.key and b.key.startswith("starter-")]
    # A new chat offers them again.
    at.button(key="new_chat").click().run()
    assert len([b for b in at.button if b.key and b.key.startswith("starter-")]) == 2


def test_usage_under_each_answer_and_the_total_with_cost_in_the_menu(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    (tmp_path / "assistants.toml").write_text(f"""
[connections.fake]
type = "openai"
base_url = "{fake.base_url}"

[[assistants]]
id = "priced"
title = "Priced"
backend = "chat"
connection = "fake"
model = "m"
price_per_million_input = 2
price_per_million_output = 8
""")
    fake.expect(
        "chat.completions",
        chat_text(["First."], usage=(1200, 300)),
        chat_text(["Second."], usage=(1600, 500)),
    )
    at = app()
    at.chat_input[0].set_value("One").run()
    at.chat_input[0].set_value("Two").run()
    assert not at.exception

    def usage_lines(message_index: int) -> list[str]:
        return [c.value for c in at.chat_message[message_index].caption]

    assert usage_lines(1) == ["1,200 tokens in · 300 out · $0.0048"]
    assert usage_lines(3) == ["1,600 tokens in · 500 out · $0.0072"]
    # Not the local model: no tokens per second.
    assert not [c for c in at.caption if "tokens/s" in c.value]
    # The menu adds every answer up.
    assert "This conversation: 2,800 tokens in · 800 out · $0.012" in [c.value for c in at.caption]
    # Painted again from history (a new run), the same lines.
    at.run()
    assert usage_lines(3) == ["1,600 tokens in · 500 out · $0.0072"]


def test_latex_delimiters_from_the_model_are_painted_as_dollar_math(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    use_fake(monkeypatch, fake)
    fake.expect(
        "chat.completions",
        chat_text(["Energy: \\( E = ", "mc^2 \\).\n\n", "`\\(code\\)` stays.\n\n\\[ a^2 \\]"]),
    )
    at = app()
    at.chat_input[0].set_value("Physics?").run()
    assert not at.exception
    painted = "\n".join(m.value for m in at.chat_message[-1].markdown)
    assert "Energy: $E = mc^2$." in painted
    assert "`\\(code\\)` stays." in painted
    assert "$$ a^2 $$" in painted


def test_the_run_that_answers_paints_every_control_of_every_message(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    """Complete pages: the run that streamed the second answer ends with Edit on both
    questions and Copy, Regenerate and thumbs under both answers, without a further
    click (they used to be left off the earlier messages while an answer streamed)."""
    use_fake(monkeypatch, fake)
    fake.expect("chat.completions", chat_text(["One."]), chat_text(["Two."]))
    at = app()
    at.chat_input[0].set_value("First").run()
    at.chat_input[0].set_value("Second").run()
    assert not at.exception
    labels = [b.label for b in at.button]
    assert labels.count("Edit") == 2 and labels.count("Regenerate") == 2, labels
    assert len(at.get("feedback")) == 2
    assert "One." in texts(at) and "Two." in texts(at)


def test_a_stop_clicked_reruns_into_a_complete_page(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    """After Stop: the stopped note, the history list, the menu and every control, in the
    run the click made (Stop used to end the run before they were painted)."""
    use_fake(monkeypatch, fake)
    fake.expect(
        "chat.completions",
        chat_text(["Done."]),
        Stream(chat_chunks([f"w{i} " for i in range(2000)]), delay=0.02),
    )
    at = app()
    at.chat_input[0].set_value("Short").run()
    chat = at.session_state["chat"]
    chat.submit("Long")
    stream = chat.reply()
    while not stream.message.text:
        stream.wait(stream.version, 0.05)
    stream.cancel("user")
    at.run()
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert any("you stopped it" in c for c in captions), captions
    labels = [b.label for b in at.button]
    assert labels.count("Regenerate") == 2 and labels.count("Edit") == 2, labels
    assert len(at.main.get("popover")) == 1  # the conversation menu (the list has its own)
    assert [b.label for b in at.sidebar.button if b.label == "Short"] == ["Short"]
