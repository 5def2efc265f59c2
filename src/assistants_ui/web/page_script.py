"""The page's one piece of behaviour Streamlit has no element for: where the view is.

A `st.components.v2` component whose HTML, CSS and script are constants here
(nothing the model or the reader wrote reaches it; its labels are set with
`textContent`). Painted once per run, it:

- scrolls to the question just sent (`sent`: the question's id, so each
  question scrolls once; found by the key of the turn it starts,
  `chat_view._turn_key`, as the run paints it after this script), even when
  the reader had scrolled up,
  and keeps it there while its answer grows below it;
- while an answer streams (`streaming`), keeps a reader who is at the end at
  the end as it grows, and shows a "Latest" button to one who scrolled up,
  which scrolls back down (and keeps them there);
- puts the cursor in the edit box of the question being edited (`focus`: the
  edit box's key), once per opened form.
"""

from __future__ import annotations

import streamlit as st

from assistants_ui.i18n import _

__all__ = ["page_script"]

_HTML = '<button type="button" class="latest" hidden><span class="label">Latest</span></button>'
_CSS = """
.latest {
  position: fixed; bottom: 7.5rem; left: 50%; transform: translateX(-50%); z-index: 99;
  font: inherit; font-size: 0.85rem; cursor: pointer;
  color: var(--st-text-color); background: var(--st-background-color, white);
  border: 1px solid var(--st-border-color, rgba(128, 128, 128, 0.4));
  border-radius: 1rem; padding: 0.25rem 0.8rem; box-shadow: 0 1px 4px rgba(0, 0, 0, 0.15);
}
.latest:hover { border-color: var(--st-primary-color); color: var(--st-primary-color); }
"""
_JS = """
function scroller(doc, el) {
  for (let p = el && el.parentElement; p; p = p.parentElement) {
    const style = getComputedStyle(p);
    if (/(auto|scroll)/.test(style.overflowY) && p.scrollHeight > p.clientHeight) return p;
  }
  return doc.scrollingElement;
}

function messages(doc) {
  return Array.from(doc.querySelectorAll('[data-testid="stChatMessage"]'));
}

export default function ({ parentElement, data }) {
  const doc = parentElement.ownerDocument || document;
  const win = doc.defaultView || window;
  const state = (win.__assistantsPage = win.__assistantsPage || {});
  const button = parentElement.querySelector("button.latest");
  const label = button.querySelector(".label");
  const words = (data && data.labels) || {};
  label.textContent = words.latest || "Latest";
  if (words.title) button.title = words.title;


  const area = () => {
    const all = messages(doc);
    return scroller(doc, all[all.length - 1]);
  };

  // The question just sent goes to the top of the view, and stays there while its
  // answer grows below it (the reader follows the end only from the end: "Latest").
  // The run paints it after this script: it is looked for by the key of the turn it
  // starts (`chat_view._turn_key`) for a while.
  if (data && data.sent && state.sent !== data.sent) {
    state.sent = data.sent;
    const wanted = `.st-key-turn-${CSS.escape(data.sent)}`;
    let tries = 100;
    const scroll = () => {
      if (state.sent !== data.sent) return;  // another question was sent meanwhile
      const question = doc.querySelector(wanted);
      if (!question) {
        if (tries-- > 0) win.setTimeout(scroll, 50);
        return;
      }
      question.scrollIntoView({ block: "start" });
      const box = area();
      state.expected = box ? box.scrollTop : null;  // this scroll is ours, not the reader's
      state.pinned = false;
    };
    win.requestAnimationFrame(scroll);
  }

  if (data && data.focus && state.focused !== data.focus) {
    // The edit box may be painted after this script: look for it for a while.
    const wanted = data.focus;
    let tries = 40;
    const focus = () => {
      const box = doc.querySelector(`.st-key-${CSS.escape(wanted)} textarea`);
      if (box) {
        state.focused = wanted;
        box.focus();
        box.setSelectionRange(box.value.length, box.value.length);
      } else if (tries-- > 0) {
        win.setTimeout(focus, 50);
      }
    };
    focus();
  } else if (data && !data.focus) {
    state.focused = null;
  }

  // While an answer streams: a reader at the end stays at the end as it grows; one
  // who scrolled up is left there, with "Latest" to come back.
  const streaming = !!(data && data.streaming);
  const check = () => {
    const box = area();
    if (!box) return;
    if (state.expected !== null && Math.abs(box.scrollTop - state.expected) <= 2) return;
    state.expected = null;  // the reader scrolled
    state.pinned = box.scrollHeight - box.scrollTop - box.clientHeight <= 150;
    button.hidden = !(state.streaming && !state.pinned);
  };
  const follow = () => {
    const box = area();
    if (!box || !state.streaming || !state.pinned) return;
    if (state.expected !== null && Math.abs(box.scrollTop - state.expected) > 2) {
      // The reader scrolled since this script last did, and the scroll's event has not
      // come yet (the words of a streaming answer come in between): theirs wins.
      check();
      return;
    }
    const end = box.scrollHeight - box.clientHeight;
    if (box.scrollTop >= end - 2) return;
    state.expected = end;
    box.scrollTop = end;
  };
  button.onclick = () => {
    state.pinned = true;
    button.hidden = true;
    follow();
  };
  state.streaming = streaming;
  if (!state.listening) {
    state.listening = true;
    state.pinned = true;
    state.expected = null;
    doc.addEventListener("scroll", () => { if (state.check) state.check(); }, true);
    new win.MutationObserver(() => { if (state.follow) state.follow(); }).observe(
      doc.body, { childList: true, subtree: true, characterData: true }
    );
  }
  state.check = check;
  state.follow = follow;
  check();
}
"""
_page = st.components.v2.component("assistants_ui.page_script", html=_HTML, css=_CSS, js=_JS)


def page_script(
    *, sent: str | None = None, streaming: bool = False, focus: str | None = None
) -> None:
    """Scroll to the question `sent`, offer "Latest" while `streaming`, focus the
    edit box whose key is `focus`. Painted again in its slot when one of them
    changes during the run (no key: each call is its own element)."""
    data = {
        "sent": sent,
        "streaming": streaming,
        "focus": focus,
        "labels": {"latest": _("↓ Latest"), "title": _("Scroll to the newest message")},
    }
    _page(data=data, height=0)
