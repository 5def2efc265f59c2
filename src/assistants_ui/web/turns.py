"""What each answer adds to its assistant: the conversation's project, the reader's
personal instructions and memory, and the memory tool (`core.backend.Turn`).

`attach(rt, repo, user, chat)` gives a `ChatSession` its `turn` provider. The
session's worker asks it when an answer starts, so whatever the reader or
the project changed meanwhile counts, on every backend (each adds
`Turn.instructions` after the profile's own: `core.backend.instructions_for`).
The project's files go as `Turn.project_files` too, for backends that do not
search them on the documents shelf (the chat backend does: `storage/library.py`).
The memory tool is offered only to readers who turned memory on, and only by
assistants whose model calls tools (not the in-process one).
"""

from __future__ import annotations

from collections.abc import Callable

from assistants_ui.core.backend import Turn
from assistants_ui.core.personal import memory_tool, personal_text, project_text, turn_instructions
from assistants_ui.core.session import ChatSession
from assistants_ui.runtime import Runtime
from assistants_ui.storage import UNSAVED_USER, NotFound, Repository, UserInfo
from assistants_ui.storage.personal import FACT_MAX_CHARS

__all__ = ["attach", "turn_for"]


def _keeper(repo: Repository, user_id: int, max_facts: int) -> Callable[[str], str]:
    """What the memory tool runs: keep the fact, tell the model how it went."""

    def keep(fact: str) -> str:
        try:
            kept = repo.remember(user_id=user_id, text=fact, max_facts=max_facts)
        except ValueError:
            return f"Not saved: a fact is 1 to {FACT_MAX_CHARS} characters."
        if kept is None:
            return (
                f"Not saved: the user's memory is full ({max_facts} facts). Tell them they can "
                "delete facts in their settings."
            )
        return f"Saved to the user's memory: {kept.text}"

    return keep


def turn_for(
    repo: Repository,
    user_id: int,
    conversation_id: str | None,
    *,
    tools: bool,
    max_facts: int,
    project_id: str | None = None,
) -> Turn:
    """The additions for one answer in `conversation_id` (None: not saved yet, to go into
    the project `project_id`)."""
    if user_id == UNSAVED_USER:
        return Turn()
    texts: list[str] = []
    files = ""
    if conversation_id is not None:
        try:
            project = repo.project_of(user_id=user_id, conversation_id=conversation_id)
        except NotFound:
            project = None
        project_id = project.id if project is not None else None
    if project_id is not None:
        try:
            context = repo.project_context(user_id=user_id, project_id=project_id)
        except NotFound:  # deleted meanwhile
            pass
        else:
            own, files = project_text(context.name, context.instructions, context.files)
            texts.append(own)
    personal = repo.personal(user_id=user_id)
    memory = personal.memory_enabled and tools
    facts = [fact.text for fact in repo.memories(user_id=user_id)] if memory else []
    texts.append(personal_text(personal.about_me, personal.how_to_answer, facts, memory))
    functions = (memory_tool(_keeper(repo, user_id, max_facts)),) if memory else ()
    return Turn(turn_instructions(*texts), functions, files)


def attach(rt: Runtime, repo: Repository, user: UserInfo, chat: ChatSession) -> ChatSession:
    """Give `chat` its `turn` provider (the reader is its recorder's user: a guest's row
    may be made by the first message, after the page built the chat)."""
    tools = rt.config.connection_for(chat.profile).type != "local"
    max_facts = rt.config.settings.memory_max_facts

    def turn() -> Turn:
        recorder = chat.recorder
        user_id = getattr(recorder, "user_id", user.id)
        placement = getattr(recorder, "placement", None)
        return turn_for(
            repo,
            user_id,
            chat.conversation_id,
            tools=tools,
            max_facts=max_facts,
            project_id=getattr(placement, "project_id", None),
        )

    chat.turn = turn
    return chat
