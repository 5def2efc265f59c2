"""The interface's languages in real headless Chromium (`assistants-ui run`):

- the browser's language (Chromium's `locale`) picks English, Japanese or
  Simplified Chinese; the model's answer is shown as it came, untranslated;
- the sidebar's selector switches language at once, and a reload keeps the
  choice (a guest's in the browser's cookie);
- a signed-in user's choice is kept with the account: a fresh browser with
  another language shows it after sign-in, and another user keeps their own.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from test_isolation_browser import signed_in
from test_login_browser import TIMEOUT, log_in

from browser_support import StartApp, send
from fakes.server import FakeOpenAI

pytestmark = pytest.mark.browser

# What each language shows: the sidebar's button, the selector's label, the usage caption.
SHOWN = {
    "en-US": ("New chat", "Language", "10 tokens in · 20 out"),
    "ja-JP": ("新しいチャット", "言語", "入力 10 トークン · 出力 20"),
    "zh-CN": ("新建对话", "语言", "输入 10 个 token · 输出 20"),
}


def choose_language(page: Page, label: str, name: str) -> None:
    """Pick `name` in the sidebar's language selector (labelled `label`)."""
    box = page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text=label)
    # Right after signing in, the login page's selector stays until the run ends.
    expect(box).to_have_count(1, timeout=TIMEOUT)
    expect(box).to_be_visible(timeout=TIMEOUT)
    wanted = page.get_by_role("option", name=name, exact=True)
    for attempt in range(6):  # a rerun still finishing may close the list as it opens
        box.click()
        try:
            wanted.click(timeout=5_000)
            return
        except PlaywrightTimeout:
            if attempt == 5:
                raise
            page.keyboard.press("Escape")


def new_chat_button(page: Page, name: str) -> None:
    side = page.get_by_test_id("stSidebar")
    expect(side.get_by_role("button", name=name)).to_be_visible(timeout=TIMEOUT)


@pytest.mark.parametrize("locale", list(SHOWN))
def test_the_page_speaks_the_browsers_language(
    browser: Browser, start_app: StartApp, fake: FakeOpenAI, locale: str
) -> None:
    url = start_app({"OPENAI_BASE_URL": fake.base_url, "OPENAI_MODEL": "m"})
    context = browser.new_context(locale=locale)
    try:
        page = context.new_page()
        page.goto(url)
        new_chat, _label, usage = SHOWN[locale]
        new_chat_button(page, new_chat)
        send(page, "Bonjour")
        expect(page.get_by_text("Fake answer to: Bonjour")).to_be_visible(timeout=TIMEOUT)
        expect(page.get_by_text(usage)).to_be_visible(timeout=TIMEOUT)
        for other, (word, _, _) in SHOWN.items():
            if other != locale:
                expect(page.get_by_role("button", name=word)).to_have_count(0)
    finally:
        context.close()


def test_the_selector_switches_and_a_reload_keeps_it(
    browser: Browser, start_app: StartApp, fake: FakeOpenAI
) -> None:
    url = start_app({"OPENAI_BASE_URL": fake.base_url, "OPENAI_MODEL": "m"})
    context = browser.new_context(locale="ja-JP")
    try:
        page = context.new_page()
        page.goto(url)
        new_chat_button(page, "新しいチャット")
        choose_language(page, "言語", "简体中文")
        new_chat_button(page, "新建对话")
        expect(page.get_by_test_id("stChatInputTextArea")).to_have_attribute(
            "placeholder", "给 Assistant 发消息 · 上传文件", timeout=TIMEOUT
        )
        page.wait_for_function(
            "() => document.cookie.includes('assistants_ui_language=zh')", timeout=TIMEOUT
        )
        page.reload()
        new_chat_button(page, "新建对话")  # not the browser's Japanese
        choose_language(page, "语言", "English")
        new_chat_button(page, "New chat")
    finally:
        context.close()


def test_a_signed_in_users_choice_follows_them_to_another_browser(
    browser: Browser, two_users_app: str
) -> None:
    first = browser.new_context(locale="en-US")
    second = browser.new_context(locale="en-US")
    third = browser.new_context(locale="en-US")
    try:
        anna = first.new_page()
        signed_in(anna, two_users_app, "anna", "anna-password-1", "Anna A")
        choose_language(anna, "Language", "日本語")
        side = anna.get_by_test_id("stSidebar")
        expect(side.get_by_role("button", name="ログアウト")).to_be_visible(timeout=TIMEOUT)
        expect(side.get_by_text("Anna A としてサインイン中")).to_be_visible()

        elsewhere = second.new_page()  # no cookie of the first browser, an English browser
        elsewhere.goto(two_users_app)
        expect(elsewhere.get_by_role("heading", name="Log in")).to_be_visible(timeout=TIMEOUT)
        log_in(elsewhere, "anna", "anna-password-1")
        new_chat_button(elsewhere, "新しいチャット")
        expect(elsewhere.get_by_text("Anna A としてサインイン中")).to_be_visible()

        bert = third.new_page()  # another account keeps the browser's language
        signed_in(bert, two_users_app, "bert", "bert-password-1", "Bert B")
        new_chat_button(bert, "New chat")
    finally:
        for context in (first, second, third):
            context.close()
