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
from assistants_ui.i18n import N_, _

__all__ = ["CLOSED_UNFINISHED", "SENTENCES", "failure"]

# Why a stream was cut, when the server closed it without its last event.
CLOSED_UNFINISHED = N_("the server closed the stream without saying it had finished")

SENTENCES: dict[FailureCode, str] = {
    "connection": N_(
        "Cannot reach the server%(at)s%(cause)s. Check that it is running and that the base URL "
        "(OPENAI_BASE_URL or the connection's base_url) is right."
    ),
    "timeout": N_(
        "The server%(at)s did not answer in time (%(seconds)g s). It may be overloaded; "
        "try again, or raise OPENAI_TIMEOUT."
    ),
    "stream_cut": N_(
        "The answer stopped before it was complete: %(why)s. What arrived is kept; "
        "retry to ask again."
    ),
    "key_refused": N_("The server%(at)s refused the API key (401)%(said)s. Check %(setting)s."),
    "forbidden": N_(
        "The key in %(setting)s is not allowed to use %(subject)s%(at)s (403)%(said)s."
    ),
    "not_found": N_("The server%(at)s does not know %(subject)s (404)%(said)s. %(hint)s"),
    "rate_limited": N_(
        "%(server)s is rate limiting requests or the quota is used up%(status)s%(retries)s"
        "%(said)s. Wait a moment and retry."
    ),
    "server_error": N_("%(server)s failed%(status)s%(retries)s%(said)s. Retry in a moment."),
    "rejected": N_("%(server)s rejected the request%(status)s%(said)s."),
    "model_error": N_("%(during)s%(said)s."),
    "expired": N_(
        "The assistant's run expired before it finished (a run that waits too long for the "
        "server or for tool outputs expires). Retry."
    ),
    "run_active": N_(
        "An earlier answer in this conversation is still running on the server and did not "
        "stop within %(seconds)g s. Try again in a moment."
    ),
    "shutdown": N_(
        "The server%(at)s answers 404 for the Assistants API: OpenAI and Azure shut it down on "
        "%(date)s. Move this assistant to a Responses profile with "
        "`assistants-ui import-assistant FILE.json` (its saved definition)."
    ),
    "local_model": "%(message)s",  # already worded (and translated) by whoever failed
    "upload_refused": "%(message)s",
    "config": "%(message)s",
    "internal": N_("Unexpected error%(during)s: %(message)s"),
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
    "why": N_("the stream ended early"),
    "subject": N_("the model"),
    "setting": "OPENAI_API_KEY",
    "hint": "",
    "seconds": 0.0,
    "during": "",
    "message": "",
    "date": "",
}


def failure(code: FailureCode, *, retryable: bool | None = None, **slots: Any) -> Failed:
    """The `Failed` event for `code`, its sentence filled in with `slots`, in the active
    language. Slots that are fixed phrases (`why`, `during`, `subject`, `hint`) are
    translated here when the catalogs know them; `at` (" at <endpoint>") is reworded."""
    said = str(slots.pop("said", "") or "").strip().rstrip(".")
    values = {**_SLOTS, **slots, "said": _(": %(said)s") % {"said": said} if said else ""}
    for phrase in ("why", "during", "subject", "hint"):
        if isinstance(values[phrase], str) and values[phrase]:
            values[phrase] = _(values[phrase])
    at = str(values["at"])
    if at.startswith(" at "):
        values["at"] = _(" at %(where)s") % {"where": at[len(" at ") :]}
    values.setdefault("server", _("The server%(at)s") % values)
    reason = (_(SENTENCES[code]) % values).strip()
    return Failed(reason, RETRYABLE[code] if retryable is None else retryable, code)
