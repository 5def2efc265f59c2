"""Projects: a user's folders of conversations, each with its own instructions and files.

Owns `projects`, `project_files` and `project_conversations`. A conversation
is in at most one project (`set_project`; a new one is placed when it is
created: `Conversations.create_conversation(project_id=…)`). The project's
instructions and text files are added to every answer in it (the page reads
them with `project_context`). Files keep their bytes here, with a stable id
and sha256: the documents library indexes them by content in the project's
scope (`documents.project_scope`) for the chat backend, which gives them
whole or searched like a conversation's documents; other backends get them
whole in the instructions, within `core.personal.PROJECT_TEXT_MAX_CHARS`.
Replacing or deleting a file deletes its passages in the same transaction
(`_forget_old_documents`), deleting the project all of them.

Deleting a project deletes its conversations (`delete_project`): one
conversation per transaction (each with its remote state queued for its
server, `retention.queue_remote`), then the project, so that a project of
a thousand conversations never holds one long transaction, and an
interrupted deletion leaves whole conversations and the project, to be
deleted again. Every call names the acting user and is scoped by them:
another user's project, an unknown id and a malformed one are `NotFound`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, undefer

from assistants_ui.storage.codec import from_row
from assistants_ui.storage.conversations import check_id, new_id, owned, owned_conversation
from assistants_ui.storage.documents import project_scope
from assistants_ui.storage.errors import NotFound
from assistants_ui.storage.models import (
    Conversation,
    Document,
    Project,
    ProjectConversation,
    ProjectFile,
    User,
    utcnow,
)
from assistants_ui.storage.retention import delete_and_queue, is_temporary
from assistants_ui.storage.store import Store, guarded

__all__ = [
    "INSTRUCTIONS_MAX",
    "MAX_PROJECTS",
    "MAX_PROJECT_FILES",
    "NAME_MAX",
    "ProjectContext",
    "ProjectFileInfo",
    "ProjectInfo",
    "Projects",
]

NAME_MAX = 200
MAX_PROJECTS = 200  # per user
MAX_PROJECT_FILES = 50  # per project
INSTRUCTIONS_MAX = 20_000


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    id: str
    name: str
    instructions: str
    created_at: dt.datetime
    updated_at: dt.datetime
    conversations: int = 0  # how many conversations it holds (temporary ones not counted)


@dataclass(frozen=True, slots=True)
class ProjectFileInfo:
    id: str
    name: str
    mime: str
    size: int
    sha256: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ProjectContext:
    """What a project adds to an answer: its name, instructions and files' bytes."""

    name: str
    instructions: str
    files: list[tuple[str, bytes]]


def _owned_project(s: Session, user_id: int, project_id: str) -> Project:
    if not isinstance(project_id, str) or not project_id:
        raise NotFound("project")
    project = s.scalars(
        select(Project).where(Project.id == project_id, Project.user_id == user_id)
    ).one_or_none()
    if project is None:
        raise NotFound("project")
    return project


def _info(s: Session, project: Project) -> ProjectInfo:
    """The record of `project`, with how many conversations it holds."""
    held = s.scalar(
        select(func.count())
        .select_from(ProjectConversation)
        .join(Conversation, Conversation.id == ProjectConversation.conversation_id)
        .where(ProjectConversation.project_id == project.id, ~is_temporary())
    )
    return from_row(ProjectInfo, project, conversations=int(held or 0))


def _clean_name(name: str) -> str:
    name = " ".join(name.split())[:NAME_MAX]
    if not name:
        raise ValueError("a project's name cannot be empty")
    return name


class Projects(Store):
    """`projects`, their files and conversations, each call scoped by the acting user."""

    @guarded
    def create_project(self, *, user_id: int, name: str, instructions: str = "") -> ProjectInfo:
        """A new project; `ValueError` for an empty name or past `MAX_PROJECTS`."""
        name = _clean_name(name)
        with self.db.session() as s:
            if s.get(User, user_id, with_for_update=True) is None:
                raise NotFound("user")
            held = s.scalar(select(func.count()).where(Project.user_id == user_id)) or 0
            if held >= MAX_PROJECTS:
                raise ValueError(f"at most {MAX_PROJECTS} projects per user")
            now = utcnow()
            project = Project(
                id=new_id(),
                user_id=user_id,
                name=name,
                instructions=instructions.strip()[:INSTRUCTIONS_MAX],
                created_at=now,
                updated_at=now,
            )
            s.add(project)
            s.flush()
            return from_row(ProjectInfo, project, conversations=0)

    @guarded
    def list_projects(self, *, user_id: int) -> list[ProjectInfo]:
        """The user's projects, by name, each with its number of conversations."""
        counted = (
            select(ProjectConversation.project_id, func.count().label("n"))
            .join(Conversation, Conversation.id == ProjectConversation.conversation_id)
            .where(~is_temporary())
            .group_by(ProjectConversation.project_id)
            .subquery()
        )
        with self.db.session() as s:
            rows = s.execute(
                select(Project, func.coalesce(counted.c.n, 0))
                .outerjoin(counted, counted.c.project_id == Project.id)
                .where(Project.user_id == user_id)
                .order_by(func.lower(Project.name), Project.id)
            ).all()
            return [from_row(ProjectInfo, p, conversations=int(n)) for p, n in rows]

    @guarded
    def get_project(self, *, user_id: int, project_id: str) -> ProjectInfo:
        with self.db.session() as s:
            return _info(s, _owned_project(s, user_id, project_id))

    @guarded
    def update_project(
        self,
        *,
        user_id: int,
        project_id: str,
        name: str | None = None,
        instructions: str | None = None,
    ) -> ProjectInfo:
        """Rename it and/or replace its instructions (`ValueError`: an empty name, or
        instructions over `INSTRUCTIONS_MAX` characters)."""
        if instructions is not None and len(instructions.strip()) > INSTRUCTIONS_MAX:
            raise ValueError(f"a project's instructions are limited to {INSTRUCTIONS_MAX}")
        with self.db.session() as s:
            project = _owned_project(s, user_id, project_id)
            if name is not None:
                project.name = _clean_name(name)
            if instructions is not None:
                project.instructions = instructions.strip()
            project.updated_at = utcnow()
            s.flush()
            return _info(s, project)

    @guarded
    def project_conversation_ids(
        self, *, user_id: int, project_id: str, temporary: bool = False
    ) -> list[str]:
        """The ids of the project's conversations, most recent activity first (with
        `temporary`, its temporary chats too)."""
        with self.db.session() as s:
            _owned_project(s, user_id, project_id)
            query = (
                select(Conversation.id)
                .join(ProjectConversation, ProjectConversation.conversation_id == Conversation.id)
                .where(
                    ProjectConversation.project_id == project_id,
                    Conversation.user_id == user_id,
                )
                .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
            )
            if not temporary:
                query = query.where(~is_temporary())
            return list(s.scalars(query).all())

    def delete_project(self, *, user_id: int, project_id: str) -> int:
        """Delete the project and its conversations (their remote state queued for its
        server, `remote_deletions`), one conversation per transaction, then the
        project. Returns how many conversations went. Run again after an interruption,
        it deletes what is left."""
        gone = 0
        ids = self.project_conversation_ids(user_id=user_id, project_id=project_id, temporary=True)
        for cid in ids:
            if self._delete_one(user_id, cid):
                gone += 1
        self._delete_project_row(user_id, project_id)
        return gone

    @guarded
    def _delete_one(self, user_id: int, conversation_id: str) -> bool:
        with self.db.session() as s:
            return delete_and_queue(s, owned(user_id, conversation_id)) is not None

    @guarded
    def _delete_project_row(self, user_id: int, project_id: str) -> None:
        with self.db.session() as s:
            _owned_project(s, user_id, project_id)
            s.execute(delete(Document).where(Document.scope == project_scope(project_id)))
            s.execute(delete(Project).where(Project.id == project_id, Project.user_id == user_id))

    # -- membership --------------------------------------------------------------------

    @guarded
    def set_project(self, *, user_id: int, conversation_id: str, project_id: str | None) -> None:
        """Move the conversation into the project (None: out of any project)."""
        cid = check_id(conversation_id)
        with self.db.session() as s:
            owned_conversation(s, user_id, cid)
            s.execute(delete(ProjectConversation).where(ProjectConversation.conversation_id == cid))
            if project_id is not None:
                project = _owned_project(s, user_id, project_id)
                project.updated_at = utcnow()
                s.add(ProjectConversation(conversation_id=cid, project_id=project.id))

    @guarded
    def project_of(self, *, user_id: int, conversation_id: str) -> ProjectInfo | None:
        """The project the conversation is in, or None (NotFound: not the user's)."""
        cid = check_id(conversation_id)
        with self.db.session() as s:
            owned_conversation(s, user_id, cid)
            project = s.scalars(
                select(Project)
                .join(ProjectConversation, ProjectConversation.project_id == Project.id)
                .where(ProjectConversation.conversation_id == cid)
            ).one_or_none()
            return _info(s, project) if project is not None else None

    @guarded
    def project_context(self, *, user_id: int, project_id: str) -> ProjectContext:
        """The project's name, instructions and files (with their bytes), oldest file
        first: what each of its answers gets."""
        with self.db.session() as s:
            project = _owned_project(s, user_id, project_id)
            files = s.execute(
                select(ProjectFile.name, ProjectFile.data)
                .where(ProjectFile.project_id == project.id)
                .order_by(ProjectFile.created_at, ProjectFile.id)
            ).all()
            return ProjectContext(
                project.name, project.instructions, [(n, bytes(d)) for n, d in files]
            )

    # -- files -------------------------------------------------------------------------

    @guarded
    def add_project_file(
        self, *, user_id: int, project_id: str, name: str, mime: str, data: bytes
    ) -> ProjectFileInfo:
        """Keep a file in the project (`ValueError` past `MAX_PROJECT_FILES`); a file of
        the same name is replaced."""
        with self.db.session() as s:
            project = _owned_project(s, user_id, project_id)
            s.execute(
                delete(ProjectFile).where(
                    ProjectFile.project_id == project.id, ProjectFile.name == name
                )
            )
            held = s.scalar(select(func.count()).where(ProjectFile.project_id == project.id))
            if (held or 0) >= MAX_PROJECT_FILES:
                raise ValueError(f"at most {MAX_PROJECT_FILES} files per project")
            row = ProjectFile(
                id=new_id(),
                project_id=project.id,
                user_id=user_id,
                name=name,
                mime=mime or "application/octet-stream",
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                data=data,
                created_at=utcnow(),
            )
            s.add(row)
            project.updated_at = utcnow()
            s.flush()
            _forget_old_documents(s, project.id)  # the content it replaced
            return from_row(ProjectFileInfo, row)

    @guarded
    def list_project_files(self, *, user_id: int, project_id: str) -> list[ProjectFileInfo]:
        with self.db.session() as s:
            _owned_project(s, user_id, project_id)
            rows = s.scalars(
                select(ProjectFile)
                .where(ProjectFile.project_id == project_id)
                .order_by(ProjectFile.created_at, ProjectFile.id)
            ).all()
            return [from_row(ProjectFileInfo, row) for row in rows]

    @guarded
    def project_file_data(self, *, user_id: int, project_id: str, file_id: str) -> bytes:
        with self.db.session() as s:
            _owned_project(s, user_id, project_id)
            row = s.scalars(
                select(ProjectFile)
                .options(undefer(ProjectFile.data))
                .where(ProjectFile.project_id == project_id, ProjectFile.id == file_id)
            ).one_or_none()
            if row is None:
                raise NotFound("file")
            return bytes(row.data)

    @guarded
    def delete_project_file(self, *, user_id: int, project_id: str, file_id: str) -> None:
        with self.db.session() as s:
            _owned_project(s, user_id, project_id)
            done = s.execute(
                delete(ProjectFile).where(
                    ProjectFile.project_id == project_id, ProjectFile.id == file_id
                )
            )
            if not done.rowcount:  # type: ignore[attr-defined]
                raise NotFound("file")
            _forget_old_documents(s, project_id)


def _forget_old_documents(s: Session, project_id: str) -> None:
    """The project's indexed documents whose content no file of it has any more."""
    kept = select(ProjectFile.sha256).where(ProjectFile.project_id == project_id)
    s.execute(
        delete(Document)
        .where(Document.scope == project_scope(project_id), Document.sha256.not_in(kept))
        .execution_options(synchronize_session=False)
    )
