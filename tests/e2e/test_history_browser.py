"""The sidebar's history in headless Chromium (`assistants-ui run`, password login,
TWO assistants, the fake server): each entry's own menu (rename, pin, delete without
opening it), date groups by last activity, search as one types with the matching
words shown as text, the browser tab named after the open conversation, the
connection's details for admins only, and a login form without Streamlit's counter.

Opening a conversation with two assistants configured once crashed the page: every
test here opens conversations through the list with two assistants and a login.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import update
from test_isolation_browser import signed_in
from test_login_browser import SECRETS, TIMEOUT, add_user, write_secrets

from assistants_ui.storage import open_url
from assistants_ui.storage.models import Conversation
from browser_support import StartApp, choose, send
from fakes.server import FakeOpenAI

pytestmark = pytest.mark.browser

SEARCH = "Search titles and messages"


@pytest.fixture
def history_app(start_app: StartApp, tmp_path: Path, fake: FakeOpenAI) -> str:
    """Two assistants on the fake server; anna (an admin) and bert sign in with passwords."""
    (tmp_path / "assistants.toml").write_text(f"""
[connections.fake]
type = "openai"
base_url = "{fake.base_url.replace("http://", "http://proxyuser:proxy-secret-9@")}"

[[assistants]]
id = "helper"
title = "Helper"
backend = "chat"
connection = "fake"
model = "m"

[[assistants]]
id = "writer"
title = "Writer"
backend = "chat"
connection = "fake"
model = "m"
""")
    write_secrets(tmp_path, SECRETS)
    add_user(tmp_path, "anna", "anna-password-1", "Anna A")
    add_user(tmp_path, "bert", "bert-password-1", "Bert B")
    return start_app(
        {"AUTHENTICATION_REQUIRED": "true", "ADMIN_USERS": "anna", "HOME": str(tmp_path / "home")},
        tmp_path,
    )


def sidebar(page: Page) -> Locator:
    return page.get_by_test_id("stSidebar")


def entry(page: Page, title: str) -> Locator:
    """A history entry: its row, holding the title's button and the menu's."""
    return (
        sidebar(page)
        .get_by_test_id("stHorizontalBlock")
        .filter(has=page.get_by_role("button", name=title, exact=True))
    )


def ask(page: Page, text: str) -> None:
    """Send `text`; once answered, its conversation is listed under its title."""
    send(page, text)
    answer = page.get_by_role("group", name="Chat message from assistant").last
    expect(answer).to_contain_text("Fake answer to: ", timeout=TIMEOUT)
    expect(sidebar(page).get_by_role("button", name=text, exact=True)).to_be_visible(
        timeout=TIMEOUT
    )


def new_chat(page: Page, assistant: str | None = None) -> None:
    sidebar(page).get_by_role("button", name="New chat").click()
    expect(page.get_by_role("group", name="Chat message from user")).to_have_count(0)
    if assistant is not None:
        choose(page, "Assistant", f"🤖 {assistant}")


def menu_of(page: Page, title: str) -> Locator:
    """Open an entry's menu; returns the open popover."""
    # Moved (pinned, renamed), an entry is shown in its old place too until the rerun
    # that moved it ends.
    expect(entry(page, title)).to_have_count(1, timeout=TIMEOUT)
    entry(page, title).get_by_test_id("stPopover").get_by_role("button").click()
    popover = page.get_by_test_id("stPopoverBody")
    expect(popover).to_be_visible(timeout=TIMEOUT)
    return popover


def titles(page: Page) -> list[str]:
    buttons = sidebar(page).get_by_test_id("stHorizontalBlock").get_by_test_id("stButton")
    return [b.inner_text().strip() for b in buttons.all()]


def test_each_entry_renames_pins_and_deletes_without_being_opened(
    page: Page, history_app: str
) -> None:
    signed_in(page, history_app, "bert", "bert-password-1", "Bert B")
    ask(page, "Plan a trip to Lisbon")
    new_chat(page, "Writer")
    ask(page, "Write a poem about rain")
    on_page = page.url
    messages = page.get_by_role("group", name="Chat message from user")

    # Rename the other conversation from its entry: the open one stays on the page.
    menu = menu_of(page, "Plan a trip to Lisbon")
    title = menu.get_by_label("Title")
    title.fill("Lisbon in May")
    title.press("Enter")
    expect(sidebar(page).get_by_role("button", name="Lisbon in May")).to_be_visible(timeout=TIMEOUT)
    expect(messages.last).to_contain_text("Write a poem about rain")
    assert page.url == on_page
    page.keyboard.press("Escape")

    # Pin it: it goes to the top, under "Pinned".
    menu_of(page, "Lisbon in May").get_by_role("button", name="Pin to the top").click()
    pinned = sidebar(page).get_by_text("Pinned", exact=True)
    expect(pinned).to_be_visible(timeout=TIMEOUT)
    page.keyboard.press("Escape")
    expect(entry(page, "Lisbon in May").get_by_role("button").first).to_be_visible()
    assert titles(page)[0].endswith("Lisbon in May"), titles(page)

    # Delete it from the list, confirmed once more; the open conversation stays.
    menu = menu_of(page, "Lisbon in May")
    menu.get_by_role("button", name="Delete…").click()
    expect(menu.get_by_text("Delete this conversation and its files?")).to_be_visible(
        timeout=TIMEOUT
    )
    menu.get_by_role("button", name="Delete", exact=True).click()
    expect(sidebar(page).get_by_role("button", name="Lisbon in May")).to_have_count(
        0, timeout=TIMEOUT
    )
    expect(messages.last).to_contain_text("Write a poem about rain")

    # Deleting the open conversation from its entry starts a new chat.
    menu = menu_of(page, "Write a poem about rain")
    menu.get_by_role("button", name="Delete…").click()
    menu.get_by_role("button", name="Delete", exact=True).click()
    expect(messages).to_have_count(0, timeout=TIMEOUT)
    expect(sidebar(page).get_by_text("Your conversations appear here.")).to_be_visible(
        timeout=TIMEOUT
    )
    assert "?c=" not in page.url


def test_the_list_is_grouped_by_last_activity(page: Page, history_app: str, tmp_path: Path) -> None:
    signed_in(page, history_app, "bert", "bert-password-1", "Bert B")
    ages = {"Today's talk": 0, "Yesterday's talk": 1, "Last week's": 5, "Last month's": 20}
    ages["Last year's"] = 300
    for index, text in enumerate(ages):
        if index:
            new_chat(page, "Writer" if index % 2 else "Helper")
        ask(page, text)
    now = dt.datetime.now(dt.UTC)
    db = open_url(f"sqlite:///{tmp_path / 'data' / 'assistants-ui.db'}", migrate=False)
    try:
        with db.engine.begin() as conn:
            for text, days in ages.items():
                conn.execute(
                    update(Conversation)
                    .where(Conversation.title == text)
                    .values(updated_at=now - dt.timedelta(days=days))
                )
    finally:
        db.dispose()
    page.reload()
    expect(sidebar(page).get_by_text("Older", exact=True)).to_be_visible(timeout=TIMEOUT)
    for text in ages:  # the whole list painted, before it is read
        expect(sidebar(page).get_by_role("button", name=text, exact=True)).to_be_visible()
    shown = sidebar(page).inner_text()
    order = [
        "Today",
        "Today's talk",
        "Yesterday",
        "Yesterday's talk",
        "Previous 7 days",
        "Last week's",
        "Previous 30 days",
        "Last month's",
        "Older",
        "Last year's",
    ]
    lines = [line.strip() for line in shown.splitlines() if line.strip()]
    found = [line for line in lines if line in order]
    assert found == order, lines
    # An older conversation opens from its group (two assistants: the picker follows).
    sidebar(page).get_by_role("button", name="Last year's", exact=True).click()
    expect(page.get_by_text("Fake answer to: Last year's")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("combobox", name="Assistant")).to_have_value("🤖 Helper")


def test_search_as_one_types_shows_the_matching_words_as_text(page: Page, history_app: str) -> None:
    signed_in(page, history_app, "bert", "bert-password-1", "Bert B")
    ask(page, "Bread recipe")
    new_chat(page, "Writer")
    hostile = "Paella notes: compare **bold** with <b>x</b> here"
    ask(page, hostile)

    box = sidebar(page).get_by_placeholder(SEARCH)
    box.press_sequentially("paella", delay=30)  # no Enter: the list follows the typing
    expect(sidebar(page).get_by_role("button", name="Bread recipe")).to_have_count(
        0, timeout=TIMEOUT
    )
    hit = sidebar(page).get_by_test_id("stCaptionContainer").filter(has_text="notes")
    expect(hit).to_have_text("paella notes: compare **bold** with <b>x</b> here")
    expect(hit.locator("code")).to_have_text(["paella"])  # the match, marked
    assert hit.locator("b, strong, em").count() == 0  # nothing of the message became markup
    # The tab is named after the open conversation (the title is plain text).
    expect(page).to_have_title(hostile, timeout=TIMEOUT)

    # Opening a hit names the tab after it.
    box.fill("bread")
    expect(sidebar(page).get_by_role("button", name=hostile)).to_have_count(0, timeout=TIMEOUT)
    expect(sidebar(page).get_by_role("button", name="Bread recipe")).to_be_visible(timeout=TIMEOUT)
    sidebar(page).get_by_role("button", name="Bread recipe").click()
    expect(page.get_by_text("Fake answer to: Bread recipe")).to_be_visible(timeout=TIMEOUT)
    expect(page).to_have_title("Bread recipe", timeout=TIMEOUT)


def test_the_connection_is_shown_to_admins_only_and_never_with_its_password(
    browser: Browser, history_app: str
) -> None:
    bert = browser.new_context().new_page()
    bert.goto(history_app)
    expect(bert.get_by_role("heading", name="Log in")).to_be_visible(timeout=TIMEOUT)
    # The login form: no "Press Enter to submit form", no "9/128" counter; Enter still
    # submits it.
    bert.get_by_role("textbox", name="Username").fill("bert")
    password = bert.get_by_role("textbox", name="Password")
    password.fill("bert-password-1")
    expect(password).to_be_focused()
    expect(bert.get_by_text("Press Enter to submit form")).to_be_hidden()
    expect(bert.get_by_text("15/128")).to_have_count(0)
    password.press("Enter")
    expect(sidebar(bert).get_by_text("Signed in as Bert B")).to_be_visible(timeout=TIMEOUT)
    expect(sidebar(bert).get_by_role("button", name="New chat")).to_be_visible()
    assert "127.0.0.1" not in bert.locator("body").inner_text()
    assert "chat · openai" not in bert.locator("body").inner_text()

    anna = browser.new_context().new_page()
    signed_in(anna, history_app, "anna", "anna-password-1", "Anna A")
    caption = sidebar(anna).get_by_text("chat · openai http://127.0.0.1:")
    expect(caption).to_be_visible(timeout=TIMEOUT)
    assert "proxy-secret-9" not in anna.locator("body").inner_text()
    assert "proxyuser" not in anna.locator("body").inner_text()
    assert caption.locator("a").count() == 0  # text, not a link
