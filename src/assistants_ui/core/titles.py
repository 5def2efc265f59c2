"""A conversation's title, written by the assistant's own model after its first answer.

Until then (and whenever the model cannot write one) a conversation is titled
by the first words of its first message (storage does that when it is saved).
After the first answer is saved, `ChatSession` asks the backend for a title
in the background, one cheap request (`Backend.title`, optional: a backend
without it keeps the first words): the question and the answer, cut to
`EXCERPT_CHARS` each, with instructions to answer with a title of at most
`TITLE_WORDS` words in the reader's language (the language the page speaks
to them, which is also the history list's), within `TITLE_TOKENS` tokens.
`tidy` keeps one clean line of it; the recorder stores it only while the
title is still the first words' (a title the user gave is never replaced).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistants_ui.core.transcript import Message
from assistants_ui.i18n import LANGUAGES

__all__ = [
    "EXCERPT_CHARS",
    "TITLE_SECONDS",
    "TITLE_TOKENS",
    "TITLE_WORDS",
    "TitleRequest",
    "tidy",
    "title_request",
]

TITLE_WORDS = 8
TITLE_TOKENS = 24  # what the model may write: a title, not an answer
TITLE_SECONDS = 20.0  # the title request's timeout (or the connection's, if shorter)
EXCERPT_CHARS = 1500  # of the question and of the answer, sent with the request
TITLE_CHARS = 80  # as long as a first-words title may be
# The languages' names as instructions name them (a model reads English best).
_NAMES = {"en": "English", "ja": "Japanese", "zh": "Simplified Chinese"}


@dataclass(frozen=True, slots=True)
class TitleRequest:
    """What a backend sends: `instructions` (a system message), the conversation's
    start as `text`, and how many tokens the model may write."""

    instructions: str
    text: str
    max_tokens: int = TITLE_TOKENS


def _cut(text: str) -> str:
    text = text.strip()
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + " …"


def title_request(question: Message, answer: Message, language: str) -> TitleRequest:
    """The title request for a conversation's first question and answer, in `language`
    (an interface language's code)."""
    name = _NAMES.get(language) or LANGUAGES.get(language) or "English"
    asked = question.text or ", ".join(a.name for a in question.attachments)
    return TitleRequest(
        instructions=(
            "You name conversations for a list of past chats. Reply with a title for the "
            f"conversation below: at most {TITLE_WORDS} words, in {name}, saying what it is "
            "about. Reply with the title alone: no quotes, no final period, no Markdown."
        ),
        text=f"User:\n{_cut(asked)}\n\nAssistant:\n{_cut(answer.text)}",
    )


_LABEL = re.compile(r"^(title|标题|タイトル)\s*[:：][\s*_]*", re.IGNORECASE)
_QUOTES = "\"'“”‘’«»「」『』`*#_ "


def tidy(raw: str) -> str | None:
    """One line of what the model wrote, as a title: without a "Title:" label, quotes,
    Markdown marks or a final period, at most `TITLE_WORDS` words (CJK text has no
    spaces: `TITLE_CHARS` characters); None when nothing is left."""
    lines = [line.strip() for line in raw.strip().splitlines() if line.strip()]
    if not lines:
        return None
    text = _LABEL.sub("", lines[0].strip(_QUOTES)).strip(_QUOTES).rstrip(".。!！")
    text = " ".join(text.split()[:TITLE_WORDS]).strip(_QUOTES)
    if len(text) > TITLE_CHARS:
        text = text[: TITLE_CHARS - 1].rstrip() + "…"
    return text or None
