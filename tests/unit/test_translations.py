"""The interface's catalogs: complete, up to date with the source, and every string wrapped.

- Each catalog (ja, zh) must translate every msgid that `pybabel extract` finds
  in the source now (run into a temporary template, with babel.cfg, exactly as
  `make translations` runs it), with no fuzzy entry, no stale msgid and the same
  placeholders as the English. A failure lists the msgids, one per line.
- Every text argument of a Streamlit call in `web/` (labels, bodies, placeholders,
  help) must go through `_()`/`ngettext()`: a string literal with a letter in it
  outside those calls fails, naming the file and line.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from assistants_ui import i18n

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "assistants_ui"
WEB = PACKAGE / "web"
TRANSLATED = [code for code in i18n.LANGUAGES if code != i18n.DEFAULT]
PYBABEL = Path(sys.executable).with_name("pybabel")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """What the source asks to translate today (`pybabel extract` as the Makefile runs it)."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run(
        [str(PYBABEL), "extract", "--mapping-file", str(ROOT / "babel.cfg"),
         "--keywords", "N_", "--no-location", "--output-file", str(pot), str(PACKAGE)],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )  # fmt: skip
    with pot.open("rb") as f:
        return read_po(f)


def _catalog(code: str) -> Catalog:
    with (i18n.LOCALES_DIR / code / "LC_MESSAGES" / f"{i18n.DOMAIN}.po").open("rb") as f:
        return read_po(f, locale=code)


def _ids(catalog: Catalog) -> dict[str, Message]:
    return {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}


def _listing(title: str, msgids: list[str]) -> str:
    return f"{title} ({len(msgids)}); run `make translations`, see docs/translations.md:\n" + (
        "\n".join(f"  msgid {msgid!r}" for msgid in sorted(msgids))
    )


def _untranslated(message: Message) -> bool:
    strings = message.string if isinstance(message.string, tuple | list) else [message.string]
    return message.fuzzy or not all(strings)


def test_the_template_finds_the_interface_strings(template: Catalog) -> None:
    ids = _ids(template)
    assert "New chat" in ids and "Snapshot of %(when)s, %(count)s message:" in ids
    assert len(ids) > 50


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_catalog_translates_every_string_of_the_source(template: Catalog, code: str) -> None:
    source, catalog = _ids(template), _ids(_catalog(code))
    missing = [msgid for msgid in source if msgid not in catalog or _untranslated(catalog[msgid])]
    if missing:
        pytest.fail(_listing(f"{code}: msgids without a translation", missing), pytrace=False)


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_catalog_has_no_string_the_source_lost(template: Catalog, code: str) -> None:
    source, catalog = _ids(template), _ids(_catalog(code))
    stale = [msgid for msgid in catalog if msgid not in source]
    if stale:
        pytest.fail(_listing(f"{code}: msgids no longer in the source", stale), pytrace=False)


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@pytest.mark.parametrize("code", TRANSLATED)
def test_translations_keep_the_placeholders(code: str) -> None:
    wrong = []
    for msgid, message in _ids(_catalog(code)).items():
        ids = message.id if isinstance(message.id, tuple | list) else [message.id]
        strings = message.string if isinstance(message.string, tuple | list) else [message.string]
        wanted = set(_PLACEHOLDER.findall(ids[-1]))
        if any(s and set(_PLACEHOLDER.findall(s)) != wanted for s in strings):
            wrong.append(msgid)
    if wrong:
        pytest.fail(_listing(f"{code}: translations with other placeholders", wrong), pytrace=False)


def test_the_catalogs_load_and_translate() -> None:
    with i18n.use("ja"):
        assert i18n.gettext("New chat") == "新しいチャット"
        assert i18n.ngettext("%(n)s minute", "%(n)s minutes", 3) % {"n": 3} == "3分"
    with i18n.use("zh"):
        assert i18n.gettext("New chat") == "新建对话"
    with i18n.use("en"):
        assert i18n.gettext("New chat") == "New chat"
    assert i18n.gettext("not a msgid at all") == "not a msgid at all"


# -- (b) every string shown by web/ goes through the catalogs ---------------------------

# Streamlit calls whose arguments are shown as text (on st, a container or a column).
TEXT_CALLS = {
    "button", "caption", "chat_input", "checkbox", "download_button", "error", "expander",
    "form_submit_button", "header", "info", "link_button", "markdown", "multiselect",
    "number_input", "popover", "radio", "selectbox", "status", "subheader", "success",
    "text_area", "text_input", "title", "toast", "toggle", "warning", "write", "image",
    "spinner", "page_link", "metric",
}  # fmt: skip
# Their arguments that are text: the first positional one (label or body) and these.
TEXT_KEYWORDS = {"label", "body", "placeholder", "help", "caption", "text"}
TRANSLATORS = {"_", "gettext", "ngettext"}
# Literals with letters that are not prose (file name, literal): format names.
ALLOWED = {("conversation_menu.py", "Markdown"), ("conversation_menu.py", "JSON")}
LOGGERS = {"log", "logger", "logging"}  # log.error(...) is for the operator, in English


def _texts(node: ast.AST) -> list[ast.Constant]:
    """String literals with a letter in `node`, outside translation calls."""
    found: list[ast.Constant] = []

    def visit(n: ast.AST) -> None:
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in TRANSLATORS:
            return
        if isinstance(n, ast.Dict):  # `_("… %(name)s") % {"name": …}`: keys are not shown
            for value in n.values:
                visit(value)
            return
        if isinstance(n, ast.FormattedValue):  # `{when:%Y-%m-%d}`: a format, not text
            visit(n.value)
            return
        if isinstance(n, ast.Constant) and isinstance(n.value, str):
            if any(ch.isalpha() for ch in n.value):
                found.append(n)
            return
        for child in ast.iter_child_nodes(n):
            visit(child)

    visit(node)
    return found


def unwrapped(source: str, filename: str) -> list[str]:
    """`file:line: 'literal'` for each shown literal not passed through the catalogs."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in TEXT_CALLS:
            continue
        receiver = node.func.value
        if isinstance(receiver, ast.Name) and receiver.id in LOGGERS:
            continue
        shown = node.args[:1] + [k.value for k in node.keywords if k.arg in TEXT_KEYWORDS]
        for arg in shown:
            for literal in _texts(arg):
                if (filename, literal.value) not in ALLOWED:
                    problems.append(f"{filename}:{literal.lineno}: {literal.value!r}")
    return problems


def test_the_check_finds_an_unwrapped_label() -> None:
    assert unwrapped('st.button("Save")', "x.py") == ["x.py:1: 'Save'"]
    assert unwrapped('box.caption(f"{n} tokens")', "x.py") == ["x.py:1: ' tokens'"]
    assert unwrapped('st.error("Oops" if bad else _("Fine"))', "x.py") == ["x.py:1: 'Oops'"]
    assert unwrapped('st.text_input(_("Title"), placeholder="Type")', "x.py") == ["x.py:1: 'Type'"]
    fine = """
st.button(_("Save"), key="save-button", icon=":material/save:")
st.info(_("Shared on %(when)s") % {"when": f"{day:%Y-%m-%d}"}, icon="🔗")
st.caption(f"📎 {literal(name)} ({format_size(size)})")
st.error(ngettext("%(n)s file", "%(n)s files", n) % {"n": n})
"""
    assert unwrapped(fine + 'log.error("storage: %s", exc)', "x.py") == []


def test_every_string_web_shows_is_wrapped_for_translation() -> None:
    problems = []
    for path in sorted(WEB.glob("*.py")):
        problems += unwrapped(path.read_text(encoding="utf-8"), path.name)
    if problems:
        pytest.fail("shown but not translatable (wrap in _()):\n" + "\n".join(problems), False)
