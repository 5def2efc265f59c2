"""What each connection's server supports, learned per process, never fatal.

OpenAI-compatible servers (OGX, vLLM, Ollama, llama.cpp's, LiteLLM-style
proxies) each lack some optional part of the protocol. Nothing here is decided
by vendor: a feature is assumed until the server refuses it. A refusal is an
HTTP 400, 404, 405, 422 or 501 whose reason (in whatever body shape: see
`clients.server_reason`) names the feature; the feature is then dropped for that
connection for the rest of the process and the request is sent again without it
(once per feature). What was learned is what `assistants-ui check` prints.

Features:

- `background`: Responses' background mode, for a server-side cancel on Stop;
- `conversations`: the Conversations API (without it: history re-sent per turn);
- `vector_stores`: the Files + Vector stores APIs that file search needs;
- `include:<value>`: each `include` value of a Responses request;
- `tool:<type>`: each hosted tool type (file_search, code_interpreter, web_search...);
- `stream_usage`: token usage at the end of a Chat Completions stream.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from assistants_ui.profiles import Connection

__all__ = [
    "Capabilities",
    "Learned",
    "capabilities_for",
    "effect_of",
    "refused_feature",
    "strip_unsupported",
]

log = logging.getLogger(__name__)

REFUSAL_STATUSES = frozenset({400, 404, 405, 422, 501})

# What the app does without a feature (for the log and `assistants-ui check`).
_EFFECTS = {
    "background": "Stop only closes the stream (no server-side cancel)",
    "conversations": "the app keeps the history and re-sends it every turn",
    "vector_stores": "uploads cannot be searched (file_search)",
    "stream_usage": "token counts are not shown",
    "include": "that detail is not shown",
    "tool": "answers are made without that tool",
}

# Words that name a feature in a server's reason, besides the feature's own name.
_ALIASES = {
    "background": ("background",),
    "conversations": ("conversation",),
    "vector_stores": ("vector_store", "vector store"),
    "stream_usage": ("stream_options", "include_usage"),
}


def effect_of(feature: str) -> str:
    return _EFFECTS.get(feature, _EFFECTS.get(feature.split(":", 1)[0], ""))


def _words(feature: str) -> tuple[str, ...]:
    if feature in _ALIASES:
        return _ALIASES[feature]
    kind, _, value = feature.partition(":")
    if kind == "tool" and value == "web_search":
        return ("web_search",)  # also names web_search_preview
    return (value,) if value else (feature,)


@dataclass(frozen=True, slots=True)
class Learned:
    supported: bool
    reason: str = ""  # the server's words when it refused


class Capabilities:
    """One connection's learned features (thread-safe; unknown means "try it")."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._known: dict[str, Learned] = {}
        self._lock = threading.Lock()

    def supports(self, feature: str) -> bool:
        with self._lock:
            learned = self._known.get(feature)
        return learned is None or learned.supported

    def learn(self, feature: str, supported: bool, reason: str = "") -> None:
        with self._lock:
            before = self._known.get(feature)
            self._known[feature] = Learned(supported, reason)
        if not supported and (before is None or before.supported):
            log.warning(
                "connection %r: the server refused %s (%s); dropped for this connection: %s",
                self.name,
                feature,
                reason or "no reason given",
                effect_of(feature),
            )

    def known(self) -> dict[str, Learned]:
        with self._lock:
            return dict(sorted(self._known.items()))


_registry: dict[str, Capabilities] = {}
_registry_lock = threading.Lock()


def capabilities_for(connection: Connection) -> Capabilities:
    """The process-wide record for a connection (by id and endpoint)."""
    from assistants_ui.backends.clients import endpoint_of

    key = f"{connection.id}|{endpoint_of(connection)}"
    with _registry_lock:
        caps = _registry.get(key)
        if caps is None:
            caps = _registry[key] = Capabilities(connection.id)
        return caps


def sent_features(kwargs: dict[str, Any]) -> list[str]:
    """The optional features a Responses or Chat Completions request uses."""
    features: list[str] = []
    if kwargs.get("background") is True:
        features.append("background")
    include = kwargs.get("include")
    if isinstance(include, list):
        features += [f"include:{value}" for value in include]
    tools = kwargs.get("tools")
    if isinstance(tools, list):
        for tool in tools:
            kind = tool.get("type") if isinstance(tool, dict) else None
            if kind and kind != "function":
                features.append(f"tool:{'web_search' if kind.startswith('web_search') else kind}")
    if isinstance(kwargs.get("stream_options"), dict):
        features.append("stream_usage")
    return features


def refused_feature(status: int, reason: str, features: Iterable[str]) -> str | None:
    """Which of the features sent, if any, the server's refusal names.

    The most specific name wins (`include:file_search_call.results` before
    `tool:file_search`), so that one refusal drops one feature."""
    if status not in REFUSAL_STATUSES or not reason:
        return None
    lowered = reason.lower()
    if "not found" in lowered or "does not exist" in lowered:
        return None  # a missing object (a vector store, a model), not a missing feature
    named = [
        (max(len(w) for w in _words(f) if w.lower() in lowered), f)
        for f in features
        if any(w.lower() in lowered for w in _words(f))
    ]
    if not named:
        if "include" in lowered:  # "include is not supported", no value named
            values = [f for f in features if f.startswith("include:")]
            return values[0] if values else None
        return None
    return max(named)[1]


def strip_unsupported(kwargs: dict[str, Any], caps: Capabilities) -> list[str]:
    """Remove from a request what the connection is known to refuse; returns what went."""
    dropped: list[str] = []
    if kwargs.get("background") is True and not caps.supports("background"):
        kwargs.pop("background")
        kwargs.pop("store", None)
        dropped.append("background")
    include = kwargs.get("include")
    if isinstance(include, list):
        kept = [v for v in include if caps.supports(f"include:{v}")]
        dropped += [f"include:{v}" for v in include if v not in kept]
        if kept:
            kwargs["include"] = kept
        else:
            kwargs.pop("include")
    tools = kwargs.get("tools")
    if isinstance(tools, list):
        kept_tools = []
        for tool in tools:
            kind = str(tool.get("type", "")) if isinstance(tool, dict) else ""
            feature = f"tool:{'web_search' if kind.startswith('web_search') else kind}"
            if kind and kind != "function" and not caps.supports(feature):
                dropped.append(feature)
            else:
                kept_tools.append(tool)
        if kept_tools:
            kwargs["tools"] = kept_tools
        else:
            kwargs.pop("tools")
            kwargs.pop("tool_choice", None)
    if isinstance(kwargs.get("stream_options"), dict) and not caps.supports("stream_usage"):
        kwargs.pop("stream_options")
        dropped.append("stream_usage")
    return dropped
