"""Under a finished answer: copy its Markdown in one click, regenerate it, the reader's feedback.

Copy is a tiny `st.components.v2` component: its HTML and script are fixed
here, and the answer reaches it only as data that the script hands to the
clipboard; no model text is ever turned into HTML. The text is not shipped
with the button (it would be one more copy of every answer on the
websocket, on every run that paints it): a click asks for it (a trigger
value, which reruns only the button's fragment) and the clipboard receives
it through a `ClipboardItem` whose data is a promise, which keeps the
click's user activation. Where that API is missing (a page not served over
HTTPS or from localhost), the text is kept once it came and the next click
copies it through a hidden textarea. Feedback is `st.feedback("thumbs")` with an optional
comment, saved on the message (`Recorder.save_feedback`) and exported with it.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from assistants_ui.core.session import ChatSession
from assistants_ui.core.transcript import Feedback, Message
from assistants_ui.i18n import _
from assistants_ui.storage import FEEDBACK_MAX, NotFound
from assistants_ui.web import chat_state

__all__ = ["answer_actions", "copy_button"]

_HTML = (
    '<button type="button" class="copy" title="Copy the answer as Markdown">'
    '<span class="label">Copy</span></button>'
)
_CSS = """
.copy {
  font: inherit; font-size: 0.85rem; cursor: pointer;
  color: var(--st-text-color); background: transparent;
  border: 1px solid var(--st-border-color, rgba(128, 128, 128, 0.4));
  border-radius: 0.5rem; padding: 0.15rem 0.6rem;
}
.copy:hover { border-color: var(--st-primary-color); color: var(--st-primary-color); }
"""
_JS = """
function fallback(text) {
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  let ok = false;
  try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
  area.remove();
  return ok;
}

export default function ({ parentElement, data, setTriggerValue }) {
  const button = parentElement.querySelector("button.copy");
  const label = button.querySelector(".label");
  const words = (data && data.labels) || {};
  const idle = words.copy || "Copy";
  label.textContent = idle;
  if (words.title) button.title = words.title;
  const shown = (ok) => {
    label.textContent = ok ? words.copied || "Copied" : words.failed || "Copy failed";
    setTimeout(() => { label.textContent = idle; }, 1500);
  };
  // The server's answer to a click: the text, once asked for.
  if (data && typeof data.text === "string") {
    parentElement.__copyText = data.text;
    if (parentElement.__copyWaiting) {
      parentElement.__copyWaiting(data.text);
      parentElement.__copyWaiting = null;
    }
  }
  button.onclick = async () => {
    const known = parentElement.__copyText;
    if (typeof known === "string") {
      let ok = false;
      try {
        await navigator.clipboard.writeText(known);
        ok = true;
      } catch (e) {
        ok = fallback(known);
      }
      shown(ok);
      return;
    }
    const text = new Promise((resolve) => { parentElement.__copyWaiting = resolve; });
    setTriggerValue("copy", true);
    try {
      const blob = text.then((t) => new Blob([t], { type: "text/plain" }));
      await navigator.clipboard.write([new ClipboardItem({ "text/plain": blob })]);
      shown(true);
    } catch (e) {
      label.textContent = words.again || "Click again to copy";  // no async clipboard: text kept
    }
  };
}
"""
_copy = st.components.v2.component("assistants_ui.copy_markdown", html=_HTML, css=_CSS, js=_JS)

_THUMBS: dict[int, Feedback] = {0: "down", 1: "up"}


def _asked(flag: str) -> None:
    st.session_state[flag] = True


@st.fragment
def copy_button(message: Message) -> None:
    """One click puts the answer's Markdown on the clipboard (fetched on that click)."""
    if not message.text:
        return
    key = f"copy-{message.id}"
    flag = f"{key}-asked"
    labels = {  # the script shows them as text (textContent), never as markup
        "copy": _("Copy"),
        "copied": _("Copied"),
        "failed": _("Copy failed"),
        "again": _("Click again to copy"),
        "title": _("Copy the answer as Markdown"),
    }
    data: dict[str, object] = {"labels": labels}
    if st.session_state.get(flag):
        data["text"] = message.text
    _copy(data=data, key=key, on_copy_change=lambda: _asked(flag), width="content")


def _save(chat: ChatSession, message: Message) -> None:
    value = st.session_state.get(f"feedback-{message.id}")
    message.feedback = _THUMBS.get(value) if isinstance(value, int) else None
    comment = st.session_state.get(f"feedback-comment-{message.id}")
    if isinstance(comment, str):
        message.feedback_comment = comment.strip()[:FEEDBACK_MAX]
    try:
        chat.save_feedback(message)
    except NotFound:
        st.toast(_("This answer is not saved any more: the feedback was not kept."), icon="🔎")
        return
    if message.feedback is not None:
        st.toast(_("Thanks for the feedback."), icon=":material/thumbs_up_down:")


def answer_actions(
    chat: ChatSession,
    message: Message,
    *,
    feedback: bool = True,
    regenerate: bool = False,
    versions: Callable[[], None] | None = None,
) -> None:
    """Copy, Regenerate, thumbs up/down and the answer's versions (`versions` paints
    them) in one row under a saved answer, and (once thumbed) a comment under it.

    The row wraps rather than stacking (columns stack on a phone: three rows of
    buttons under every answer). Regenerate asks the question again on a new
    branch (the page does it on the next run); the earlier answer stays, as
    another version.
    """
    if message.status == "streaming":
        return
    thumbs = feedback and chat.conversation_id is not None and message.status != "failed"
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        copy_button(message)
        if regenerate:
            st.button(
                _("Regenerate"),
                key=f"regenerate-{message.id}",
                icon=":material/autorenew:",
                type="tertiary",
                help=_("Answer this question again; this answer stays as another version"),
                on_click=chat_state.request_action,
                args=(chat_state.Regenerate(message.id),),
            )
        if thumbs:
            default = {"down": 0, "up": 1}.get(message.feedback or "")
            st.feedback(
                "thumbs",
                key=f"feedback-{message.id}",
                default=default,
                on_change=_save,
                args=(chat, message),
            )
        if versions is not None:
            versions()
    if thumbs and message.feedback is not None:
        st.text_input(
            _("Comment on this answer (optional)"),
            value=message.feedback_comment,
            key=f"feedback-comment-{message.id}",
            on_change=_save,
            args=(chat, message),
            max_chars=FEEDBACK_MAX,
            placeholder=_("What was good or wrong? Press Enter to save."),
            label_visibility="collapsed",
        )
