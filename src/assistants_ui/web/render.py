"""Paints a `Message` into Streamlit, live while it streams or at once from history.

`MessageView.update(message)` is the only way a message reaches the page: the
live loop calls it once per frame as the message grows, history calls it once
with `final=True`. Each part gets its own slot, created in part order; a slot
repaints only when its part changed. Text is split into finished Markdown
blocks (painted once) and the growing last block (repainted), so the bytes
sent stay proportional to the answer rather than to its square.

Every text that arrives from a model, a server, a file or a user is painted as
Markdown only after `core.safe_markdown.inert` (images become links showing
their host, links keep http/https/mailto, raw HTML shows as text), and names
in labels (buttons, statuses, captions) only through `literal` or `code_span`;
never with `unsafe_allow_html`. Files leave through `st.download_button`.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from assistants_ui.core.citations import annotate, footnotes_markdown
from assistants_ui.core.markdown import BlockSplitter
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

__all__ = ["NOT_KEPT", "MessageView", "approval_label", "render_user_message"]

NOT_KEPT = N_("this file was not kept (it was over the size limit for stored files).")

DeltaGenerator = Any  # streamlit's container type; kept loose for mypy


class _TextSlot:
    """Finished blocks in their own elements; only the growing block repaints.

    Elements are created by painting into the container (no empty placeholders
    first: each would be one more message to the browser) and replaced by
    painting into the element's own handle.
    """

    def __init__(self, container: DeltaGenerator) -> None:
        self.container = container
        self.blocks = container.container()
        self.painted_elements: list[DeltaGenerator] = []
        self.current: DeltaGenerator | None = None
        self.splitter = BlockSplitter()
        self.painted = ""
        self.citations = 0
        self.footer: DeltaGenerator | None = None

    def update(self, part: TextPart, final: bool) -> None:
        text = part.text
        if part.citations:
            text, notes = annotate(part.text, part.citations)
            if len(part.citations) != self.citations:
                # Citation markers land inside finished blocks: repaint the text once.
                self.citations = len(part.citations)
                # Each element is emptied through its own handle: emptying or replacing
                # the container would leave the browser showing the old elements.
                for element in self.painted_elements:
                    element.empty()
                self.painted_elements = []
                self.current = None
                self.splitter = BlockSplitter()
                self.painted = ""
                if notes:
                    body = inert(_("Sources") + "\n\n" + footnotes_markdown(notes))
                    if self.footer is None:
                        self.footer = self.container.caption(body)
                    else:
                        self.footer.caption(body)
        self._paint(text, final)

    def _show(self, text: str) -> None:
        # \( \) and \[ \] as the $ $ and $$ $$ KaTeX reads, then the whole painted string
        # made inert: a reference definition counts only within its own element.
        text = inert(dollar_math(text))
        if self.current is None:
            self.current = self.blocks.markdown(text)
            self.painted_elements.append(self.current)
        else:
            self.current.markdown(text)

    def _paint(self, text: str, final: bool) -> None:
        if text == self.painted and not final:
            return
        finished, tail = self.splitter.advance(text, final=final)
        if finished:
            self._show(finished)
            self.current = None
        if tail:
            self._show(tail)
        self.painted = text


class _ToolSlot:
    def __init__(self, container: DeltaGenerator) -> None:
        self.box = container.empty()
        self.seen: tuple[Any, ...] = ()

    def update(self, part: ToolPart, final: bool) -> None:
        key = (part.status, len(part.code), len(part.logs), part.output, part.error, part.arguments)
        if key == self.seen:
            return
        self.seen = key
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
        running = part.status == "running"
        box = self.box.container()
        with box.status(label, state=state, expanded=running or part.tool == "code_interpreter"):
            if part.tool == "code_interpreter":
                if part.code:
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


class _SimpleSlot:
    """Parts that appear complete (images, files, notices): painted once."""

    def __init__(self, container: DeltaGenerator, key: str) -> None:
        self.box = container.empty()
        self.key = key
        self.seen: object = None

    def update(self, part: Part, final: bool) -> None:
        growing = isinstance(part, ReasoningPart | RefusalPart)
        fingerprint: object = len(part.text) if growing else id(part)  # type: ignore[union-attr]
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
        elif isinstance(part, ImagePart | FilePart) and not part.data:
            # Stored without its bytes (over MAX_STORED_FILE_MB, or that set to 0).
            self.box.caption(f"📎 {literal(part.name)}: {_(NOT_KEPT)}")
        elif isinstance(part, ImagePart) and part.partial:
            caption = _("A partial image: the final one did not arrive.") if final else None
            self.box.image(part.data, caption=caption or _("Generating… (a partial image)"))
        elif isinstance(part, ImagePart):
            box = self.box.container()
            box.image(part.data, caption=literal(part.name))  # a caption renders Markdown
            box.download_button(
                _("Download %(name)s") % {"name": literal(part.name)},
                data=part.data,
                file_name=part.name,
                mime=part.mime,
                key=f"{self.key}-dl",
                icon=":material/download:",
                on_click="ignore",
            )
        elif isinstance(part, FilePart):
            self.box.download_button(
                _("Download %(name)s (%(size)s)")
                % {"name": literal(part.name), "size": format_size(part.size)},
                data=part.data,
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
            self.box.error(inert(part.reason), icon="🚨")
        elif isinstance(part, ApprovalPart):
            box = self.box.container(border=True)
            needed = _("🔐 **Approval needed:** call %(tool)s") % {"tool": approval_label(part)}
            box.markdown(needed)
            box.code(part.arguments or "{}", language="json")
            box.caption(_(_DECISIONS[part.decision]))


_STATUS_NOTES = {
    "stopped": N_("⏹ Stopped: the answer above is what arrived before you stopped it."),
    "incomplete": N_("The answer is incomplete."),
}


class MessageView:
    """One message on the page; `update` paints what changed since the last call."""

    def __init__(self, container: DeltaGenerator, *, key: str) -> None:
        self.container = container
        self.key = key
        self.slots: list[Any] = []
        self.kinds: list[str] = []
        self.version = -1
        self.status_box: DeltaGenerator | None = None

    def update(self, message: Message, *, version: int | None = None, final: bool = False) -> None:
        if version is not None and version == self.version and not final:
            return
        if version is not None:
            self.version = version
        for index, part in enumerate(message.parts):
            if index == len(self.slots):
                self.slots.append(self._slot_for(part, index))
                self.kinds.append(part.kind)
            self.slots[index].update(part, final)
        if final:
            self._status(message)

    def _slot_for(self, part: Part, index: int) -> Any:
        if isinstance(part, TextPart):
            return _TextSlot(self.container.container())
        if isinstance(part, ToolPart):
            return _ToolSlot(self.container)
        return _SimpleSlot(self.container, f"{self.key}-{index}")

    def _status(self, message: Message) -> None:
        note = _STATUS_NOTES.get(message.status)
        if note and message.status == "stopped":
            if self.status_box is None:
                self.status_box = self.container.empty()
            self.status_box.caption(_(note))


# Where an upload went (`Route.route`, "+"-joined): the tools by their names.
_ROUTES = {
    **TOOL_LABELS,
    "inline": N_("in the message"),
    "image": N_("as an image"),
    "file": N_("as a file"),
}


def _route(route: str) -> str:
    return " + ".join(
        _(_ROUTES[part]) if part in _ROUTES else part.replace("_", " ") for part in route.split("+")
    )


def render_user_message(message: Message) -> None:
    """The user's text (as Markdown, inert) and the files they attached."""
    if message.text:
        st.markdown(inert(message.text))
    for part in message.approvals:
        verb = _("✅ Approved") if part.decision == "approved" else _("🚫 Denied")
        st.markdown(f"{verb}: {approval_label(part)}")
    for att in message.attachments:
        if att.route == VOICE:  # the recording the text was transcribed from
            heard = _("🎤 %(file)s (%(size)s), transcribed")
            st.caption(heard % {"file": literal(att.name), "size": format_size(att.size)})
            if att.data:
                st.audio(att.data, format=att.mime)
            continue
        where = f" → {_route(att.route)}" if att.route else ""
        st.caption(f"📎 {literal(att.name)} ({format_size(att.size)}){where}")
