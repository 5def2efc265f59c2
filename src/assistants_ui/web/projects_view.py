"""Projects in the page: the sidebar's project filter, a project's settings (name,
instructions, files), its export and deletion, and moving a conversation in or out.

Picking a project in the sidebar filters the history to its conversations, and
a new chat started meanwhile goes into it (`selected`, read by the page before
the first message is saved: `temporary.placement`). Its instructions and text
files are added to every answer in its conversations (`web/turns.py`). Export
is one ZIP archive (`storage/archive.py`: each conversation in the export
formats, the files, the settings); deletion asks once more, naming how many
conversations go with it, and deletes them one per transaction, so a project of
a thousand conversations is deleted, or left whole per conversation, never
half.

Session-state keys: `_PROJECT_KEY` (the filter), `_PICKER_KEY` (its widget),
`_CONFIRM_KEY`, `_UPLOAD_KEY`, `_NEW_KEY`, `_ERROR_KEY`, and the per-project field
keys built by `_key` (a conversation's move control: `<prefix>project-of-<id>`).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Any, BinaryIO

import streamlit as st

from assistants_ui.core.personal import PROJECT_TEXT_TYPES, file_refusal
from assistants_ui.core.safe_markdown import literal
from assistants_ui.documents.extract import ExtractError, extract
from assistants_ui.i18n import _, format_number, ngettext
from assistants_ui.settings import Settings
from assistants_ui.storage import UNSAVED_USER, ConversationInfo, NotFound, Repository, UserInfo
from assistants_ui.storage.archive import archive_filename, write_project_archive
from assistants_ui.storage.projects import INSTRUCTIONS_MAX, ProjectInfo
from assistants_ui.web import chat_state, reader

__all__ = ["header", "move_control", "picker", "selected"]

_PROJECT_KEY = "project-filter"  # the project picked in the sidebar ("": all conversations)
_PICKER_KEY = "project-picker"
_CONFIRM_KEY = "project-confirm-delete"
_UPLOAD_KEY = "project-upload"  # a counter: a new uploader (empty) after each upload
_NEW_KEY = "project-new-name"
_ERROR_KEY = "project-error"  # one sentence for the project menu, shown once
ALL = ""


def _key(name: str, project_id: str) -> str:
    return f"project-{name}-{project_id}"


def selected() -> str | None:
    """The project picked in the sidebar (None: all conversations)."""
    value = st.session_state.get(_PROJECT_KEY, ALL)
    return str(value) if value else None


def _pick() -> None:
    st.session_state[_PROJECT_KEY] = st.session_state.get(_PICKER_KEY) or ALL
    st.session_state.pop(_CONFIRM_KEY, None)


def _create(repo: Repository, user: UserInfo) -> None:
    name = " ".join(str(st.session_state.get(_NEW_KEY, "")).split())
    if not name:
        st.session_state[_ERROR_KEY] = _("A project needs a name.")
        return
    try:
        project = repo.create_project(user_id=reader.saved_user_id(repo, user), name=name)
    except ValueError:
        st.session_state[_ERROR_KEY] = _(
            "Not created: you have as many projects as this app allows; delete one first."
        )
        return
    st.session_state[_PROJECT_KEY] = project.id
    st.session_state.pop(_NEW_KEY, None)
    chat_state.new_chat()  # a new chat, in the new project


def picker(repo: Repository, user: UserInfo, settings: Settings) -> None:
    """The sidebar's project filter and its menu (the project picked: `selected`)."""
    projects = repo.list_projects(user_id=user.id) if user.id != UNSAVED_USER else []
    by_id = {p.id: p for p in projects}
    if selected() not in by_id:  # deleted, or another user's session state
        st.session_state[_PROJECT_KEY] = ALL
    current = selected()
    st.session_state[_PICKER_KEY] = current or ALL
    with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
        st.selectbox(
            _("Project"),
            options=[ALL, *by_id],
            key=_PICKER_KEY,
            # Labels made now, in the reader's language (AppTest formats values again later).
            format_func={
                ALL: _("All conversations"),
                **{p.id: f"{p.name} ({format_number(p.conversations)})" for p in projects},
            }.__getitem__,
            on_change=_pick,
            width="stretch",
            placeholder=_("Choose a project"),
        )
        with st.popover(
            "",
            icon=":material/folder_open:",
            help=_("New project, or this project's settings"),
            key="project-menu",
        ):
            problem = st.session_state.pop(_ERROR_KEY, None)
            if problem:
                st.error(problem)
            if current is not None:
                _settings(repo, user, by_id[current], settings)
                st.divider()
            st.text_input(_("New project"), key=_NEW_KEY, placeholder=_("Name"), max_chars=200)
            st.button(
                _("Create project"),
                icon=":material/create_new_folder:",
                key="project-create",
                on_click=_create,
                args=(repo, user),
            )


def _save(repo: Repository, user: UserInfo, project_id: str) -> None:
    name = str(st.session_state.get(_key("name", project_id), "")).strip()
    instructions = str(st.session_state.get(_key("instructions", project_id), ""))
    if len(instructions.strip()) > INSTRUCTIONS_MAX:  # kept in the field, said once
        st.session_state[_ERROR_KEY] = _(
            "Not saved: the project's instructions are %(length)s characters long, over "
            "the limit of %(limit)s; shorten them and save again."
        ) % {
            "length": format_number(len(instructions.strip())),
            "limit": format_number(INSTRUCTIONS_MAX),
        }
        return
    try:
        repo.update_project(
            user_id=user.id,
            project_id=project_id,
            name=name or None,
            instructions=instructions,
        )
    except NotFound:
        return

    st.toast(_("Project saved: its next answers use it."), icon=":material/check:")


def _upload(repo: Repository, user: UserInfo, project_id: str, settings: Settings) -> None:
    files = st.session_state.get(f"{_UPLOAD_KEY}-{st.session_state.get(_UPLOAD_KEY, 0)}") or []
    problems = []
    limit = int(settings.max_upload_mb * 1024 * 1024)
    for uploaded in files:
        data = uploaded.getvalue()
        problem = file_refusal(uploaded.name, len(data), max_bytes=limit)
        if problem is None:
            try:  # read as answers will read it (documents.extract): text, not binary
                extract(uploaded.name, data)
            except ExtractError as exc:
                problem = _("%(reason)s; it is not added.") % {"reason": exc.reason.rstrip(".")}
        if problem is None:
            try:
                repo.add_project_file(
                    user_id=user.id,
                    project_id=project_id,
                    name=uploaded.name,
                    mime=uploaded.type or "text/plain",
                    data=data,
                )
            except ValueError:
                problem = _("%(name)s: this project has as many files as it can keep.") % {
                    "name": uploaded.name
                }
            except NotFound:
                return
        if problem is not None:
            problems.append(problem)
    if problems:
        st.session_state[_ERROR_KEY] = " ".join(problems)
    st.session_state[_UPLOAD_KEY] = int(st.session_state.get(_UPLOAD_KEY, 0)) + 1


def _remove_file(repo: Repository, user: UserInfo, project_id: str, file_id: str) -> None:
    with contextlib.suppress(NotFound):  # removed meanwhile (another tab)
        repo.delete_project_file(user_id=user.id, project_id=project_id, file_id=file_id)


def _archive(repo: Repository, user: UserInfo, project_id: str) -> BinaryIO:
    """The archive, written to a temporary file (a conversation, a batch, at a time)."""
    fd, path = tempfile.mkstemp(prefix="assistants-ui-project-")
    try:
        with os.fdopen(fd, "wb") as out:
            write_project_archive(repo, user_id=user.id, project_id=project_id, out=out)
        reader = open(path, "rb")  # noqa: SIM115 - Streamlit reads it, then drops it
    finally:
        os.unlink(path)
    return reader


def _delete(repo: Repository, user: UserInfo, project_id: str) -> None:
    chat = chat_state.current_chat()
    try:
        ids = set(repo.project_conversation_ids(user_id=user.id, project_id=project_id))
        gone = repo.delete_project(user_id=user.id, project_id=project_id)
    except NotFound:
        return
    st.session_state.pop(_CONFIRM_KEY, None)
    st.session_state[_PROJECT_KEY] = ALL
    if chat is not None and chat.conversation_id in ids:
        chat_state.new_chat()  # the conversation on the page went with it
    st.toast(
        ngettext(
            "Project deleted, with its %(count)s conversation.",
            "Project deleted, with its %(count)s conversations.",
            gone,
        )
        % {"count": format_number(gone)},
        icon=":material/delete:",
    )


def _settings(repo: Repository, user: UserInfo, project: ProjectInfo, settings: Settings) -> None:
    """The project's name, instructions, files, export and deletion."""
    pid = project.id
    st.session_state.setdefault(_key("name", pid), project.name)
    st.session_state.setdefault(_key("instructions", pid), project.instructions)
    st.text_input(_("Name"), key=_key("name", pid), max_chars=200)
    st.text_area(
        _("Instructions"),
        key=_key("instructions", pid),
        placeholder=_("Added to every answer in this project's conversations."),
    )
    st.button(
        _("Save project"),
        key=_key("save", pid),
        on_click=_save,
        args=(repo, user, pid),
        type="primary",
    )
    files = repo.list_project_files(user_id=user.id, project_id=pid)
    st.caption(
        _("Files, read by every answer in this project (text: %(types)s):")
        % {"types": ", ".join(sorted(PROJECT_TEXT_TYPES))}
    )
    for info in files:
        with st.container(horizontal=True, vertical_alignment="center"):
            st.text(f"{info.name} · {format_number(info.size)} B", width="stretch")
            st.button(
                "",
                icon=":material/delete:",
                key=_key(f"file-{info.id}", pid),
                help=_("Remove this file"),
                type="tertiary",
                on_click=_remove_file,
                args=(repo, user, pid, info.id),
            )
    st.file_uploader(
        _("Add files"),
        accept_multiple_files=True,
        key=f"{_UPLOAD_KEY}-{st.session_state.get(_UPLOAD_KEY, 0)}",
        on_change=_upload,
        args=(repo, user, pid, settings),
        label_visibility="collapsed",
    )
    st.download_button(
        _("Export the project (ZIP)"),
        data=lambda: _archive(repo, user, pid),
        file_name=archive_filename(project.name, pid),
        mime="application/zip",
        icon=":material/download:",
        key=_key("export", pid),
        on_click="ignore",
    )
    if st.session_state.get(_CONFIRM_KEY) == pid:
        st.warning(
            ngettext(
                "Delete the project, its files and its %(count)s conversation? "
                "This cannot be undone.",
                "Delete the project, its files and its %(count)s conversations? "
                "This cannot be undone.",
                project.conversations,
            )
            % {"count": format_number(project.conversations)}
        )
        yes, no = st.columns(2)
        yes.button(
            _("Delete"),
            type="primary",
            key=_key("delete-yes", pid),
            on_click=_delete,
            args=(repo, user, pid),
        )
        no.button(
            _("Cancel"),
            key=_key("delete-no", pid),
            on_click=lambda: st.session_state.pop(_CONFIRM_KEY, None),
        )
    else:
        st.button(
            _("Delete project…"),
            icon=":material/delete:",
            key=_key("delete", pid),
            on_click=lambda: st.session_state.__setitem__(_CONFIRM_KEY, pid),
        )


def _move(repo: Repository, user: UserInfo, conversation_id: str, key: str) -> None:
    target = st.session_state.get(key) or None
    try:
        repo.set_project(user_id=user.id, conversation_id=conversation_id, project_id=target)
    except NotFound:
        return


def move_control(repo: Repository, user: UserInfo, info: ConversationInfo, prefix: str) -> None:
    """A conversation's project, changed in its menu (none: out of any project)."""
    if user.id == UNSAVED_USER:
        return
    projects = {p.id: p.name for p in repo.list_projects(user_id=user.id)}
    if not projects:
        return
    current = repo.project_of(user_id=user.id, conversation_id=info.id)
    key = f"{prefix}project-of-{info.id}"
    st.session_state[key] = current.id if current is not None else ALL
    options: list[Any] = [ALL, *projects]
    st.selectbox(
        _("Project"),
        options=options,
        key=key,
        format_func={ALL: _("No project"), **projects}.__getitem__,
        on_change=_move,
        args=(repo, user, info.id, key),
        placeholder=_("Choose a project"),
    )


def header(repo: Repository, user: UserInfo, conversation_id: str | None) -> None:
    """Which project the conversation on the page is in (or a new chat goes into)."""
    if user.id == UNSAVED_USER:
        return
    project: ProjectInfo | None = None
    try:
        if conversation_id is not None:
            project = repo.project_of(user_id=user.id, conversation_id=conversation_id)
        elif (wanted := selected()) is not None:
            project = repo.get_project(user_id=user.id, project_id=wanted)
    except NotFound:
        return
    if project is not None:
        st.caption(
            _(":material/folder: Project %(name)s: its instructions and files are used here.")
            % {"name": f"**{literal(project.name)}**"}
        )
