"""The i18n module: which language is active, and numbers, sizes, money and dates per language."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistants_ui import i18n
from assistants_ui.core.session import ChatSession, check_message
from assistants_ui.core.usage import Prices, describe
from assistants_ui.profiles import Profile


@pytest.fixture(autouse=True)
def no_resolver() -> Iterator[None]:
    i18n.set_resolver(None)
    yield
    i18n.set_resolver(None)


@pytest.mark.parametrize(
    ("tag", "code"),
    [
        ("ja-JP", "ja"),
        ("ja", "ja"),
        ("zh-CN", "zh"),
        ("zh-Hans-CN", "zh"),
        ("zh-TW", "zh"),  # the only Chinese catalog
        ("en-GB", "en"),
        ("en_US", "en"),
        ("fr-FR", None),
        ("", None),
        (None, None),
        ("not a tag!", None),
    ],
)
def test_a_browser_language_picks_an_interface_language(tag: str | None, code: str | None) -> None:
    assert i18n.negotiate(tag) == code


def test_the_context_wins_then_the_resolver_then_english() -> None:
    assert i18n.current() == "en"
    i18n.set_resolver(lambda: "zh")
    assert i18n.current() == "zh"
    with i18n.use("ja"):
        assert i18n.current() == "ja"
        assert i18n.gettext("Retry") == "再試行"
    assert i18n.gettext("Retry") == "重试"
    i18n.set_resolver(lambda: "klingon")  # a stored or forged value is no language
    assert i18n.current() == "en"


def test_a_thread_speaks_only_what_it_is_told() -> None:
    seen: list[str] = []
    with i18n.use("ja"):
        worker = threading.Thread(target=lambda: seen.append(i18n.current()))
        worker.start()
        worker.join()
    assert seen == ["en"]  # a new thread starts with no context: ReplyStream passes it on


def test_core_sentences_follow_the_language() -> None:
    with i18n.use("ja"):
        refused = check_message("x" * 12_345, 0, max_chars=10_000, max_files=3)
        assert refused == (
            "送信されませんでした：長さが 12,345 文字あり、上限の 10,000 文字を超えています"
            "（MAX_MESSAGE_CHARS）。"
        )
        assert describe(1_000, 500, prices=Prices(2.0, 8.0), seconds=40.0) == (
            "入力 1,000 トークン · 出力 500 · $0.006 · 12.5 トークン/秒"
        )
    with i18n.use("zh"):
        assert describe(1_000, 500, prices=Prices(2.0, 8.0)) == (
            "输入 1,000 个 token · 输出 500 · US$0.006"
        )


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 B"),
        (512, "512 B"),
        (3_500, "3.4 kB"),
        (12_000_000, "11.4 MB"),
        (5 << 40, "5,120.0 GB"),
    ],
)
def test_sizes(size: int, shown: str) -> None:
    assert i18n.format_size(size, locale="ja") == shown


@pytest.mark.parametrize(
    ("amount", "en", "zh"),
    [
        (0, "$0", "US$0"),
        (0.00001, "<$0.0001", "<US$0.0001"),
        (0.0031, "$0.0031", "US$0.0031"),
        (1234.5, "$1,234.50", "US$1,234.50"),
    ],
)
def test_money(amount: float, en: str, zh: str) -> None:
    assert i18n.format_money(amount, locale="en") == en
    assert i18n.format_money(amount, locale="zh") == zh


def test_dates_are_written_the_languages_way_in_utc() -> None:
    at = dt.datetime(2026, 11, 29, 14, 5, tzinfo=dt.UTC)
    assert i18n.format_datetime(at, locale="en") == "Nov 29, 2026, 2:05\u202fPM UTC"
    assert i18n.format_datetime(at, locale="ja") == "2026/11/29 14:05 UTC"
    assert i18n.format_datetime(at, locale="zh") == "2026年11月29日 14:05 UTC"
    tokyo = dt.timezone(dt.timedelta(hours=9))
    assert i18n.format_datetime(at.astimezone(tokyo), locale="ja") == "2026/11/29 14:05 UTC"


def test_a_fuzzy_or_missing_translation_shows_the_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "ja" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Language: ja\\n"\n\n'
        'msgid "Retry"\nmsgstr "再試行"\n\n'
        '#, fuzzy\nmsgid "Revoke"\nmsgstr "取り消す"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        with i18n.use("ja"):
            assert i18n.gettext("Retry") == "再試行"
            assert i18n.gettext("Revoke") == "Revoke"  # fuzzy: not trusted
            assert i18n.gettext("New chat") == "New chat"  # missing
    finally:
        i18n.translations.cache_clear()


class _Broken:
    """A backend with a bug: `send` raises what no backend maps."""

    def open(self) -> dict[str, str]:
        return {"conversation": "c1"}

    def upload(self, remote: object, attachment: object) -> None:
        return None

    def send(self, message: object, context: object) -> Iterator[object]:
        raise RuntimeError("boom")

    def cancel(self, remote: object) -> None:
        return None


def test_the_answers_worker_speaks_the_pages_language() -> None:
    """The reply runs in a thread of its own: the page's language goes with it."""
    profile = Profile(id="p", title="P", backend="chat", model="m")
    with i18n.use("ja"):
        session = ChatSession(profile, _Broken())  # type: ignore[arg-type]
        session.submit("hello", [])
        answer = session.reply().run_to_end()
    assert answer.status == "failed"
    assert answer.text == "" and "予期しないエラー(chat バックエンド)" in str(answer.parts[-1])
