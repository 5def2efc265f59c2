"""Assistant profiles and the connections they use, from `assistants.toml` and env.

A *profile* is one assistant people can pick: its title, which backend
protocol it speaks, which connection (endpoint + key) it uses, the model,
instructions, tools and what uploads it takes. A *connection* is where the
requests go: the in-process local model, OpenAI or any compatible base URL,
or Azure OpenAI.

`load_config(settings)` returns a `Config` that always exists: every problem
(a TOML syntax error, an unknown backend, a duplicate id, a malformed
`OPENAI_ASSISTANTS`) is recorded with the setting it concerns, and the valid
profiles are kept. Only when nothing at all is configured does the bundled
local model answer.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    model_validator,
)

from assistants_ui.i18n import N_
from assistants_ui.settings import Problem, Settings

__all__ = [
    "DEFAULT_UPLOAD_TYPES",
    "KNOWN_BACKENDS",
    "Config",
    "Connection",
    "HostedMcpServer",
    "McpServerSettings",
    "Profile",
    "ReasoningSettings",
    "load_config",
    "public_url",
]

KNOWN_BACKENDS = ("chat", "responses", "assistants")
ToolName = Literal["code_interpreter", "file_search", "web_search", "image_generation"]

# The original project's accepted upload types.
DEFAULT_UPLOAD_TYPES = ("txt", "pdf", "png", "jpg", "jpeg", "csv", "json", "geojson", "xlsx", "xls")
# What the Chat Completions backend takes: documents it keeps and searches itself, text,
# and images (sent to models that see them, refused with the reason elsewhere).
CHAT_UPLOAD_TYPES = (
    "pdf", "docx", "pptx", "xlsx", "html", "md", "txt", "csv", "json", "py",
    "png", "jpg", "jpeg", "webp", "gif",
)  # fmt: skip
UPLOAD_LABEL = N_("Upload a file")  # the chat input's hint where a profile takes files

# A URL's user name and password (`https://user:secret@host/`): up to the last "@"
# before the path, so that a password with an unencoded "@" goes too.
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")


def public_url(url: str) -> str:
    """`url` as it may be shown or logged: without the user name and password that
    a base URL may carry for the server's basic authentication."""
    return _USERINFO.sub(r"\1", url.strip())


# A price per million tokens: a TOML number (a quoted "2.5" is refused), finite, >= 0.
Price = Annotated[float, Field(ge=0, strict=True, allow_inf_nan=False)]

# A suggested first message: shown as a button on an empty chat, sent as typed.
Starter = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
# Who may use an assistant: a login name or e-mail address (compared lower-cased), a group
# (as the SSO groups claim or the admin page names it, compared exactly).
AllowedUser = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=320)
]
AllowedGroup = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Connection(_Strict):
    """Where requests go. `api_key_env` names the variable that holds the key."""

    id: str
    type: Literal["local", "openai", "azure"]
    base_url: str | None = None
    api_key: SecretStr | None = None
    api_key_env: str | None = None
    # Responses: how the conversation's state is kept between turns.
    state: Literal["conversation", "previous_response_id", "stateless"] = "conversation"
    max_retries: int = Field(default=2, ge=0, le=10)
    timeout: float = Field(default=60.0, gt=0)
    # Local model.
    model_path: Path | None = None
    context_tokens: int = Field(default=2048, ge=256)
    threads: int | None = Field(default=None, ge=1)
    max_tokens: int = Field(default=512, ge=1)

    def resolved_key(self) -> str | None:
        if self.api_key is not None:
            return self.api_key.get_secret_value()
        if self.api_key_env:
            return os.environ.get(self.api_key_env) or None
        return None

    def describe(self) -> str:
        if self.type == "local":
            return f"local model {self.model_path or '(bundled SmolLM2-135M-Instruct)'}"
        return f"{self.type} {public_url(self.base_url or 'https://api.openai.com/v1')}"


class ReasoningSettings(_Strict):
    effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    summary: Literal["auto", "concise", "detailed"] | None = None


class CodeInterpreterSettings(_Strict):
    memory_limit: Literal["1g", "4g", "16g", "64g"] | None = None
    # Files (ids on the server) every conversation's code interpreter starts with,
    # e.g. an imported assistant's tool_resources.code_interpreter.file_ids.
    file_ids: tuple[str, ...] = ()


class HostedMcpServer(_Strict):
    """A remote MCP server that the Responses API itself calls (the hosted `mcp` tool).

    `headers_env` maps a header name to the environment variable holding its
    whole value (`Authorization = "GITHUB_MCP_AUTH"`, the variable holding
    "Bearer ..."), so no secret sits in the file. `require_approval`: "always"
    (the default: every call waits for Approve / Deny on the page) or "never"."""

    server_label: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    server_url: str = Field(pattern=r"^https?://")
    server_description: str | None = None
    headers_env: dict[str, str] = {}
    require_approval: Literal["always", "never"] = "always"
    allowed_tools: tuple[str, ...] = ()

    def tool(self, environ: Any = os.environ) -> dict[str, Any]:
        """The `mcp` tool as the Responses API takes it (headers read from `environ`)."""
        tool: dict[str, Any] = {
            "type": "mcp",
            "server_label": self.server_label,
            "server_url": self.server_url,
            "require_approval": self.require_approval,
        }
        if self.server_description:
            tool["server_description"] = self.server_description
        if self.headers_env:
            tool["headers"] = {h: environ.get(v, "") for h, v in self.headers_env.items()}
        if self.allowed_tools:
            tool["allowed_tools"] = list(self.allowed_tools)
        return tool

    def missing_env(self, environ: Any = os.environ) -> list[str]:
        return [v for v in self.headers_env.values() if not environ.get(v)]


class McpServerSettings(_Strict):
    """An MCP server whose tools the assistant offers to the model as function tools.

    Either `command` (stdio: the server is started as a subprocess) or `url`
    (streamable HTTP). `headers_env` maps an HTTP header to the environment
    variable that holds its value (`{ Authorization = "MCP_TOKEN" }`), so that
    secrets stay out of the file.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    command: tuple[str, ...] = ()
    url: str | None = Field(default=None, pattern=r"^https?://")
    headers_env: dict[str, str] = Field(default_factory=dict)
    env: dict[str, str] = Field(default_factory=dict)
    # Seconds for connecting and listing, and for each tool call.
    timeout: float = Field(default=30.0, gt=0, le=600)

    @model_validator(mode="after")
    def _check(self) -> McpServerSettings:
        if bool(self.command) == bool(self.url):
            raise ValueError("give either `command` (stdio) or `url` (streamable HTTP)")
        return self

    def describe(self) -> str:
        where = public_url(self.url) if self.url else " ".join(self.command)
        return f"MCP server {self.name!r} ({where})"


class Profile(_Strict):
    """One assistant as people see it in the picker."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    title: str
    backend: str
    connection: str = "local"
    model: str | None = None
    instructions: str | None = None
    welcome: str | None = None
    starters: tuple[Starter, ...] = Field(default=(), max_length=8)
    icon: str = "🤖"
    upload_types: tuple[str, ...] = ()
    upload_label: str = UPLOAD_LABEL
    max_upload_mb: float = Field(default=20, gt=0)
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_output_tokens: int | None = Field(default=None, ge=1)
    price_per_million_input: Price | None = None
    price_per_million_output: Price | None = None
    tools: tuple[ToolName, ...] = ()
    functions: tuple[str, ...] = ()
    # Remote MCP servers the Responses API calls itself (backend "responses" only).
    hosted_mcp: tuple[HostedMcpServer, ...] = ()
    max_tool_rounds: int = Field(default=8, ge=1, le=64)
    # Seconds a function may run before the answer goes on without its result.
    tool_timeout: float = Field(default=60.0, gt=0, le=3600)
    mcp_servers: tuple[McpServerSettings, ...] = ()
    # Force a tool call in the first request of an answer: "required", a hosted tool
    # ("file_search") or a function's name. Small models behind some servers (SmolLM2
    # on llama.cpp's) call tools only when one is named here. "auto"/"none" as usual.
    tool_choice: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    vector_store_ids: tuple[str, ...] = ()
    code_interpreter: CodeInterpreterSettings = CodeInterpreterSettings()
    reasoning: ReasoningSettings = ReasoningSettings()
    assistant_id: str | None = None
    # Voice input: the model of the connection's /audio/transcriptions (e.g. whisper-1,
    # gpt-4o-mini-transcribe). Unset: the chat input offers no microphone.
    transcription_model: str | None = Field(default=None, min_length=1, max_length=128)
    # Who may use it (docs/configuration.md, "Who may use an assistant"): login names or
    # e-mail addresses, and groups (the SSO groups claim, or assigned on the admin page).
    # Neither: everyone, guests included. Anyone else never sees it.
    allowed_users: tuple[AllowedUser, ...] = Field(default=(), max_length=1000)
    allowed_groups: tuple[AllowedGroup, ...] = Field(default=(), max_length=1000)
    # After the first answer, a short title written by this assistant's model.
    model_titles: bool = True
    # Documents on the `chat` backend (docs/documents.md): the context window of a
    # server's model in tokens (documents that fit go into the prompt whole; unset:
    # 8192; the local model's is LOCAL_CONTEXT_TOKENS), the connection's embedding model
    # (unset: search by words only), and the assistant's own files, searched in every
    # conversation (globs relative to assistants.toml; `assistants-ui knowledge index`).
    context_tokens: int | None = Field(default=None, ge=256, le=10_000_000)
    embedding_model: str | None = Field(default=None, min_length=1, max_length=200)
    knowledge: tuple[str, ...] = ()
    # The model sees images: PNG, JPEG, WebP and GIF go to it (`chat`: as image_url parts).
    vision: bool | None = None

    @model_validator(mode="after")
    def _check(self) -> Profile:
        if self.backend not in KNOWN_BACKENDS:
            raise ValueError(
                f"unknown backend {self.backend!r} (expected one of {', '.join(KNOWN_BACKENDS)})"
            )
        if self.backend == "assistants" and not self.assistant_id:
            raise ValueError("backend 'assistants' needs assistant_id")
        if self.backend in ("responses",) and not self.model:
            raise ValueError("missing model (the model or Azure deployment name to use)")
        if self.hosted_mcp and self.backend != "responses":
            raise ValueError("hosted_mcp needs backend 'responses' (the Responses API calls it)")
        labels = [s.server_label for s in self.hosted_mcp]
        if len(set(labels)) != len(labels):
            raise ValueError("hosted_mcp: each server_label must be unique")
        names = [s.name for s in self.mcp_servers]
        if len(set(names)) != len(names):
            raise ValueError("two mcp_servers have the same name")
        return self

    @property
    def uploads_enabled(self) -> bool:
        return bool(self.upload_types)

    @property
    def restricted(self) -> bool:
        """Only the users and groups it names may use it."""
        return bool(self.allowed_users or self.allowed_groups)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


@dataclass(slots=True)
class Config:
    """Everything the app was configured with, and everything wrong with it."""

    settings: Settings
    profiles: list[Profile] = field(default_factory=list)
    connections: dict[str, Connection] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    source: str = "default"

    def profile(self, profile_id: str) -> Profile | None:
        return next((p for p in self.profiles if p.id == profile_id), None)

    def connection_for(self, profile: Profile) -> Connection:
        return self.connections[profile.connection]


# -- building ---------------------------------------------------------------------


def _builtin_connections(settings: Settings) -> dict[str, Connection]:
    """Connections that exist without being declared, from the environment."""
    conns = {
        "local": Connection(
            id="local",
            type="local",
            model_path=settings.local_model_path,
            context_tokens=settings.local_context_tokens,
            threads=settings.local_threads,
            max_tokens=settings.local_max_tokens,
        ),
        "openai": Connection(
            id="openai",
            type="openai",
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key,
            max_retries=settings.openai_max_retries,
            timeout=settings.openai_timeout,
        ),
    }
    if settings.azure_openai_endpoint:
        conns["azure"] = Connection(
            id="azure",
            type="azure",
            base_url=settings.azure_openai_endpoint,
            api_key=settings.azure_openai_key,
            max_retries=settings.openai_max_retries,
            timeout=settings.openai_timeout,
        )
    return conns


def _validation_problem(where: str, exc: ValidationError) -> Problem:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err.get("loc", ()))
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err.get("type") == "extra_forbidden":
            msg = "unknown key"
        parts.append(f"{loc}: {msg}" if loc else msg)
    return Problem(where, "; ".join(parts))


def _env_connection_name(settings: Settings) -> str:
    return "azure" if settings.azure_openai_endpoint else "openai"


def _env_profiles(settings: Settings, problems: list[Problem]) -> list[dict[str, Any]]:
    """Profiles implied by the original project's environment variables."""
    upload_types = DEFAULT_UPLOAD_TYPES if settings.enabled_file_upload_message else ()
    common: dict[str, Any] = {
        "upload_label": settings.enabled_file_upload_message or UPLOAD_LABEL,
        "upload_types": upload_types,
        "max_upload_mb": settings.max_upload_mb,
    }
    if settings.run_instructions:
        common["instructions"] = settings.run_instructions
    conn = _env_connection_name(settings)

    if settings.openai_assistants:
        try:
            entries = json.loads(settings.openai_assistants)
            if not isinstance(entries, list) or not all(
                isinstance(e, dict) and isinstance(e.get("id"), str) for e in entries
            ):
                raise ValueError('expected a JSON list like [{"id": "asst_...", "title": "..."}]')
        except (json.JSONDecodeError, ValueError) as exc:
            problems.append(Problem("OPENAI_ASSISTANTS", f"not valid: {exc}"))
            entries = []
        return [
            {
                **common,
                "id": e["id"],
                "title": str(e.get("title") or ""),
                "backend": "assistants",
                "connection": conn,
                "assistant_id": e["id"],
            }
            for e in entries
        ]
    if settings.assistant_id:
        return [
            {
                **common,
                "id": settings.assistant_id,
                "title": settings.assistant_title or "",
                "backend": "assistants",
                "connection": conn,
                "assistant_id": settings.assistant_id,
            }
        ]
    if settings.openai_base_url or settings.openai_api_key or settings.azure_openai_endpoint:
        backend = settings.openai_api or ("chat" if settings.openai_base_url else "responses")
        if backend == "chat":
            common["upload_types"] = CHAT_UPLOAD_TYPES if upload_types else ()
        return [
            {
                **common,
                "id": "default",
                "title": settings.assistant_title or "Assistant",
                "backend": backend,
                "connection": conn,
                "model": settings.openai_model,
                "tools": ["code_interpreter", "file_search"] if backend == "responses" else [],
            }
        ]
    return []


def _local_profile(settings: Settings) -> dict[str, Any]:
    return {
        "id": "local",
        "title": settings.assistant_title or "Local assistant",
        "backend": "chat",
        "connection": "local",
        "icon": "🦙",
        "instructions": settings.run_instructions
        or "You are a helpful assistant. Answer briefly and clearly.",
        "welcome": N_("This assistant runs on a small model inside this app: no key, no network."),
        "upload_types": CHAT_UPLOAD_TYPES if settings.enabled_file_upload_message else (),
        "upload_label": settings.enabled_file_upload_message or UPLOAD_LABEL,
        "max_upload_mb": settings.max_upload_mb,
    }


def _read_toml(path: Path, problems: list[Problem]) -> dict[str, Any] | None:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except tomllib.TOMLDecodeError as exc:
        problems.append(Problem(str(path), f"is not valid TOML ({exc})"))
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(str(path), f"cannot be read ({exc})"))
    return {}


def _add_profiles(
    config: Config, raw: Iterable[dict[str, Any]], where: str, *, defaults: dict[str, Any]
) -> None:
    seen = {p.id for p in config.profiles}
    for index, entry in enumerate(raw):
        label = f"{where}[{index}]" + (f" ({entry.get('id')!r})" if entry.get("id") else "")
        if not isinstance(entry, dict):
            config.problems.append(Problem(label, "must be a table"))
            continue
        values = {**defaults, **entry}
        if not values.get("title"):
            values["title"] = values.get("id") or "Assistant"
        try:
            profile = Profile.model_validate(values)
        except ValidationError as exc:
            config.problems.append(_validation_problem(label, exc))
            continue
        if profile.id in seen:
            config.problems.append(Problem(label, f"duplicate assistant id {profile.id!r}"))
            continue
        if profile.connection not in config.connections:
            config.problems.append(Problem(label, f"unknown connection {profile.connection!r}"))
            continue
        if profile.transcription_model and config.connections[profile.connection].type == "local":
            config.problems.append(
                Problem(
                    f"{label} transcription_model",
                    "the local model cannot transcribe audio: voice input needs an openai or "
                    "azure connection (the microphone is not offered)",
                )
            )
            profile = profile.model_copy(update={"transcription_model": None})
        if profile.embedding_model and config.connections[profile.connection].type == "local":
            config.problems.append(
                Problem(
                    f"{label} embedding_model",
                    "the local model makes no embeddings: documents are searched by their "
                    "words (embeddings come from a server's /v1/embeddings)",
                )
            )
            profile = profile.model_copy(update={"embedding_model": None})
        seen.add(profile.id)
        config.profiles.append(profile)


def load_config(settings: Settings, problems: Iterable[Problem] = ()) -> Config:
    """Profiles from `assistants.toml` if it exists, else from the environment."""
    config = Config(settings=settings, problems=list(problems))
    config.connections = _builtin_connections(settings)

    path = settings.assistants_file
    data = _read_toml(path, config.problems)
    if data is not None:
        config.source = str(path)
        raw_conns = data.get("connections", {})
        if not isinstance(raw_conns, dict):
            config.problems.append(Problem(f"{path}: connections", "must be a table"))
            raw_conns = {}
        for name, raw in raw_conns.items():
            try:
                if not isinstance(raw, dict):
                    raise TypeError
                base = config.connections.get(name)
                inherited = base.model_dump(exclude_unset=True) if base else {}
                config.connections[name] = Connection.model_validate(
                    {**inherited, **raw, "id": name}
                )
            except TypeError:
                config.problems.append(Problem(f"{path}: connections.{name}", "must be a table"))
            except ValidationError as exc:
                config.problems.append(_validation_problem(f"{path}: connections.{name}", exc))
        unknown = set(data) - {"connections", "assistants"}
        if unknown:
            config.problems.append(
                Problem(str(path), f"unknown top-level key(s): {', '.join(sorted(unknown))}")
            )
        raw_profiles = data.get("assistants", [])
        if not isinstance(raw_profiles, list):
            config.problems.append(Problem(f"{path}: assistants", "must be [[assistants]] tables"))
            raw_profiles = []
        defaults = {"upload_types": DEFAULT_UPLOAD_TYPES, "max_upload_mb": settings.max_upload_mb}
        _add_profiles(config, raw_profiles, f"{path}: assistants", defaults=defaults)
        if not raw_profiles and not any(p.setting.startswith(str(path)) for p in config.problems):
            config.problems.append(Problem(str(path), "declares no [[assistants]]"))
        return config

    configured = (
        settings.openai_assistants
        or settings.assistant_id
        or settings.openai_base_url
        or settings.openai_api_key
        or settings.azure_openai_endpoint
    )
    if configured:
        config.source = "environment"
        _add_profiles(config, _env_profiles(settings, config.problems), "environment", defaults={})
    else:
        config.source = "default"
        _add_profiles(config, [_local_profile(settings)], "default", defaults={})
    return config
