"""OpenAI SDK clients, one per connection per process, and error wording.

Every OpenAI-speaking backend (chat, responses, assistants) gets its client
here, so that retries, timeouts, Azure's v1 endpoint and keyless local servers
are handled once. Errors from the SDK become one sentence an operator can act
on, naming the endpoint and the setting to check.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import openai

from assistants_ui.core import events as ev
from assistants_ui.i18n import _
from assistants_ui.profiles import Connection

__all__ = ["client_for", "describe_error", "endpoint_of", "server_reason"]

_lock = threading.Lock()
_clients: dict[tuple[Any, ...], openai.OpenAI] = {}

# Servers like Ollama or llama.cpp's take any key; the SDK insists on one.
PLACEHOLDER_KEY = "no-key-needed"


def endpoint_of(connection: Connection) -> str:
    if connection.type == "azure":
        return f"{connection.base_url}/openai/v1/"
    return connection.base_url or "https://api.openai.com/v1"


def _key_setting(connection: Connection) -> str:
    if connection.api_key_env:
        return connection.api_key_env
    return "AZURE_OPENAI_KEY" if connection.type == "azure" else "OPENAI_API_KEY"


def _azure_token_provider() -> Callable[[], str]:  # pragma: no cover - needs Entra ID
    try:
        from azure.identity import (  # type: ignore[import-not-found,unused-ignore]
            DefaultAzureCredential,
            get_bearer_token_provider,
        )
    except ImportError as exc:
        raise openai.OpenAIError(
            "AZURE_OPENAI_KEY is not set and azure-identity is not installed: set the key, "
            "or `pip install 'assistants-ui[azure]'` to sign in with Microsoft Entra ID."
        ) from exc
    provider: Callable[[], str] = get_bearer_token_provider(
        DefaultAzureCredential(), "https://cognitiveservices.azure.com/.default"
    )
    return provider


def client_for(connection: Connection) -> openai.OpenAI:
    """The process-wide client for a connection (created on first use)."""
    key = connection.resolved_key()
    cache_key = (connection.model_dump_json(exclude={"api_key"}), key)
    with _lock:
        client = _clients.get(cache_key)
        if client is not None:
            return client
        api_key: str | Callable[[], str]
        if key:
            api_key = key
        elif connection.type == "azure":
            api_key = _azure_token_provider()
        else:
            api_key = PLACEHOLDER_KEY
        client = openai.OpenAI(
            api_key=api_key,
            base_url=endpoint_of(connection),
            max_retries=connection.max_retries,
            timeout=connection.timeout,
        )
        _clients[cache_key] = client
        return client


REASON_LIMIT = 300  # characters of a server's reason shown and logged


def _parsed(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _reason_in(body: object, depth: int = 0) -> str:
    """The human sentence inside an error body, whatever its shape: OpenAI's
    `{"error": {"message"}}`, FastAPI's `{"detail": "..."}` or its validation list
    `{"detail": [{"loc": [...], "msg": "..."}]}`, `{"message"}`, `{"error": "..."}`,
    or plain text."""
    if depth > 4:
        return ""
    if isinstance(body, str):
        parsed = _parsed(body) if body.lstrip()[:1] in ("{", "[") else body
        return body.strip() if isinstance(parsed, str) else _reason_in(parsed, depth + 1)
    if isinstance(body, list):
        return "; ".join(r for r in (_reason_in(item, depth + 1) for item in body[:3]) if r)
    if isinstance(body, dict):
        for key in ("error", "detail", "message", "msg", "error_message", "title"):
            reason = _reason_in(body.get(key), depth + 1)
            if reason:
                loc = body.get("loc")
                if key == "msg" and isinstance(loc, list) and loc:
                    return ".".join(str(part) for part in loc) + f": {reason}"
                return reason
    return ""


def server_reason(exc: openai.APIStatusError, connection: Connection | None = None) -> str:
    """The server's own words for a refused request: one line, at most REASON_LIMIT
    characters, with the connection's key and anything key- or token-shaped masked."""
    from assistants_ui.logs import mask

    reason = _reason_in(exc.body)
    if not reason:
        try:
            reason = _reason_in(exc.response.text)
        except Exception:  # a streamed body that was never read
            reason = ""
    reason = " ".join(reason.split())
    if len(reason) > REASON_LIMIT:
        reason = reason[: REASON_LIMIT - 1].rstrip() + "…"
    key = connection.resolved_key() if connection is not None else None
    return mask(reason, [key] if key else [])


def _worded(with_reason: str, without: str, words: dict[str, object]) -> str:
    """The sentence quoting the server's reason when it gave one, else the one without."""
    return (with_reason if words.get("reason") else without) % words


def describe_error(exc: BaseException, connection: Connection, *, what: str = "") -> ev.Failed:
    """One clear sentence for an SDK error; `retryable` says whether Retry may help.

    Worded in the active language (`i18n`); the server's own reason is quoted as it came.
    """
    where = endpoint_of(connection)
    words: dict[str, object] = {
        "where": where,
        "setting": _key_setting(connection),
        "subject": what or _("the model"),
        "retries": connection.max_retries,
    }
    if isinstance(exc, openai.APITimeoutError):
        words["seconds"] = f"{connection.timeout:g}"
        return ev.Failed(
            _(
                "The server at %(where)s did not answer in time (%(seconds)s s). "
                "It may be overloaded; try again, or raise OPENAI_TIMEOUT."
            )
            % words,
            retryable=True,
            code="timeout",
        )
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        words["reason"] = f"{type(cause).__name__}: {cause}" if cause else ""
        if "peer closed" in str(cause).lower() or "incomplete" in str(cause).lower():
            return ev.Failed(
                _worded(
                    _(
                        "The connection to %(where)s broke while the answer was streaming "
                        "(%(reason)s)."
                    ),
                    _("The connection to %(where)s broke while the answer was streaming."),
                    words,
                ),
                retryable=True,
                code="stream_cut",
            )
        return ev.Failed(
            _worded(
                _(
                    "Cannot reach the server at %(where)s (%(reason)s). Check that it is running "
                    "and that the base URL (OPENAI_BASE_URL or the connection's base_url) is right."
                ),
                _(
                    "Cannot reach the server at %(where)s. Check that it is running and that the "
                    "base URL (OPENAI_BASE_URL or the connection's base_url) is right."
                ),
                words,
            ),
            retryable=True,
            code="connection",
        )
    if isinstance(exc, openai.AuthenticationError):
        words["reason"] = server_reason(exc, connection).rstrip(".")
        return ev.Failed(
            _worded(
                _(
                    "The server at %(where)s refused the API key (401): %(reason)s. "
                    "Check %(setting)s."
                ),
                _("The server at %(where)s refused the API key (401). Check %(setting)s."),
                words,
            ),
            retryable=False,
            code="401",
        )
    if isinstance(exc, openai.PermissionDeniedError):
        words["reason"] = server_reason(exc, connection)
        return ev.Failed(
            _worded(
                _(
                    "The key in %(setting)s is not allowed to use %(subject)s at %(where)s "
                    "(403): %(reason)s"
                ),
                _("The key in %(setting)s is not allowed to use %(subject)s at %(where)s (403)."),
                words,
            ),
            retryable=False,
            code="403",
        )
    if isinstance(exc, openai.NotFoundError):
        msg = server_reason(exc, connection)
        lowered = msg.lower()
        if "vector store" in lowered or "vector_store" in lowered:
            hint = _(
                "Check the assistant's vector_store_ids (the store may be deleted or expired)."
            )
        elif "conversation" in lowered:
            hint = _("The remote conversation is gone (deleted or expired): start a new chat.")
        else:
            hint = _("Check the model or deployment name and the base URL.")
        words["reason"], words["hint"] = msg.rstrip("."), hint
        return ev.Failed(
            _worded(
                _("The server at %(where)s does not know %(subject)s (404): %(reason)s. %(hint)s"),
                _("The server at %(where)s does not know %(subject)s (404). %(hint)s"),
                words,
            ),
            retryable=False,
            code="404",
        )
    if isinstance(exc, openai.RateLimitError):
        words["reason"] = server_reason(exc, connection)
        return ev.Failed(
            _worded(
                _(
                    "The server at %(where)s is rate limiting requests (429) and still was "
                    "after %(retries)s automatic retries: %(reason)s. Wait a moment and retry."
                ),
                _(
                    "The server at %(where)s is rate limiting requests (429) and still was "
                    "after %(retries)s automatic retries. Wait a moment and retry."
                ),
                words,
            ),
            retryable=True,
            code="429",
        )
    if isinstance(exc, openai.InternalServerError):
        words["reason"] = server_reason(exc, connection).rstrip(".")
        words["status"] = exc.status_code
        return ev.Failed(
            _worded(
                _(
                    "The server at %(where)s failed (%(status)s) after %(retries)s automatic "
                    "retries: %(reason)s. Retry in a moment."
                ),
                _(
                    "The server at %(where)s failed (%(status)s) after %(retries)s automatic "
                    "retries. Retry in a moment."
                ),
                words,
            ),
            retryable=True,
            code=str(exc.status_code),
        )
    if isinstance(exc, openai.APIStatusError):
        words["reason"] = server_reason(exc, connection)
        words["status"] = exc.status_code
        return ev.Failed(
            _worded(
                _("The server at %(where)s rejected the request (%(status)s): %(reason)s"),
                _("The server at %(where)s rejected the request (%(status)s)."),
                words,
            ),
            retryable=exc.status_code >= 500,
            code=str(exc.status_code),
        )
    if isinstance(exc, openai.APIError):
        words["reason"] = exc.message
        return ev.Failed(
            _("The server at %(where)s reported an error: %(reason)s") % words, code="api"
        )
    return ev.Failed(f"{type(exc).__name__}: {exc}", code="internal")
