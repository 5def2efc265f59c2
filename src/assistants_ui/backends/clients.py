"""OpenAI SDK clients, one per connection per process, and error wording.

Every OpenAI-speaking backend (chat, responses, assistants) gets its client
here, so that retries, timeouts, Azure's v1 endpoint and keyless local servers
are handled once. Errors from the SDK become one sentence an operator can act
on, naming the endpoint and the setting to check.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import openai

from assistants_ui.core import events as ev
from assistants_ui.core.events import FailureCode
from assistants_ui.core.failures import failure
from assistants_ui.i18n import _
from assistants_ui.profiles import Connection, public_url

__all__ = [
    "JsonEvents",
    "client_for",
    "describe_error",
    "endpoint_of",
    "json_events",
    "server_code",
    "server_reason",
    "shown_endpoint",
    "stream_broke",
]

_lock = threading.Lock()
_clients: dict[tuple[Any, ...], openai.OpenAI] = {}

# Servers like Ollama or llama.cpp's take any key; the SDK insists on one.
PLACEHOLDER_KEY = "no-key-needed"


def endpoint_of(connection: Connection) -> str:
    """Where the client sends requests (with any user and password of the base URL)."""
    if connection.type == "azure":
        return f"{connection.base_url}/openai/v1/"
    return connection.base_url or "https://api.openai.com/v1"


def shown_endpoint(connection: Connection) -> str:
    """The endpoint as sentences, checks and logs name it: no user name, no password."""
    return public_url(endpoint_of(connection))


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


def server_code(code: str | None) -> FailureCode:
    """Our failure code for an error code a server put in a response or run."""
    return _SERVER_CODES.get(code or "", "model_error")


_SERVER_CODES: dict[str, FailureCode] = {
    "rate_limit_exceeded": "rate_limited",
    "server_error": "server_error",
    "invalid_prompt": "rejected",
}


def describe_error(exc: BaseException, connection: Connection, *, what: str = "") -> ev.Failed:
    """One clear sentence for an SDK error; `retryable` says whether Retry may help."""
    at = _(" at %(where)s") % {"where": shown_endpoint(connection)}
    retries = _(" after %(count)s automatic retries") % {"count": connection.max_retries}
    if isinstance(exc, openai.APITimeoutError):
        return failure("timeout", at=at, seconds=connection.timeout)
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        detail = f" ({type(cause).__name__}: {cause})" if cause else ""
        if "peer closed" in str(cause).lower() or "incomplete" in str(cause).lower():
            return stream_broke(connection, detail)
        return failure("connection", at=at, cause=detail)
    if not isinstance(exc, openai.APIStatusError):
        if isinstance(exc, openai.APIError):
            return failure(
                "model_error",
                during=_("The server%(at)s reported an error") % {"at": at},
                said=exc.message,
            )
        return failure("internal", message=f"{type(exc).__name__}: {exc}")
    said = server_reason(exc, connection)
    status = f" ({exc.status_code})"
    if isinstance(exc, openai.AuthenticationError):
        return failure("key_refused", at=at, said=said, setting=_key_setting(connection))
    if isinstance(exc, openai.PermissionDeniedError):
        return failure(
            "forbidden",
            at=at,
            said=said,
            setting=_key_setting(connection),
            subject=what or "the model",
        )
    if isinstance(exc, openai.NotFoundError):
        lowered = said.lower()
        if "vector store" in lowered or "vector_store" in lowered:
            hint = _(
                "Check the assistant's vector_store_ids (the store may be deleted or expired)."
            )
        elif "conversation" in lowered:
            hint = _("The remote conversation is gone (deleted or expired): start a new chat.")
        else:
            hint = _("Check the model or deployment name and the base URL.")
        return failure("not_found", at=at, said=said, subject=what or "the model", hint=hint)
    if isinstance(exc, openai.RateLimitError):
        return failure("rate_limited", at=at, said=said, status=status, retries=retries)
    if isinstance(exc, openai.InternalServerError):
        return failure("server_error", at=at, said=said, status=status, retries=retries)
    if exc.status_code >= 500:
        return failure("server_error", at=at, said=said, status=status)
    return failure("rejected", at=at, said=said, status=status)


def stream_broke(connection: Connection, cause: str = "") -> ev.Failed:
    """The connection broke while the answer was streaming (what arrived is kept)."""
    where = shown_endpoint(connection)
    return failure(
        "stream_cut",
        why=_("the connection to %(where)s broke while the answer was streaming%(cause)s")
        % {"where": where, "cause": cause},
    )


# A read that waited this long for the network was the stream's newest event ...
WAITED_SECONDS = 0.002
# ... after which the next read waits this long, so that the events arriving meanwhile
# are read at once: a few wakeups of the answer's thread where there were one per event.
# Pages repaint an answer every FRAME_SECONDS (0.09 s) at most, so nobody sees the pause.
GATHER_SECONDS = 0.05
# Not in the stream's first second: its first words (and, with fifty people, everyone's)
# are read the moment they come.
GATHER_AFTER_SECONDS = 1.0


class JsonEvents:
    """The events of a streamed response as the JSON the server sent, read in batches
    after its first second (`GATHER_SECONDS`). Under fifty streaming answers the
    threads' reads were nearly half the app's CPU per answer (docs/benchmarks.md,
    "gathered reads")."""

    def __init__(
        self,
        stream: Iterable[object],
        pause: Callable[[float], None] = time.sleep,
        after: float = GATHER_AFTER_SECONDS,
    ) -> None:
        self._stream, self._pause, self._after = stream, pause, after

    def __iter__(self) -> Iterator[object]:
        events = iter(self._stream)
        gather_from: float | None = None  # set by the first event
        while True:
            asked = time.monotonic()
            try:
                event = next(events)
            except StopIteration:
                return
            now = time.monotonic()
            if gather_from is None:
                gather_from = now + self._after
            yield event
            if now - asked >= WAITED_SECONDS and now >= gather_from:
                self._pause(GATHER_SECONDS)

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


def json_events(raw: Any) -> JsonEvents:
    """A streamed response (`with_raw_response.create(stream=True, ...)`) as the JSON of
    its events: the SDK still decodes the server-sent events, stops at `[DONE]` and
    raises an error sent inside the stream, but builds no typed object per event.
    Those cost about 0.06-0.07 CPU s per 400-token answer, a third of the app's CPU per
    answer under load (docs/benchmarks.md, "Load")."""
    return JsonEvents(raw.parse(to=openai.Stream[object]))
