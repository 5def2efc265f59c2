"""Paints a `Message` into Streamlit, live while it streams or at once from history.

`MessageView.update(message)` is the only way a message reaches the page: the
live loop calls it once per frame as the message grows, history calls it once
with `final=True`. Each part gets its own slot, created in part order; a slot
repaints only when its part changed. Text is split into finished Markdown
blocks (painted once) and the growing last block; a long growing block (and
a code interpreter's code) is shown as stacked pieces of which only the last
repaints, joined into one element when it is finished (`core.markdown`), and
`RepaintPace` skips frames once the bytes sent pass their budget. So the
bytes sent stay proportional to the answer rather than to its square.

Every text that arrives from a model, a server or a file is painted as
Markdown only after `core.safe_markdown.inert` (images become links showing
their host, links keep http/https/mailto, raw HTML shows as text, a single
line break stays one); what the user typed is plain text (`st.text`), exactly
as typed; names in labels (buttons, statuses, captions) only through `literal`
or `code_span`; never with `unsafe_allow_html`. Files leave through
`st.download_button`.

A message painted from a share link comes without its files' bytes: a
`FileSource` gives each file's size and a way to read it (`LazyFile`), so an
image is read when painted and any other file when its download is clicked,
never the whole conversation's files at once.

An image is painted only if Pillow reads it whole and it is at most
`MAX_IMAGE_PIXELS` (`readable_image`): bytes that start as a PNG does and are
not one, from any server, raised inside `st.image` and broke the conversation
(and every share of it) each time it opened; now such an image is what it is,
a file, offered as a download with one sentence saying so.
"""

from __future__ import annotations

import io
import itertools
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from assistants_ui.core.citations import annotate, footnotes_markdown
from assistants_ui.core.markdown import BlockSplitter, PieceSplitter, RepaintPace
from assistants_ui.core.math_delims import dollar_math
from assistants_ui.core.safe_markdown import code_span, inert, literal
from assistants_ui.core.transcript import (
    TOOL_LABELS,
    VOICE,
    ApprovalPart,
    ErrorPart,
    FilePart,
    ImagePart,
    Message,
    NoticePart,
    Part,
    ReasoningPart,
    RefusalPart,
    TextPart,
    ToolPart,
)
from assistants_ui.i18n import N_, _, format_size

__all__ = [
    "NOT_KEPT",
    "FileSource",
    "LazyFile",
    "MessageView",
    "approval_label",
    "hide_servers",
    "readable_image",
    "render_user_message",
    "without_servers",
]

NOT_KEPT = N_("this file was not kept (it was over the size limit for stored files).")
UNREADABLE = N_(
    "this image could not be shown (it is not one the page can read): here it is as a file."
)
MAX_IMAGE_PIXELS = 4096 * 4096  # larger is offered as a file, not decoded on every paint
_READABLE: dict[tuple[int, int], bool] = {}  # (size, hash of the bytes) -> readable
_READABLE_MAX = 256


def readable_image(data: bytes) -> bool:
    """Whether `st.image` can paint `data`: Pillow reads all of it, within the pixel bound.

    Decoded once per image and process (a page repaints its history on every run)."""
    key = (len(data), hash(data))
    known = _READABLE.get(key)
    if known is None:
        known = _decodes(data)
        if len(_READABLE) >= _READABLE_MAX:
            _READABLE.clear()
        _READABLE[key] = known
    return known


def _decodes(data: bytes) -> bool:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                return False
            image.load()
    except Exception:  # Pillow's many ways of saying no: unknown, truncated, corrupt, a bomb
        return False
    return True


DeltaGenerator = Any  # streamlit's container type; kept loose for mypy


@dataclass(frozen=True, slots=True)
class LazyFile:
    """A stored file painted without its bytes: its size, whether they were kept, and
    how to read them (when an image is painted, when a download is clicked)."""

    size: int
    stored: bool
    read: Callable[[], bytes]


# A message's file by (message id, "part" or "attachment", position); None: the
# bytes are in the message itself.
FileSource = Callable[[str, str, int], LazyFile | None]


# Pieces of one growing block, stacked so that they read as the block: no gap, one
# code box, one table (continuations hide their header row), one list, one
# paragraph flowing inline. Constant CSS, scoped to the pieces' keyed containers.
_PIECES_CSS = (
    "<style>[class*=st-key-pc-]{gap:0}"
    "[class*=st-key-pc-] [data-testid=stMarkdownContainer]{margin-bottom:0}"
    "[class*=st-key-pc-] [data-testid=stMarkdownContainer]>:last-child{margin-bottom:0}"
    "[class*=st-key-pc-code]>div:not(:first-child) pre"
    "{border-top-left-radius:0;border-top-right-radius:0;padding-top:0}"
    "[class*=st-key-pc-code]>div:not(:last-child) pre{border-bottom-left-radius:0;"
    "border-bottom-right-radius:0;padding-bottom:0;margin-bottom:0}"
    "[class*=st-key-pc-code]>div:not(:last-child) button{display:none}"
    "[class*=st-key-pc-table]>div:not(:first-child) thead{display:none}"
    "[class*=st-key-pc-table] table{table-layout:fixed;width:100%;margin:0}"
    "[class*=st-key-pc-list] :is(ul,ol){margin-bottom:0}"
    "[class*=st-key-pc-paragraph]{display:block}"
    "[class*=st-key-pc-paragraph] :is(div,p){display:inline}"
    '[class*=st-key-pc-paragraph] p::after{content:" "}</style>'
)
_piece_keys = itertools.count()
_DELTA_BYTES = 100  # what one painted element costs on the websocket besides its text
_SERVERS_KEY = "render_hidden_servers"  # the server URLs this reader is not shown
_URL_USER = re.compile(r"\b(https?://)[^/?#\s]*@")  # a URL's user and password


def hide_servers(urls: Iterable[str]) -> None:
    """Name none of these server URLs in the sentences this session shows (a reader
    who is not an admin); nothing given: name them."""
    st.session_state[_SERVERS_KEY] = tuple(sorted({u for u in urls if u}, key=len, reverse=True))


def without_servers(text: str) -> str:
    """`text` (a failure sentence) without the server URLs hidden from this reader:
    " at <url>" goes (as the sentence's language wrote it), any other mention
    becomes "the server". No URL keeps a user and password (a sentence saved
    before they were left out of sentences)."""
    for url in st.session_state.get(_SERVERS_KEY, ()):
        if url not in text:
            continue
        for phrase in (_(" at %(where)s") % {"where": url}, f" at {url}"):
            text = text.replace(phrase, "")
        text = text.replace(url, _("the server"))
    return _URL_USER.sub(r"\1", text)


class _Meter:
    """The bytes one message's paints sent (text plus a per-element estimate)."""

    def __init__(self) -> None:
        self.sent = 0
        self.styled = False  # the pieces' CSS went out with this message

    def style(self) -> None:
        if not self.styled:
            self.styled = True
            self.sent += len(_PIECES_CSS)
            st.html(_PIECES_CSS)  # style only: Streamlit sends it where it takes no space

    def markdown(self, target: DeltaGenerator, text: str) -> DeltaGenerator:
        self.sent += len(text.encode()) + _DELTA_BYTES
        return target.markdown(text)


class _Growing:
    """The block still growing: one element, or stacked pieces once it is long.

    `show(block)` paints the block so far; `finish(text)` paints the finished
    block (with whatever finished with it) whole into the same slot, replacing
    the pieces: the final text is painted exactly, as one element.
    """

    def __init__(self, parent: DeltaGenerator, meter: _Meter, *, wrap: str = "") -> None:
        self.parent = parent
        self.meter = meter
        self.wrap = wrap  # raw code: the fence its pieces are painted in
        self.slot: DeltaGenerator | None = None
        self.box: DeltaGenerator | None = None
        self.elements: list[DeltaGenerator] = []
        self.painted: list[str] = []
        self.splitter = PieceSplitter()

    def _markdown(self, target: DeltaGenerator, text: str) -> DeltaGenerator:
        # \( \) and \[ \] as the $ $ and $$ $$ KaTeX reads, then the whole painted
        # string made inert: a reference definition counts only within its own element.
        return self.meter.markdown(target, inert(dollar_math(text)))

    def show(self, block: str) -> None:
        pieces = self.splitter.split(self.wrap + block if self.wrap else block)
        if len(pieces) == 1 and self.box is None:
            if pieces[0] != (self.painted or [""])[0]:
                self._single(pieces[0])
            return
        if self.box is None:
            if self.slot is None:
                self.slot = self.parent.empty()
            self.meter.style()
            key = f"pc-{self.splitter.kind or 'block'}-{next(_piece_keys)}"
            self.box = self.slot.container(key=key, gap=None)
            self.elements, self.painted = [], []
        for index, piece in enumerate(pieces):
            if index < len(self.painted) and self.painted[index] == piece:
                continue
            if index < len(self.elements):
                self._markdown(self.elements[index], piece)
                self.painted[index] = piece
            else:
                self.elements.append(self._markdown(self.box, piece))
                self.painted.append(piece)
        for index in range(len(pieces), len(self.elements)):
            if self.painted[index]:
                self.elements[index].empty()
                self.painted[index] = ""

    def _single(self, text: str) -> None:
        if self.slot is None:
            self.slot = self._markdown(self.parent, text)
        else:
            self._markdown(self.slot, text)
        self.painted = [text]

    def finish(self, text: str) -> None:
        self.box = None
        self.elements = []
        self._single(text)


class _TextSlot:
    """Finished blocks in their own elements; only the growing block repaints.

    Elements are created by painting into the container (no empty placeholders
    first: each would be one more message to the browser) and replaced by
    painting into the element's own handle.
    """

    def __init__(self, container: DeltaGenerator, meter: _Meter) -> None:
        self.container = container
        self.meter = meter
        self.blocks = container.container()
        self.finished: list[_Growing] = []
        self.growing = _Growing(self.blocks, meter)
        self.splitter = BlockSplitter()
        self.painted = ""
        self.source = ""  # the part's text when it was last painted
        self.citations = 0
        self.footer: DeltaGenerator | None = None
        # The elements of a text painted anew (`_restart`), in reading order: the new
        # blocks are painted into them (and whether each still shows its old block).
        self.spare: list[tuple[DeltaGenerator, bool]] = []
        self.leftover = False

    def update(self, part: TextPart, final: bool) -> None:
        if not part.text.startswith(self.source):
            # The server's final word replaced text already painted (`ev.Replace`).
            self._restart()
        self.source = part.text
        text = part.text
        if part.citations:
            text, notes = annotate(part.text, part.citations)
            if len(part.citations) != self.citations:
                # Citation markers land inside finished blocks: repaint the text once.
                self.citations = len(part.citations)
                self._restart()
                if notes:
                    body = inert(_("Sources") + "\n\n" + footnotes_markdown(notes))
                    if self.footer is None:
                        self.footer = self.container.caption(body)
                    else:
                        self.footer.caption(body)
        self._paint(text, final)

    def _restart(self) -> None:
        """Paint the text anew, from its first block, into the elements that show it:
        each replaced in place. Emptied first, the answer would be gone from the page
        until it is painted again (a blink, as its sources came at its end)."""
        used = [(b.slot, True) for b in [*self.finished, self.growing] if b.slot is not None]
        self.spare = used + self.spare
        self.finished = []
        self.growing = self._block()
        self.splitter = BlockSplitter()
        self.painted = ""

    def _block(self) -> _Growing:
        """The next block: in a spare element if there is one, else after the others."""
        block = _Growing(self.blocks, self.meter)
        self.leftover = False  # whether its element still shows a block of the old text
        if self.spare:
            block.slot, self.leftover = self.spare.pop(0)
        return block

    def _paint(self, text: str, final: bool) -> None:
        if text == self.painted and not final:
            return
        finished, tail = self.splitter.advance(text, final=final)
        if finished:
            self.growing.finish(finished)
            self.finished.append(self.growing)
            self.growing = self._block()
        if tail:
            self.growing.show(tail)
        self.painted = text
        # What the new text does not reach yet shows nothing (emptied through each
        # element's own handle: emptying the container would leave them in the browser).
        if self.leftover and not self.growing.painted and self.growing.slot is not None:
            self.growing.slot.empty()
        self.leftover = False
        for index, (slot, shows) in enumerate(self.spare):
            if shows:
                slot.empty()
                self.spare[index] = (slot, False)


# An ended tool call's icon: the one Streamlit's status shows for its state.
_ENDED_ICONS = {"complete": ":material/check:", "error": ":material/error:"}


class _ToolSlot:
    def __init__(self, container: DeltaGenerator, meter: _Meter) -> None:
        self.box = container.empty()
        self.meter = meter
        self.seen: tuple[Any, ...] = ()
        self.code_seen = ""
        self.code: _Growing | None = None  # the code's pieces while it streams

    def update(self, part: ToolPart, final: bool) -> None:
        key = (part.status, len(part.logs), part.output, part.error, part.arguments)
        running = part.status == "running" and not final
        if key == self.seen and part.code == self.code_seen and (self.code is None or running):
            return
        self.code_seen = part.code
        if key == self.seen and self.code is not None and running:
            self.code.show(part.code)  # only the code grew: repaint its last piece
            return
        self.seen = key
        self.code = None
        label = _(TOOL_LABELS[part.tool]) if part.tool in TOOL_LABELS else literal(part.tool)
        if part.tool in ("function", "custom", "mcp"):
            label = f"{label} {code_span(part.name or '?')}"
        if part.server:
            label = f"{label} · {literal(part.server)}"
        state = {
            "running": "running",
            "completed": "complete",
            "failed": "error",
            "incomplete": "error",
        }[part.status]
        box = self.box.container()
        self.meter.sent += len(part.code) + len(part.logs) + _DELTA_BYTES * 3
        expanded = running or part.tool == "code_interpreter"
        # A status only while it runs, for its spinner: Streamlit pauses the run 50 ms
        # after making one, each time it is painted (each tool call in the history, on
        # every run), and what the previous run painted below it blinks meanwhile.
        if state == "running":
            frame = box.status(label, state=state, expanded=expanded)
        else:
            frame = box.expander(label, expanded=expanded, icon=_ENDED_ICONS[state])
        with frame:
            if part.tool == "code_interpreter":
                if running:
                    # Streaming code: painted in pieces of whole lines (see _Growing).
                    self.code = _Growing(st.container(), self.meter, wrap=_CODE_FENCE)
                    if part.code:
                        self.code.show(part.code)
                elif part.code:
                    st.code(part.code, language="python")
                if part.logs:
                    st.code(part.logs, language="text")
            elif part.tool in ("function", "mcp"):
                st.code(part.arguments or "{}", language="json")
                if part.output:
                    st.code(part.output, language="text")
            elif part.tool == "custom":
                st.code(part.arguments, language="text")
            elif part.tool in ("mcp_list_tools", "image_generation"):
                if part.output:
                    st.text(part.output)
            elif part.arguments:
                st.caption(literal(part.arguments))
            if part.error:
                st.error(inert(part.error))
        if part.passages:
            # Beside the status, not in it: Streamlit does not nest expanders.
            found = _("Passages found (%(count)s)") % {"count": len(part.passages)}
            with box.expander(found, expanded=False):
                for passage in part.passages:
                    score = ""
                    if passage.score is not None:
                        score = _(" · score %(score).2f") % {"score": passage.score}
                    st.caption(f"{literal(passage.source)}{score}")
                    st.text(passage.text)


def approval_label(part: ApprovalPart) -> str:
    """The tool and its MCP server, as literal text for a label."""
    return f"{code_span(part.name or '?')} on the MCP server {code_span(part.server or '?')}"


_DECISIONS = {
    "pending": N_(
        "Waiting for your decision: Approve or Deny below, or just write your next "
        "message (the call is then not made)."
    ),
    "approved": N_("✅ Approved."),
    "denied": N_("🚫 Denied: the call was not made."),
    "unanswered": N_("Not answered (the conversation went on): the call was not made."),
}


# A fence no Python line closes, around a code interpreter's code while it streams.
_CODE_FENCE = "~" * 12 + " python\n"


class _SimpleSlot:
    """Parts that appear complete (images, files, notices): painted once."""

    def __init__(self, container: DeltaGenerator, key: str, lazy: LazyFile | None = None) -> None:
        self.box = container.empty()
        self.key = key
        self.seen: object = None
        self.lazy = lazy  # the part's file, when its bytes are read on demand

    def update(self, part: Part, final: bool) -> None:
        growing = isinstance(part, ReasoningPart | RefusalPart)
        # A reasoning or refusal text grows, or is replaced by the server's final word.
        fingerprint: object = part.text if growing else id(part)  # type: ignore[union-attr]
        if isinstance(part, ImagePart):  # a partial image is replaced in place
            fingerprint = (id(part), id(part.data), final and part.partial)
        elif isinstance(part, ApprovalPart):
            fingerprint = (id(part), part.decision)
        if fingerprint == self.seen:
            return
        self.seen = fingerprint
        if isinstance(part, ReasoningPart):
            with self.box.container().expander(_("Reasoning"), expanded=False):
                st.markdown(inert(part.text))
        elif isinstance(part, RefusalPart):
            declined = _("The assistant declined to answer: %(reason)s") % {"reason": part.text}
            self.box.warning(inert(declined), icon="🚫")
        elif isinstance(part, ImagePart | FilePart) and not (
            self.lazy.stored if self.lazy else part.data
        ):
            # Stored without its bytes (over MAX_STORED_FILE_MB, or that set to 0).
            self.box.caption(f"📎 {literal(part.name)}: {_(NOT_KEPT)}")
        elif isinstance(part, ImagePart):
            image = self.lazy.read() if self.lazy else part.data
            if part.partial:
                caption = _("A partial image: the final one did not arrive.") if final else None
                if readable_image(image):
                    self.box.image(image, caption=caption or _("Generating… (a partial image)"))
                else:
                    self.box.caption(caption or _("Generating… (a partial image)"))
            elif not readable_image(image):
                box = self.box.container()
                box.caption(f"🖼 {literal(part.name)}: {_(UNREADABLE)}")
                box.download_button(
                    _("Download %(name)s (%(size)s)")
                    % {"name": literal(part.name), "size": format_size(len(image))},
                    data=image,
                    file_name=part.name,
                    mime="application/octet-stream",  # not what it claimed to be
                    key=f"{self.key}-dl",
                    icon=":material/download:",
                    on_click="ignore",
                )
            else:
                box = self.box.container()
                box.image(image, caption=literal(part.name))  # a caption renders Markdown
                box.download_button(
                    _("Download %(name)s") % {"name": literal(part.name)},
                    data=image,
                    file_name=part.name,
                    mime=part.mime,
                    key=f"{self.key}-dl",
                    icon=":material/download:",
                    on_click="ignore",
                )
        elif isinstance(part, FilePart):
            self.box.download_button(
                _("Download %(name)s (%(size)s)")
                % {
                    "name": literal(part.name),
                    "size": format_size(self.lazy.size if self.lazy else part.size),
                },
                data=self.lazy.read if self.lazy else part.data,  # read when clicked
                file_name=part.name,
                mime=part.mime,
                key=f"{self.key}-dl",
                icon=":material/download:",
                on_click="ignore",
            )
        elif isinstance(part, NoticePart):
            if part.level == "warning":
                self.box.warning(inert(part.text), icon="⚠️")
            else:
                self.box.info(inert(part.text), icon="ℹ️")
        elif isinstance(part, ErrorPart):
            self.box.error(inert(without_servers(part.reason)), icon="🚨")
        elif isinstance(part, ApprovalPart):
            box = self.box.container(border=True)
            needed = _("🔐 **Approval needed:** call %(tool)s") % {"tool": approval_label(part)}
            box.markdown(needed)
            box.code(part.arguments or "{}", language="json")
            box.caption(_(_DECISIONS[part.decision]))


# Who stopped an answer (`Message.stopped_by`); stored before that was kept: the reader.
_STOPPED_BY = {
    "user": N_("⏹ Stopped: the answer above is what arrived before you stopped it."),
    "server": N_("⏹ Stopped by the model's server: the answer above is what it sent."),
    "unattended": N_(
        "⏹ Stopped by the app: nobody had this conversation open for longer than "
        "UNATTENDED_ANSWER_MINUTES allows. The answer above is what arrived."
    ),
    "shutdown": N_(
        "⏹ Stopped: the app was shut down while this answer was being written. "
        "The answer above is what arrived."
    ),
}


class MessageView:
    """One message on the page; `update` paints what changed since the last call."""

    def __init__(
        self, container: DeltaGenerator, *, key: str, files: FileSource | None = None
    ) -> None:
        self.container = container
        self.key = key
        self.files = files
        self.slots: list[Any] = []
        self.kinds: list[str] = []
        self.version = -1
        self.status_box: DeltaGenerator | None = None
        self.meter = _Meter()
        self.pace = RepaintPace()

    def update(self, message: Message, *, version: int | None = None, final: bool = False) -> None:
        if version is not None and version == self.version and not final:
            return
        sent = self.meter.sent
        if not final and not self.pace.due(time.monotonic(), _size(message), sent):
            return  # over the bytes budget: this frame is skipped, a later one paints
        if version is not None:
            self.version = version
        for index, part in enumerate(message.parts):
            if index == len(self.slots):
                self.slots.append(self._slot_for(part, index, message.id))
                self.kinds.append(part.kind)
            self.slots[index].update(part, final)
        self.pace.painted(self.meter.sent != sent)
        if final:
            self._status(message)

    def _slot_for(self, part: Part, index: int, message_id: str) -> Any:
        if isinstance(part, TextPart):
            return _TextSlot(self.container.container(), self.meter)
        if isinstance(part, ToolPart):
            return _ToolSlot(self.container, self.meter)
        lazy = self.files(message_id, "part", index) if self.files else None
        return _SimpleSlot(self.container, f"{self.key}-{index}", lazy)

    def _status(self, message: Message) -> None:
        if message.status != "stopped":
            return
        if self.status_box is None:
            self.status_box = self.container.empty()
        self.status_box.caption(_(_STOPPED_BY[message.stopped_by or "user"]))


# Where an upload went (`Route.route`, "+"-joined), in plain words for its caption.
_ROUTES = {
    "inline": N_("sent with the message"),
    "file": N_("sent with the message"),
    "image": N_("sent as an image"),
    "file_search": N_("searchable by the assistant"),
    "document": N_("read by the assistant, cited by page"),
    "code_interpreter": N_("the assistant can analyse it with code"),
}


def _route(route: str) -> str:
    said = dict.fromkeys(  # each wording once, in the route's order
        _(_ROUTES[part]) if part in _ROUTES else part.replace("_", " ")
        for part in route.split("+")
        if part
    )
    return " · ".join(said)


def _size(message: Message) -> int:
    """The characters of a message's growing parts: what its repaints are measured against."""
    return sum(
        len(getattr(part, "text", "")) + len(getattr(part, "code", "")) for part in message.parts
    )


# `st.text` dedents and strips what it is given; a text that starts with white space
# (an indented first line, or every line indented) is shown after this invisible,
# zero-width character, which it neither strips nor dedents past.
_KEEP_INDENT = "\u200b"


def render_user_message(message: Message, files: FileSource | None = None) -> None:
    """The user's text exactly as typed, and the files they attached.

    `st.text` shows it as plain text in the page's font, its line breaks, blank
    lines, runs of spaces and tabs kept (its CSS preserves white space), and
    nothing in it read as Markdown or HTML, as ChatGPT shows questions.
    """
    if message.text:
        text = message.text
        st.text(_KEEP_INDENT + text if text[:1].isspace() else text)
    for part in message.approvals:
        verb = _("✅ Approved") if part.decision == "approved" else _("🚫 Denied")
        st.markdown(f"{verb}: {approval_label(part)}")
    for position, att in enumerate(message.attachments):
        lazy = files(message.id, "attachment", position) if files else None
        size = format_size(lazy.size if lazy else att.size)
        if att.route == VOICE:  # the recording the text was transcribed from
            heard = _("🎤 %(file)s (%(size)s), transcribed")
            st.caption(heard % {"file": literal(att.name), "size": size})
            if lazy.stored if lazy else att.data:
                st.audio(lazy.read() if lazy else att.data, format=att.mime)
            continue
        where = f" · {literal(_route(att.route))}" if att.route else ""
        st.caption(f"📎 {literal(att.name)} ({size}){where}")
