"""The admin page in headless Chromium (`assistants-ui run`, passwords, the fake server).

anna is an admin (ADMIN_USERS), bert is not: anna sees usage, sets a limit
bert then hits with a clear message, disables bert, who is signed out at his
next action and cannot sign in; bert never reaches the page, by link or by
widget. The audit log is read back from the app's database. The page, its
messages and the limit's refusal also speak Japanese and Chinese.
"""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from test_isolation_browser import signed_in
from test_languages_browser import choose_language
from test_login_browser import SECRETS, TIMEOUT, add_user, log_in, write_secrets

from browser_support import StartApp, choose, send
from fakes.server import FakeOpenAI

pytestmark = pytest.mark.browser


@pytest.fixture
def admin_app(start_app: StartApp, tmp_path: Path, fake: FakeOpenAI) -> str:
    return _with_users(start_app, tmp_path, fake, bert=("bert-password-1", "Bert B"))


def _with_users(
    start_app: StartApp, tmp_path: Path, fake: FakeOpenAI, **users: tuple[str, str]
) -> str:
    """The app with anna (an admin) and `users` (login: (password, name)); its URL."""
    write_secrets(tmp_path, SECRETS)
    add_user(tmp_path, "anna", "anna-password-1", "Anna A")
    for login, (password, name) in users.items():
        add_user(tmp_path, login, password, name)
    return start_app(
        {
            "AUTHENTICATION_REQUIRED": "true",
            "ADMIN_USERS": "anna",
            "HOME": str(tmp_path / "home"),
            "OPENAI_BASE_URL": fake.base_url,
            "OPENAI_MODEL": "m",
        },
        tmp_path,
    )


def _no_admin_page(page: Page) -> None:
    expect(page.get_by_role("heading", name="Daily limits")).to_have_count(0)
    expect(page.get_by_role("heading", name="Audit log")).to_have_count(0)
    expect(page.get_by_text("User to manage")).to_have_count(0)
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)


def _audit(tmp_path: Path) -> list[tuple[str, str, str, str]]:
    with sqlite3.connect(tmp_path / "data" / "assistants-ui.db") as db:
        return db.execute(
            "SELECT actor, action, target, detail FROM admin_audit ORDER BY id"
        ).fetchall()


def test_an_admin_sees_usage_limits_a_user_and_disables_him(
    browser: Browser, admin_app: str, tmp_path: Path
) -> None:
    url = admin_app.rstrip("/")
    bert = browser.new_context().new_page()
    signed_in(bert, admin_app, "bert", "bert-password-1", "Bert B")
    send(bert, "Bert's first question")
    expect(bert.get_by_text("Fake answer to: Bert's first question")).to_be_visible(timeout=TIMEOUT)
    # A non-admin has no link to the page, and its URL shows the chat, not the page.
    _no_admin_page(bert)
    bert.goto(f"{url}/admin")
    expect(bert.get_by_text("Page not found")).to_be_visible(timeout=TIMEOUT)
    expect(bert.get_by_test_id("stChatInputTextArea")).to_be_visible(timeout=TIMEOUT)
    _no_admin_page(bert)
    bert.get_by_role("dialog").get_by_role("button", name="Close").click()

    anna = browser.new_context(accept_downloads=True).new_page()
    signed_in(anna, admin_app, "anna", "anna-password-1", "Anna A")
    anna.get_by_role("link", name="Admin").click()
    expect(anna.get_by_role("heading", name="Usage")).to_be_visible(timeout=TIMEOUT)
    sent = anna.get_by_test_id("stMetric").filter(has_text="Messages sent (30 days)")
    expect(sent).to_contain_text("1", timeout=TIMEOUT)
    users = anna.get_by_test_id("stMetric").filter(has_text="Users")
    expect(users).to_contain_text("2", timeout=TIMEOUT)
    expect(anna.get_by_test_id("stVegaLiteChart")).to_be_visible(timeout=TIMEOUT)
    expect(anna.get_by_text("1–2 of 2 users")).to_be_visible(timeout=TIMEOUT)
    with anna.expect_download(timeout=TIMEOUT) as download:
        anna.get_by_role("button", name="Download usage per user, day and assistant (CSV)").click()
    rows = Path(download.value.path()).read_text().splitlines()
    assert rows[0] == "day,user_id,user,assistant,messages,tokens"
    assert len(rows) == 2 and ",Bert B,default,1,30" in rows[1]

    # A nonsense limit: one sentence, nothing saved.
    choose(anna, "User to manage", "Bert B (password)")
    choose(anna, "Applies to", "Bert B only")
    anna.get_by_role("textbox", name="Messages per day").fill("lots")
    anna.get_by_role("button", name="Save limit").click()
    expect(anna.get_by_text("Messages per day: 'lots' is not a whole number.")).to_be_visible(
        timeout=TIMEOUT
    )
    assert _audit(tmp_path) == []

    choose(anna, "Applies to", "Bert B only")
    anna.get_by_role("textbox", name="Messages per day").fill("1")
    anna.get_by_role("button", name="Save limit").click()
    expect(anna.get_by_text("Limit saved.")).to_be_visible(timeout=TIMEOUT)

    # Bert has used his one message of the day: the next is refused, saying when it resets.
    send(bert, "Bert's second question")
    refusal = bert.get_by_text("You have reached your daily limit of 1 message")
    expect(refusal).to_be_visible(timeout=TIMEOUT)
    expect(refusal).to_contain_text("The limit resets at 00:00 UTC", timeout=TIMEOUT)
    expect(bert.get_by_text("Fake answer to: Bert's second question")).to_have_count(0)

    choose(anna, "User to manage", "Bert B (password)")
    anna.get_by_role("button", name="Disable").click()
    expect(anna.get_by_text("Bert B is disabled: signed out at their next action.")).to_be_visible(
        timeout=TIMEOUT
    )

    # Bert's next action signs him out; his password no longer lets him in.
    bert.get_by_test_id("stSidebar").get_by_role("button", name="New chat").click()
    expect(bert.get_by_text("This account was disabled by an administrator")).to_be_visible(
        timeout=TIMEOUT
    )
    expect(bert.get_by_role("heading", name="Log in")).to_be_visible(timeout=TIMEOUT)
    log_in(bert, "bert", "bert-password-1")
    expect(bert.get_by_text("This account was disabled by an administrator")).to_be_visible(
        timeout=TIMEOUT
    )
    expect(bert.get_by_test_id("stChatInputTextArea")).to_have_count(0, timeout=TIMEOUT)

    actor = "Anna A (password:anna)"
    assert _audit(tmp_path) == [
        (actor, "set_limit", "Bert B (password:bert)", "all assistants: 1 messages/day"),
        (actor, "disable", "Bert B (password:bert)", ""),
    ]


def test_the_admin_page_and_the_refusal_speak_the_chosen_language(
    browser: Browser, admin_app: str
) -> None:
    anna = browser.new_context(locale="en-US").new_page()
    signed_in(anna, admin_app, "anna", "anna-password-1", "Anna A")
    choose_language(anna, "Language", "日本語")
    anna.get_by_role("link", name="管理").click()
    for heading in ("利用状況", "ユーザー", "1 日あたりの上限", "監査ログ"):
        expect(anna.get_by_role("heading", name=heading)).to_be_visible(timeout=TIMEOUT)
    sent = anna.get_by_test_id("stMetric").filter(has_text="送信されたメッセージ（30 日間）")
    expect(sent).to_be_visible(timeout=TIMEOUT)
    expect(anna.get_by_text("過去 30 日間に送信されたメッセージはありません。")).to_be_visible()

    # The refusal of a nonsense amount (worded in storage) and the confirmation.
    choose(anna, "対象", "全員")
    anna.get_by_role("textbox", name="1 日あたりのメッセージ数").fill("lots")
    anna.get_by_role("button", name="上限を保存").click()
    refused = anna.get_by_text("1 日あたりのメッセージ数：'lots' は整数ではありません。")
    expect(refused).to_be_visible(timeout=TIMEOUT)
    choose(anna, "対象", "全員")
    anna.get_by_role("textbox", name="1 日あたりのメッセージ数").fill("0")
    anna.get_by_role("button", name="上限を保存").click()
    expect(anna.get_by_text("上限を保存しました。")).to_be_visible(timeout=TIMEOUT)

    choose_language(anna, "言語", "简体中文")
    for heading in ("用量", "用户", "每日限额", "审计日志"):
        expect(anna.get_by_role("heading", name=heading)).to_be_visible(timeout=TIMEOUT)
    expect(anna.get_by_role("link", name="管理")).to_be_visible()
    expect(anna.get_by_role("heading", name="監査ログ")).to_have_count(0)

    # Everyone's limit of 0: bert, reading Chinese, is told so and when it resets.
    bert = browser.new_context(locale="en-US").new_page()
    signed_in(bert, admin_app, "bert", "bert-password-1", "Bert B")
    choose_language(bert, "Language", "简体中文")
    send(bert, "你好")
    refusal = bert.get_by_text("未发送：今天你已被禁止向所有助手发送消息。")
    expect(refusal).to_be_visible(timeout=TIMEOUT)
    expect(refusal).to_contain_text("00:00 UTC（", timeout=TIMEOUT)
    expect(refusal).to_contain_text("未保存或发送任何内容。", timeout=TIMEOUT)


# Someone chose this name (a single sign-on user chooses the name claim; a password
# user's name is the operator's typing, here the same string): a formula for the
# spreadsheet that opens the usage CSV, an image, raw HTML and a link for the pages
# that show it.
HOSTILE = (
    '=HYPERLINK("http://collector.example/c","Open") '
    "![p](http://collector.example/p.png) <img src=x onerror=alert(1)> "
    "[Re-login here](http://collector.example/login) **loud**"
)


WORD_JOINER = "\u2060"  # core/safe_markdown.WORD_JOINER


def _shown(page: Page, text: str) -> None:
    """`text` is on the page as typed (`literal` puts invisible word joiners where the
    page would otherwise start a link: they are not part of what is read)."""
    expect(page.get_by_text(text[-20:], exact=False).first).to_be_visible(timeout=TIMEOUT)
    assert text in page.locator("body").inner_text().replace(WORD_JOINER, "")


def _planted(page: Page) -> list[str]:
    """What the hostile name planted in the page: links and images to its host, HTML."""
    return page.evaluate(
        """() => [...document.querySelectorAll(
            "a[href*='collector.example'], img[src*='collector.example'], img[src='x']")]
            .map(e => e.outerHTML)"""
    )


def test_a_users_name_is_shown_as_text_and_the_usage_csv_runs_no_formula(
    browser: Browser, start_app: StartApp, tmp_path: Path, fake: FakeOpenAI
) -> None:
    url = _with_users(start_app, tmp_path, fake, mallory=("mallory-password-1", HOSTILE))
    mallory = browser.new_context().new_page()
    mallory.goto(url)
    log_in(mallory, "mallory", "mallory-password-1")
    send(mallory, "Hello")
    expect(mallory.get_by_text("Fake answer to: Hello")).to_be_visible(timeout=TIMEOUT)

    anna = browser.new_context(accept_downloads=True).new_page()
    signed_in(anna, url, "anna", "anna-password-1", "Anna A")
    anna.get_by_role("link", name="Admin").click()
    expect(anna.get_by_text("1–2 of 2 users")).to_be_visible(timeout=TIMEOUT)
    choose(anna, "User to manage", f"{HOSTILE} (password)")
    expect(anna.get_by_text("can use the app.", exact=False)).to_be_visible(timeout=TIMEOUT)
    anna.get_by_role("button", name="Disable").click()
    done = anna.get_by_text("is disabled: signed out at their next action.", exact=False)
    expect(done).to_be_visible(timeout=TIMEOUT)
    assert {"admin": _planted(anna), "own page": _planted(mallory)} == {
        "admin": [],
        "own page": [],
    }
    _shown(anna, f"{HOSTILE} is disabled: signed out at their next action.")
    _shown(mallory, f"Signed in as {HOSTILE}")

    with anna.expect_download(timeout=TIMEOUT) as download:
        anna.get_by_role("button", name="Download usage per user, day and assistant (CSV)").click()
    with Path(download.value.path()).open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["day", "user_id", "user", "assistant", "messages", "tokens"]
    (row,) = rows[1:]
    assert row[2] == "'" + HOSTILE  # shown as typed, never run
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row), row
