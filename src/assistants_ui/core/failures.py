"""One sentence per failure code: how every `Failed` the user sees is worded.

The codes are the closed set `FailureCode` (`core/events.py`). Each code has
one sentence here, with slots for what the caller knows (the endpoint, the
server's own words, the setting to check); `failure(code, **slots)` fills it
in and says whether Retry may help. Backends never write a failure sentence
themselves, so that a cut stream, a refused key or a rate limit reads the
same whichever protocol met it.

Slots: `at` (" at <endpoint>"), `server` (who refused or failed: "The
server" and `at`, or "The server, during the assistant's run,"), `said` (the
server's own words, added after a colon), `status` (" (500)"), `retries`
(" after 2 automatic retries"), `cause` (" (ConnectError: ...)"), `why` (what
cut a stream), `subject`, `setting`, `hint`, `seconds`, `during`, `message`.
"""

from __future__ import annotations

from typing import Any

from assistants_ui.core.events import Failed, FailureCode

__all__ = ["CLOSED_UNFINISHED", "SENTENCES", "failure"]

# Why a stream was cut, when the server closed it without its last event.
CLOSED_UNFINISHED = "the server closed the stream without saying it had finished"

SENTENCES: dict[FailureCode, str] = {
    "connection": (
        "Cannot reach the server{at}{cause}. Check that it is running and that the base URL "
        "(OPENAI_BASE_URL or the connection's base_url) is right."
    ),
    "timeout": (
        "The server{at} did not answer in time ({seconds:g} s). It may be overloaded; "
        "try again, or raise OPENAI_TIMEOUT."
    ),
    "stream_cut": (
        "The answer stopped before it was complete: {why}. What arrived is kept; "
        "retry to ask again."
    ),
    "key_refused": "The server{at} refused the API key (401){said}. Check {setting}.",
    "forbidden": "The key in {setting} is not allowed to use {subject}{at} (403){said}.",
    "not_found": "The server{at} does not know {subject} (404){said}. {hint}",
    "rate_limited": (
        "{server} is rate limiting requests or the quota is used up{status}{retries}"
        "{said}. Wait a moment and retry."
    ),
    "server_error": "{server} failed{status}{retries}{said}. Retry in a moment.",
    "rejected": "{server} rejected the request{status}{said}.",
    "model_error": "{during}{said}.",
    "expired": (
        "The assistant's run expired before it finished (a run that waits too long for the "
        "server or for tool outputs expires). Retry."
    ),
    "run_active": (
        "An earlier answer in this conversation is still running on the server and did not "
        "stop within {seconds:g} s. Try again in a moment."
    ),
    "shutdown": (
        "The server{at} answers 404 for the Assistants API: OpenAI and Azure shut it down on "
        "{date}. Move this assistant to a Responses profile with "
        "`assistants-ui import-assistant FILE.json` (its saved definition)."
    ),
    "local_model": "{message}",
    "upload_refused": "{message}",
    "config": "{message}",
    "internal": "Unexpected error{during}: {message}",
}

RETRYABLE: dict[FailureCode, bool] = {
    "connection": True,
    "timeout": True,
    "stream_cut": True,
    "key_refused": False,
    "forbidden": False,
    "not_found": False,
    "rate_limited": True,
    "server_error": True,
    "rejected": False,
    "model_error": True,
    "expired": True,
    "run_active": True,
    "shutdown": False,
    "local_model": False,
    "upload_refused": False,
    "config": False,
    "internal": True,
}

_SLOTS: dict[str, Any] = {
    "at": "",
    "said": "",
    "status": "",
    "retries": "",
    "cause": "",
    "why": "the stream ended early",
    "subject": "the model",
    "setting": "OPENAI_API_KEY",
    "hint": "",
    "seconds": 0.0,
    "during": "",
    "message": "",
    "date": "",
}


def failure(code: FailureCode, *, retryable: bool | None = None, **slots: Any) -> Failed:
    """The `Failed` event for `code`, its sentence filled in with `slots`."""
    said = str(slots.pop("said", "") or "").strip().rstrip(".")
    values = {**_SLOTS, **slots, "said": f": {said}" if said else ""}
    values.setdefault("server", f"The server{values['at']}")
    reason = SENTENCES[code].format(**values).strip()
    return Failed(reason, RETRYABLE[code] if retryable is None else retryable, code)
