"""Share links in the page (AppTest): the menu makes, lists and revokes them; another
browser sees the frozen snapshot read-only, then the one sentence once it is revoked."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_render_page import png

from assistants_ui.core.transcript import Attachment, FilePart, ImagePart, Message, TextPart
from assistants_ui.runtime import Runtime
from assistants_ui.storage import Repository, open_database
from assistants_ui.web.chat_view import ChatPage
from assistants_ui.web.share_view import REVOKED, UNKNOWN
from fakes.server import FakeOpenAI
from login_support import ORIGINAL_SECRETS, write_secrets

APP = str(Path(__file__).parents[2] / "streamlit_app.py")


@pytest.fixture(autouse=True)
def fake_chat(monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("OPENAI_MODEL", "m")


def app(share: str | None = None) -> AppTest:
    """A new browser (a new anonymous user), opening a share link if given."""
    at = AppTest.from_file(APP, default_timeout=30)
    if share is not None:
        at.query_params["share"] = share
    return at.run()


def texts(at: AppTest) -> list[str]:
    return [m.value for m in at.main.markdown] + [t.value for t in at.main.text]


def links(at: AppTest) -> list[str]:
    return [c.value for c in at.main.code if "?share=" in c.value]


def kinds(node: object) -> list[str]:
    """The element types under `node`, nested containers included."""
    out = [getattr(node, "type", "")]
    for child in getattr(node, "children", {}).values():
        out += kinds(child)
    return out


def token_of(link: str) -> str:
    return link.rsplit("?share=", 1)[1]


@pytest.mark.parametrize("first", ["the page", "the answer's end"])
def test_a_guests_first_message_saved_by_either_has_its_menu_in_the_run_that_sent_it(
    monkeypatch: pytest.MonkeyPatch, first: str
) -> None:
    """A message from the chat input is saved after its request goes out (the guest's
    row with it): by the page once the first words are out, or by the answer's own
    thread when the answer ended first (a short one). Either way the run that sent it
    shows the conversation's menu and puts it in the URL."""
    if first == "the answer's end":
        save = ChatPage.save

        def after_the_end(self: ChatPage) -> None:
            if self.live is not None:
                assert self.live._ended.wait(10)
            save(self)

        monkeypatch.setattr(ChatPage, "save", after_the_end)
    owner = app().chat_input[0].set_value("Plan the offsite").run()
    assert not owner.exception and not owner.error
    assert owner.button(key="share").label  # the conversation's menu
    assert owner.query_params["c"]


def test_share_open_later_messages_hidden_revoke() -> None:
    owner = app().chat_input[0].set_value("Plan the offsite").run()
    assert links(owner) == []
    owner.button(key="share").click().run()
    assert not owner.exception
    [link] = links(owner)
    token = token_of(link)
    # Listed in the menu with what it holds: the question and the answer.
    [listed] = [c.value for c in owner.main.caption if "Snapshot of" in c.value]
    assert listed.endswith("UTC, 2 messages:")

    viewer = app(token)
    assert not viewer.exception
    assert not viewer.error
    assert viewer.title[0].value == "Plan the offsite"
    assert "Fake answer to: Plan the offsite" in texts(viewer)
    assert not viewer.chat_input  # read-only: nothing to send
    assert "read-only snapshot" in viewer.info[0].value

    owner.chat_input[0].set_value("Second secret thought").run()
    assert "Fake answer to: Second secret thought" in texts(owner)
    viewer.run()  # the viewer reloads
    assert "Fake answer to: Plan the offsite" in texts(viewer)
    assert not [t for t in texts(viewer) if "Second secret thought" in t]

    # The viewer's own menu and history know nothing of the owner's conversation.
    assert not [b for b in viewer.sidebar.button if b.key and b.key.startswith("conv-")]
    assert not [b for b in viewer.button if b.key == f"revoke-{token}"]

    owner.button(key=f"revoke-{token}").click().run()
    assert links(owner) == []
    viewer.run()
    assert [e.value for e in viewer.error] == [REVOKED]
    assert not [t for t in texts(viewer) if "Plan the offsite" in t]


@pytest.mark.parametrize("token", ["A" * 32, "nonsense", ""])
def test_an_unknown_link_says_so(token: str) -> None:
    viewer = app(token)
    assert not viewer.exception
    assert [e.value for e in viewer.error] == [UNKNOWN]


def test_new_chat_leaves_the_shared_page() -> None:
    viewer = app("A" * 32)
    viewer.button(key="new_chat").click().run()
    assert not viewer.error
    assert "share" not in viewer.query_params
    assert viewer.chat_input


@pytest.mark.parametrize("public", [False, True])
def test_with_logins_a_link_needs_one_unless_the_operator_made_links_public(
    monkeypatch: pytest.MonkeyPatch, public: bool
) -> None:
    monkeypatch.setenv("AUTHENTICATION_REQUIRED", "true")
    monkeypatch.setenv("SHARE_LINKS_PUBLIC", str(public).lower())
    write_secrets(ORIGINAL_SECRETS)
    store = Repository(open_database(Runtime.load().config.settings))
    owner = store.ensure_user(auth_provider="password", subject="jsmith")
    conv = store.create_conversation(user_id=owner.id, profile_id="x", backend="chat")
    store.save_message(user_id=owner.id, conversation_id=conv.id, message=Message.user("Hello"))
    token = store.create_share(user_id=owner.id, conversation_id=conv.id).token

    stranger = app(token)  # not signed in
    assert not stranger.exception
    if public:
        assert stranger.title[0].value == "Hello"
        assert "Hello" in texts(stranger)
        assert not [h for h in stranger.header if h.value == "Log in"]
    else:
        assert [h.value for h in stranger.header] == ["Log in"]
        assert "Hello" not in texts(stranger)
        assert not stranger.title


def test_a_shared_files_bytes_are_read_when_wanted_not_with_the_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The page paints the snapshot without its files: the image is read as it is
    painted, the large file only when its download is clicked (never here)."""
    store = Repository(open_database(Runtime.load().config.settings))
    owner = store.ensure_user(auth_provider="anonymous", subject="owner-browser")
    conv = store.create_conversation(user_id=owner.id, profile_id="x", backend="chat")
    big = bytes(5 * 1024 * 1024)
    question = Message.user("Files please", [Attachment("notes.bin", "application/x", big)])
    answer = Message(
        role="assistant",
        parts=[
            TextPart("Here they are."),
            ImagePart("chart.png", "image/png", png()),
            FilePart("big.bin", "application/octet-stream", big),
        ],
    )
    for message in (question, answer):
        store.save_message(user_id=owner.id, conversation_id=conv.id, message=message)
    token = store.create_share(user_id=owner.id, conversation_id=conv.id).token
    read: list[str] = []
    share_file = Repository.share_file

    def counted(self: Repository, *, token: str, file_id: str) -> bytes:
        read.append(file_id)
        return share_file(self, token=token, file_id=file_id)

    monkeypatch.setattr(Repository, "share_file", counted)

    viewer = app(token)
    assert not viewer.exception and not viewer.error
    assert "Here they are." in texts(viewer)
    assert kinds(viewer.chat_message[-1]).count("image") == 1  # read through the link
    labels = [b.proto.label for b in viewer.get("download_button")]
    assert "Download big\\.bin (5.0 MB)" in labels, labels
    assert any("notes\\.bin (5.0 MB)" in c.value for c in viewer.caption), viewer.caption
    assert len(read) == 1  # the image only


def test_past_the_cap_a_share_is_refused_with_one_sentence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAX_SHARES_PER_USER", "1")
    owner = app().chat_input[0].set_value("Plan the offsite").run()
    owner.button(key="share").click().run()
    assert len(links(owner)) == 1
    owner.button(key="share").click().run()
    assert not owner.exception
    assert len(links(owner)) == 1  # no second link
    assert [t.value for t in owner.toast] == [
        "Not shared: you already have 1 share link, the most this app allows; revoke it "
        "(in its conversation's menu) to make another."
    ]
