"""The prompt library in the page: "/" in the chat input, the picker, the variables'
form, and the settings page's list of the reader's prompts (and, for admins, the
published ones).

Streamlit's chat input cannot be given a value as it is drawn, but its Session
State can be set before it is (`prefill`, run before `render_chat`): a chosen
prompt is put in the input, filled in, for the reader to read, change and send.
It is chosen from the picker, which opens on a "/" sent alone (the message is
not sent), on "/name" (that prompt at once; an unknown name opens the list,
with the text given back to the input), or from the Prompts button above the
conversation. A prompt with `{{variables}}` asks for them in a small form;
one left blank is named in one sentence and nothing is inserted until it is
filled in. A "/" message that is not one word ("/etc/hosts is missing") is
sent as typed.

An admin publishes a prompt to everyone, or to the members of one group (the
groups of `allowed_groups`: SSO groups and those given on the admin page); the
reader's groups are `picker.groups()`.

Session-state keys: `_OPEN_KEY`, `_PENDING_KEY`, `_NOTE_KEY`, and the form
fields built from a prompt's id.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import streamlit as st

from assistants_ui.core.access import check_group_names
from assistants_ui.core.prompts import NAME, check_prompt, fill, missing, variables
from assistants_ui.core.safe_markdown import code_span, literal
from assistants_ui.i18n import _
from assistants_ui.storage import UNSAVED_USER, NotFound, Repository, UserInfo
from assistants_ui.storage.prompts import (
    EVERYONE,
    PROMPT_MAX_CHARS,
    PromptInfo,
    group_audience,
)
from assistants_ui.web import picker, reader

__all__ = ["command", "menu_button", "prefill", "render_manager", "render_picker"]

CHAT_INPUT_KEY = "prompt"  # `chat_view.render_chat`'s chat input
_OPEN_KEY = "prompts-open"  # the picker: "" the list, or the id of the prompt being filled
_PENDING_KEY = "prompts-pending"  # the text the chat input gets on the next run
_NOTE_KEY = "prompts-note"  # one sentence for the picker


def _visible(repo: Repository, user: UserInfo) -> list[PromptInfo]:
    """What the reader may insert: their own first, a published one of the same name
    hidden behind theirs."""
    every = repo.prompts_for(user_id=reader.saved_user(user).id, groups=picker.groups())
    own = [p for p in every if not p.published]
    shared = [p for p in every if p.published]
    names = {p.name for p in own}
    return own + [p for p in shared if p.name not in names]


def prefill() -> None:
    """Before the chat input is drawn: put the prompt chosen in the previous run in it."""
    text = st.session_state.pop(_PENDING_KEY, None)
    if text is not None:
        st.session_state[CHAT_INPUT_KEY] = text


def _open(prompt_id: str = "") -> None:
    st.session_state[_OPEN_KEY] = prompt_id


def _close() -> None:
    for key in (_OPEN_KEY, _NOTE_KEY):
        st.session_state.pop(key, None)


def _choose(prompt: PromptInfo) -> None:
    """A prompt picked: inserted at once, or its variables asked for first."""
    st.session_state.pop(_NOTE_KEY, None)
    if variables(prompt.body):
        _open(prompt.id)
    else:
        st.session_state[_PENDING_KEY] = prompt.body
        _close()


def command(repo: Repository, user: UserInfo) -> Callable[[Any], bool]:
    """What the chat input's value is checked with before it is sent: True when it was
    a "/" command (handled here, not sent)."""

    def handle(value: Any) -> bool:
        if getattr(value, "files", None) or getattr(value, "audio", None):
            return False
        text = value if isinstance(value, str) else str(getattr(value, "text", "") or "")
        word = text.strip()
        if not word.startswith("/") or any(c.isspace() for c in word):
            return False
        name = word[1:].lower()
        if name and not NAME.fullmatch(name):
            return False  # a path, a smiley: a message like any other
        prompts = _visible(repo, user)
        found = next((p for p in prompts if p.name == name), None) if name else None
        if found is not None:
            _choose(found)
        else:
            if name:
                st.session_state[_NOTE_KEY] = _(
                    "No prompt is named %(name)s; choose one below (what you typed is back "
                    "in the input)."
                ) % {"name": code_span(f"/{name}")}
                st.session_state[_PENDING_KEY] = text
            _open()
        st.rerun()  # the input shows what is inserted, the picker opens
        return True

    return handle


def menu_button() -> None:
    """The Prompts button above the conversation: opens the picker."""
    st.button(
        _("Prompts"),
        icon=":material/bolt:",
        key="prompts-button",
        type="tertiary",
        on_click=_open,
        help=_("Insert a saved prompt (or type / in the message box)."),
    )


def _insert(prompt: PromptInfo) -> None:
    values = {
        name: str(st.session_state.get(_field(prompt, name), "")) for name in variables(prompt.body)
    }
    problem = missing(prompt.body, values)
    if problem is not None:
        st.session_state[_NOTE_KEY] = problem
        return
    st.session_state[_PENDING_KEY] = fill(prompt.body, values)
    _close()


def _field(prompt: PromptInfo, name: str) -> str:
    return f"prompt-var-{prompt.id}-{name}"


def render_picker(repo: Repository, user: UserInfo) -> None:
    """The picker (while open): the list of prompts, or the variables of the one chosen."""
    wanted = st.session_state.get(_OPEN_KEY)
    if wanted is None:
        return
    prompts = _visible(repo, user)
    chosen = next((p for p in prompts if p.id == wanted), None) if wanted else None
    with st.container(border=True, key="prompt-picker"):
        note = st.session_state.get(_NOTE_KEY)
        if note:
            st.warning(note, icon="✋")
        if chosen is None:
            st.caption(_("Insert a prompt into the message box:"))
            if not prompts:
                st.caption(_("No prompt yet: save yours on the Settings page."))
            for prompt in prompts:
                first = prompt.body.strip().splitlines()[0][:80]
                st.button(
                    f"/{prompt.name}",
                    key=f"prompt-pick-{prompt.id}",
                    help=literal(first),
                    on_click=_choose,
                    args=(prompt,),
                    type="tertiary",
                )
        else:
            st.caption(
                _("Fill in the variables of %(name)s:") % {"name": code_span(f"/{chosen.name}")}
            )
            with st.form(f"prompt-form-{chosen.id}", border=False):
                for name in variables(chosen.body):
                    st.text_input(literal(name), key=_field(chosen, name))
                st.form_submit_button(_("Insert"), type="primary", on_click=_insert, args=(chosen,))
        st.button(_("Cancel"), key="prompt-cancel", on_click=_close, type="tertiary")


# -- the settings page's section ---------------------------------------------------------


def _save(
    repo: Repository,
    user: UserInfo,
    prefix: str,
    prompt_id: str | None,
    published: bool,
    allowed: Callable[[], bool],
    actor: str,
) -> None:
    name = str(st.session_state.get(f"{prefix}-name", ""))
    body = str(st.session_state.get(f"{prefix}-body", ""))
    problem = check_prompt(name, body, max_chars=PROMPT_MAX_CHARS)
    audience = EVERYONE if published else ""
    if problem is None and published:  # to everyone, or to the members of one group
        group, bad = check_group_names([str(st.session_state.get(f"{prefix}-group", ""))])
        if bad is not None:
            problem = _("Not saved: %(reason)s") % {"reason": bad}
        if group:
            audience = group_audience(group[0])
    if problem is None and published and not allowed():
        problem = _("Not saved: only the app's administrators publish prompts.")
    if problem is None:
        try:
            repo.save_prompt(
                user_id=None if published else reader.saved_user_id(repo, user),
                name=name,
                body=body,
                audience=audience,
                created_by=actor if published else "",
                prompt_id=prompt_id,
            )
        except NotFound:
            problem = _("Not saved: this prompt was deleted meanwhile.")
        except ValueError:
            problem = _(
                "Not saved: a prompt named %(name)s exists already, or there are as many "
                "prompts as this app keeps."
            ) % {"name": code_span("/" + name.strip().lstrip("/").lower())}
    if problem is not None:
        st.session_state[f"{prefix}-error"] = problem
        return
    if prompt_id is None:  # the new prompt's form starts empty again
        for field in ("name", "body", "group"):
            st.session_state.pop(f"{prefix}-{field}", None)
    st.toast(_("Prompt saved."), icon=":material/check:")


def _delete(
    repo: Repository, user: UserInfo, prompt: PromptInfo, allowed: Callable[[], bool]
) -> None:
    if prompt.published and not allowed():
        return
    with contextlib.suppress(NotFound):  # deleted meanwhile (another tab)
        repo.delete_prompt(user_id=None if prompt.published else user.id, prompt_id=prompt.id)


def _editor(
    repo: Repository,
    user: UserInfo,
    prefix: str,
    prompt: PromptInfo | None,
    allowed: Callable[[], bool],
    actor: str,
    *,
    published: bool,
) -> None:
    """A prompt's name and text, saved together (one sentence if they cannot be)."""
    if prompt is not None:
        st.session_state.setdefault(f"{prefix}-name", prompt.name)
        st.session_state.setdefault(f"{prefix}-body", prompt.body)
        if prompt.audience.startswith("group:"):
            st.session_state.setdefault(f"{prefix}-group", prompt.audience.removeprefix("group:"))
    error = st.session_state.pop(f"{prefix}-error", None)
    if error:
        st.error(error, icon="✋")
    st.text_input(_("Name (typed after /)"), key=f"{prefix}-name", max_chars=40)
    st.text_area(
        _("Prompt"),
        key=f"{prefix}-body",
        placeholder=_("Summarize {{text}} for {{audience}}."),
        help=_("Variables are written {{name}}: they are asked for when the prompt is inserted."),
    )
    if published:
        st.text_input(
            _("For the members of the group"),
            key=f"{prefix}-group",
            placeholder=_("Everyone"),
            help=_(
                "A group of assistants' allowed_groups (single sign-on, or given on the admin "
                "page); left blank, every user can insert it."
            ),
        )
    left, right = st.columns(2)
    left.button(
        _("Save prompt"),
        key=f"{prefix}-save",
        on_click=_save,
        args=(repo, user, prefix, prompt.id if prompt else None, published, allowed, actor),
        type="primary",
    )
    if prompt is not None:
        right.button(
            _("Delete prompt"),
            key=f"{prefix}-delete",
            icon=":material/delete:",
            on_click=_delete,
            args=(repo, user, prompt, allowed),
        )


def render_manager(
    repo: Repository, user: UserInfo, *, allowed: Callable[[], bool], actor: str
) -> None:
    """The settings page's prompts: the reader's own; with `allowed()` (an admin), the
    ones published to everyone too."""
    st.subheader(_("Prompts"))
    st.caption(
        _(
            "Insert one with the Prompts button above a conversation, or by sending “/” "
            "(or “/name”) in the message box."
        )
    )
    mine = (
        [p for p in repo.prompts_for(user_id=user.id) if not p.published]
        if user.id != UNSAVED_USER
        else []
    )
    for prompt in mine:
        with st.expander(f"/{prompt.name}"):
            _editor(repo, user, f"prompt-{prompt.id}", prompt, allowed, actor, published=False)
    with st.expander(_("New prompt"), icon=":material/add:"):
        _editor(repo, user, "prompt-new", None, allowed, actor, published=False)
    if not allowed():
        return
    st.subheader(_("Published prompts"))
    st.caption(
        _(
            "Every user can insert these, or the members of the group a prompt names "
            "(as an administrator, you publish them)."
        )
    )
    for prompt in repo.published_prompts():
        with st.expander(f"/{prompt.name}"):
            _editor(repo, user, f"prompt-{prompt.id}", prompt, allowed, actor, published=True)
    with st.expander(_("Publish a prompt"), icon=":material/campaign:"):
        _editor(repo, user, "prompt-publish", None, allowed, actor, published=True)
