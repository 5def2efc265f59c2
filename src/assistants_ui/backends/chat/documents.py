"""Documents in a Chat Completions answer: kept, then given whole or searched, and cited.

Chat Completions has no file store, so the app keeps the documents itself
(the `Shelf` in `SendContext.documents`: the conversation's attachments and
the assistant's knowledge, in the app's database). Each answer:

1. indexes the question's new documents (shown as a file-search step, one
   sentence per file that cannot be read, which ends the answer: nothing else
   is lost, and the chat goes on);
2. puts every document whole before the question when they all fit the
   model's context budget (the local model's window, or the profile's
   `context_tokens` for a server), as a person would paste them;
3. otherwise searches them: a model offered tools gets `search_documents`
   through the one tool loop; any other model gets the best passages before
   the question, numbered; either way the passages are shown (the step's
   expander) and cited as footnotes with the file name and page.

Without a shelf (a session with no library) documents are read and pasted
whole, cut at `INLINE_LIMIT_CHARS`, as text files always were.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from assistants_ui.backends.tool_calls import Tool
from assistants_ui.core import events as ev
from assistants_ui.core.documents import (
    DocumentError,
    Embedder,
    Hit,
    Shelf,
    WholeText,
)
from assistants_ui.core.failures import failure
from assistants_ui.core.transcript import Attachment, Message
from assistants_ui.documents.extract import ExtractError, extract
from assistants_ui.tools.functions import ToolResult, parse_arguments

__all__ = [
    "CHARS_PER_TOKEN",
    "DOCUMENT_ROUTE",
    "INLINE_LIMIT_CHARS",
    "SEARCH_TOOL",
    "Retrieval",
    "fenced",
    "prompt_chars",
]

DOCUMENT_ROUTE = "document"
SEARCH_TOOL = "search_documents"
INLINE_LIMIT_CHARS = 60_000
# Tokens are counted as this many characters (fewer than most tokenisers make of
# English, so that what is put in fits).
CHARS_PER_TOKEN = 3
# The share of the prompt's room that documents may take (the rest: the history).
DOCUMENT_SHARE = 0.6
MAX_PASSAGES = 8
MIN_PASSAGE_CHARS = 200
# Room in the prompt for the template's own tokens.
_OVERHEAD_TOKENS = 64


def prompt_chars(
    context_tokens: int, answer_tokens: int, instructions: str | None, question: str
) -> int:
    """Characters of documents that fit in the prompt beside the question."""
    room = context_tokens - answer_tokens - _OVERHEAD_TOKENS
    room -= (len(instructions or "") + len(question)) // CHARS_PER_TOKEN + 1
    return max(0, int(room * DOCUMENT_SHARE) * CHARS_PER_TOKEN)


def fenced(name: str, text: str) -> str:
    cut = ""
    if len(text) > INLINE_LIMIT_CHARS:
        text = text[:INLINE_LIMIT_CHARS]
        cut = f"\n[... cut after {INLINE_LIMIT_CHARS} characters]"
    fence = "````" if "```" in text else "```"
    return f"Attached file `{name}`:\n{fence}\n{text}{cut}\n{fence}"


def _passage_block(number: int, hit: Hit, text: str) -> str:
    where = hit.label + (f" ({hit.heading})" if hit.heading else "")
    return f"[{number}] {where}\n{text}"


@dataclass(slots=True)
class Retrieval:
    """One answer's documents: what goes before the question, the tool, the citations."""

    shelf: Shelf | None
    embedder: Embedder | None
    budget_chars: int
    tools: bool  # the model is offered tools: it searches itself
    whole: list[WholeText] = field(default_factory=list)
    given: list[Hit] = field(default_factory=list)  # passages put before the question
    found: list[Hit] = field(default_factory=list)  # every passage the answer was given
    searchable: bool = False  # documents too long to give whole: searched
    _pending: list[Hit] | None = None

    # -- 1. indexing -------------------------------------------------------------------

    def index(self, message: Message) -> Iterator[ev.StreamEvent]:
        """Put the question's documents on the shelf; a `Failed` ends the answer."""
        new = [a for a in message.attachments if a.route == DOCUMENT_ROUTE]
        if self.shelf is None or not new:
            return
        call_id = f"index_{uuid.uuid4().hex[:12]}"
        names = [a.name for a in new]
        yield ev.ToolCallStarted(call_id, "file_search", "indexing", json.dumps({"files": names}))
        problems: list[str] = []
        said: list[str] = []
        for att in new:
            try:
                added = self.shelf.add(att, self.embedder)
            except DocumentError as exc:
                problems.append(exc.reason.rstrip("."))
                continue
            said.extend(added.notes)
        for note in said:
            yield ev.Notice(note.rstrip(".") + ".", "warning")
        if problems:
            reason = "; ".join(problems)
            yield ev.ToolCallDone(call_id, "failed", error=reason + ".")
            yield failure("upload_refused", message=reason[:1].upper() + reason[1:] + ".")
            return
        yield ev.ToolCallDone(call_id, "completed")

    # -- 2. whole or searched ------------------------------------------------------------

    def prepare(self, question: str) -> Iterator[ev.StreamEvent]:
        """Decide: the documents whole, or searched (now, or by the model)."""
        if self.shelf is None:
            return
        whole = self.shelf.whole(self.budget_chars)
        if whole is not None:
            self.whole = whole
            return
        self.searchable = True
        if self.tools:
            return  # the model calls search_documents
        limit = max(1, min(MAX_PASSAGES, self.budget_chars // 800))
        yield from self._search(question, limit, give=True)

    def _search(self, query: str, limit: int, *, give: bool) -> Iterator[ev.StreamEvent]:
        assert self.shelf is not None
        call_id = f"search_{uuid.uuid4().hex[:12]}"
        yield ev.ToolCallStarted(
            call_id, "file_search", SEARCH_TOOL, json.dumps({"query": query}, ensure_ascii=False)
        )
        found = self.shelf.search(query, limit, self.embedder)
        hits = found.hits
        if give:
            hits = self._fit(hits)
            self.given = hits
        self.found.extend(h for h in hits if h not in self.found)
        yield ev.ToolCallDone(call_id, "completed", passages=tuple(_passage(h) for h in hits))
        for note in found.notes:
            yield ev.Notice(note.rstrip(".") + ".", "info")

    def _fit(self, hits: Sequence[Hit]) -> list[Hit]:
        """The best passages that fit the budget (the first one cut if it alone does not)."""
        out: list[Hit] = []
        left = self.budget_chars
        for hit in hits:
            if len(hit.text) + 40 > left:
                if not out and left > MIN_PASSAGE_CHARS:
                    out.append(_cut(hit, left - 40))
                break
            out.append(hit)
            left -= len(hit.text) + 40
        return out

    # -- what the model reads ---------------------------------------------------------

    def question_text(self, message: Message) -> str:
        """The question as the model gets it: with the documents or passages before it."""
        text = message.text
        if self.whole:
            docs = "\n\n".join(fenced(w.name, w.text) for w in self.whole)
            return f"{docs}\n\n{text}"
        if self.given:
            blocks = "\n\n".join(_passage_block(i, h, h.text) for i, h in enumerate(self.given, 1))
            return (
                "Passages from the attached documents (cite them by number, like [1]):\n\n"
                f"{blocks}\n\nQuestion: {text}"
            )
        if self.searchable and self.tools:
            return (
                "(The attached documents are too long to include: call "
                f"{SEARCH_TOOL} to find the passages you need.)\n\n{text}"
            )
        return text

    def tool(self) -> Tool | None:
        """`search_documents`, for a model offered tools, when there is something to search."""
        if not (self.tools and self.searchable and self.shelf is not None):
            return None
        return Tool(
            SEARCH_TOOL,
            "Search the documents attached to this conversation (and the assistant's "
            "knowledge files) for passages about a question. Returns numbered passages "
            "with their file name and page.",
            {
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "What to look for."},
                },
                "required": ["query"],
            },
            self._run_tool,
            "documents",
        )

    def _run_tool(self, arguments: str) -> ToolResult:
        parsed = parse_arguments(arguments)
        if isinstance(parsed, ToolResult):
            return parsed
        query = str(parsed.get("query") or "").strip()
        if not query:
            return ToolResult("Error: give a `query` to search for.", False)
        assert self.shelf is not None
        limit = max(1, min(MAX_PASSAGES, self.budget_chars // 800))
        found = self.shelf.search(query, limit, self.embedder)
        hits = self._fit(found.hits)
        self._pending = hits
        start = len(self.found)
        self.found.extend(h for h in hits if h not in self.found)
        if not hits:
            return ToolResult(" ".join(found.notes) or "No passage found.", True)
        blocks = [_passage_block(start + i, h, h.text) for i, h in enumerate(hits, 1)]
        return ToolResult("\n\n".join(blocks), True)

    def with_passages(self, event: ev.StreamEvent) -> ev.StreamEvent:
        """A `search_documents` call's `ToolCallDone` with the passages it returned."""
        if isinstance(event, ev.ToolCallDone) and self._pending is not None:
            hits, self._pending = self._pending, None
            return ev.ToolCallDone(
                event.call_id,
                event.status,
                output=event.output,
                error=event.error,
                arguments=event.arguments,
                passages=tuple(_passage(h) for h in hits),
            )
        return event

    # -- 3. citations ---------------------------------------------------------------------

    def citations(self, answer: str) -> Iterator[ev.Citation]:
        """The sources the answer was given, as footnotes: where the model wrote a
        passage's number, there; the others after the text. One footnote per file and page."""
        if self.whole:
            for w in self.whole:
                yield ev.Citation("file", w.name)
            return
        for number, hit in enumerate(self.found, 1):
            marker = f"[{number}]"
            yield ev.Citation("file", hit.label, marker=marker if marker in answer else "")


def _passage(hit: Hit) -> ev.Passage:
    source = hit.label + (f" · {hit.heading}" if hit.heading else "")
    return ev.Passage(source, hit.text, None, hit.document_id)


def _cut(hit: Hit, chars: int) -> Hit:
    return Hit(
        hit.name, hit.text[:chars], hit.page, hit.heading, hit.score, hit.document_id, hit.chunk_id
    )


def inline_documents(attachments: Sequence[Attachment]) -> tuple[list[str], list[str]]:
    """Without a shelf: each document's text pasted whole (cut), and the problems."""
    blocks: list[str] = []
    problems: list[str] = []
    for att in attachments:
        try:
            extracted = extract(att.name, att.data)
        except ExtractError as exc:
            problems.append(exc.reason)
            continue
        blocks.append(fenced(att.name, extracted.text))
    return blocks, problems
