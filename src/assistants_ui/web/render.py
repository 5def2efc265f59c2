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
    human_size,
)

__all__ = ["NOT_KEPT", "MessageView", "render_user_message"]

NOT_KEPT = "this file was not kept (it was over the size limit for stored files)."

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
                    body = inert("Sources\n\n" + footnotes_markdown(notes))
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
        label = TOOL_LABELS.get(part.tool) or literal(part.tool)
        if part.tool == "function":
            label = f"{label} {code_span(part.name or '?')}"
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
            elif part.tool == "function":
                st.code(part.arguments or "{}", language="json")
                if part.output:
                    st.code(part.output, language="text")
            elif part.arguments:
                st.caption(literal(part.arguments))
            if part.error:
                st.error(inert(part.error))


class _SimpleSlot:
    """Parts that appear complete (images, files, notices): painted once."""

    def __init__(self, container: DeltaGenerator, key: str) -> None:
        self.box = container.empty()
        self.key = key
        self.seen: object = None

    def update(self, part: Part, final: bool) -> None:
        growing = isinstance(part, ReasoningPart | RefusalPart)
        fingerprint: object = len(part.text) if growing else id(part)  # type: ignore[union-attr]
        if fingerprint == self.seen:
            return
        self.seen = fingerprint
        if isinstance(part, ReasoningPart):
            with self.box.container().expander("Reasoning", expanded=False):
                st.markdown(inert(part.text))
        elif isinstance(part, RefusalPart):
            self.box.warning(inert(f"The assistant declined to answer: {part.text}"), icon="🚫")
        elif isinstance(part, ImagePart | FilePart) and not part.data:
            # Stored without its bytes (over MAX_STORED_FILE_MB, or that set to 0).
            self.box.caption(f"📎 {literal(part.name)}: {NOT_KEPT}")
        elif isinstance(part, ImagePart):
            box = self.box.container()
            box.image(part.data, caption=literal(part.name))  # a caption renders Markdown
            box.download_button(
                f"Download {literal(part.name)}",
                data=part.data,
                file_name=part.name,
                mime=part.mime,
                key=f"{self.key}-dl",
                icon=":material/download:",
                on_click="ignore",
            )
        elif isinstance(part, FilePart):
            self.box.download_button(
                f"Download {literal(part.name)} ({human_size(part.size)})",
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


_STATUS_NOTES = {
    "stopped": "⏹ Stopped: the answer above is what arrived before you stopped it.",
    "incomplete": "The answer is incomplete.",
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
            self.status_box.caption(note)


def render_user_message(message: Message) -> None:
    """The user's text (as Markdown, inert) and the files they attached."""
    if message.text:
        st.markdown(inert(message.text))
    for att in message.attachments:
        if att.route == VOICE:  # the recording the text was transcribed from
            st.caption(f"🎤 {literal(att.name)} ({human_size(att.size)}), transcribed")
            if att.data:
                st.audio(att.data, format=att.mime)
            continue
        where = f" → {att.route.replace('_', ' ')}" if att.route else ""
        st.caption(f"📎 {literal(att.name)} ({human_size(att.size)}){where}")
