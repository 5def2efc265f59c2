"""Projects in the page (AppTest): made in the sidebar, their instructions sent with every
answer in them, the history filtered by project, a conversation moved in and out, the
project exported as one archive and deleted with its conversations."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from streamlit.testing.v1 import AppTest
from test_app import app, texts, use_fake

from fakes.server import FakeOpenAI


def sidebar_titles(at: AppTest) -> list[str]:
    return [b.label for b in at.sidebar.button if b.key and b.key.startswith("conv-")]


def system_of(fake: FakeOpenAI) -> str:
    messages = fake.calls("chat.completions")[-1].body["messages"]
    return str(messages[0]["content"]) if messages[0]["role"] == "system" else ""


def create(at: AppTest, name: str) -> str:
    at.sidebar.text_input(key="project-new-name").input(name)
    at.sidebar.button(key="project-create").click().run()
    project = at.sidebar.selectbox(key="project-picker").value
    assert isinstance(project, str) and project
    return project


def test_a_projects_instructions_reach_its_answers_and_its_history_is_its_own(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    use_fake(monkeypatch, fake)
    at = app()
    at.chat_input[0].set_value("Outside question").run()
    at.button(key="new_chat").click().run()
    pid = create(at, "Bees")
    assert sidebar_titles(at) == []  # the new project's history is empty
    assert "No conversation in this project yet: a new chat goes into it." in [
        c.value for c in at.sidebar.caption
    ]
    at.sidebar.text_area(key=f"project-instructions-{pid}").input("Answer as a beekeeper.")
    at.sidebar.button(key=f"project-save-{pid}").click().run()

    at.chat_input[0].set_value("When do bees swarm?").run()
    assert not at.exception
    assert "Fake answer to: When do bees swarm?" in texts(at)
    system = system_of(fake)
    assert "This conversation belongs to the project 'Bees'." in system
    assert "Answer as a beekeeper." in system
    assert sidebar_titles(at) == ["When do bees swarm?"]
    assert any("Project **Bees**" in c.value for c in at.caption)

    at.sidebar.selectbox(key="project-picker").set_value("").run()  # all conversations
    assert sidebar_titles(at) == ["When do bees swarm?", "Outside question"]
    next(b for b in at.sidebar.button if b.label == "Outside question").click().run()
    at.chat_input[0].set_value("And taxes?").run()
    assert "beekeeper" not in system_of(fake)  # not in the project

    cid = str(at.query_params["c"])
    at.selectbox(key=f"project-of-{cid}").set_value(pid).run()  # moved into it
    at.chat_input[0].set_value("Now?").run()
    assert "Answer as a beekeeper." in system_of(fake)
    at.sidebar.selectbox(key="project-picker").set_value(pid).run()
    assert sidebar_titles(at) == ["Outside question", "When do bees swarm?"]

    from assistants_ui.web.projects_view import _archive

    user = at.session_state["user"][1]
    archive = zipfile.ZipFile(io.BytesIO(_archive(_repo(), user, pid).read()))
    head = json.loads(archive.read("project.json"))
    assert sorted(c["title"] for c in head["conversations"]) == [
        "Outside question",
        "When do bees swarm?",
    ]

    at.sidebar.button(key=f"project-delete-{pid}").click().run()
    assert "Delete the project, its files and its 2 conversations? This cannot be undone." in [
        w.value for w in at.sidebar.warning
    ]
    at.sidebar.button(key=f"project-delete-yes-{pid}").click().run()
    assert sidebar_titles(at) == []  # all conversations, none left
    assert at.sidebar.selectbox(key="project-picker").value == ""


def _repo():  # type: ignore[no-untyped-def]
    from assistants_ui.runtime import Runtime
    from assistants_ui.storage import Repository, open_database

    return Repository(open_database(Runtime.load().config.settings))


def test_instructions_over_the_limit_are_one_sentence_and_stay_in_the_field(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    use_fake(monkeypatch, fake)
    at = app()
    pid = create(at, "Long")
    too_long = "x" * 20_001
    at.sidebar.text_area(key=f"project-instructions-{pid}").input(too_long)
    at.sidebar.button(key=f"project-save-{pid}").click().run()
    assert [e.value for e in at.sidebar.error] == [
        "Not saved: the project's instructions are 20,001 characters long, over the limit of "
        "20,000; shorten them and save again."
    ]
    assert at.sidebar.text_area(key=f"project-instructions-{pid}").value == too_long
    at.chat_input[0].set_value("Hi").run()
    assert "xxxx" not in system_of(fake)
