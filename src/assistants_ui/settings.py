"""Process-wide settings: environment, `.env` and Streamlit secrets, validated.

`load_settings()` builds the one `Settings` object; nothing is read at import
time. Sources, strongest first: explicit keyword arguments, the environment,
`.env`, then the top-level keys of `.streamlit/secrets.toml` (Streamlit
Community Cloud also passes those as environment variables, so both routes
agree).

The original project's variables keep their names and meaning:
`OPENAI_API_KEY`, `ASSISTANT_ID`, `OPENAI_ASSISTANTS`, `ASSISTANT_TITLE`,
`ENABLED_FILE_UPLOAD_MESSAGE`, `AUTHENTICATION_REQUIRED`,
`AZURE_OPENAI_ENDPOINT`, `AZURE_OPENAI_KEY`, `RUN_INSTRUCTIONS`.

A bad value never raises out of `load_settings`: it becomes a `Problem` that
names the variable and what is wrong, and the setting falls back to its
default so that the app can still start and show the message.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

__all__ = ["Problem", "Settings", "load_settings"]

log = logging.getLogger(__name__)

SECRETS_FILES = (Path(".streamlit/secrets.toml"), Path.home() / ".streamlit" / "secrets.toml")


@dataclass(frozen=True, slots=True)
class Problem:
    """A configuration problem: which setting, and what is wrong with it."""

    setting: str
    message: str

    def __str__(self) -> str:
        return f"{self.setting}: {self.message}"


class Settings(BaseSettings):
    """Every setting the app reads from its environment. Names are env var names."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        validate_default=False,
    )

    # The original project's variables ------------------------------------------
    openai_api_key: SecretStr | None = None
    assistant_id: str | None = None
    openai_assistants: str | None = Field(
        default=None, description='JSON list of {"id": ..., "title": ...}'
    )
    assistant_title: str | None = None
    enabled_file_upload_message: str = "Upload a file"
    authentication_required: bool = False
    azure_openai_endpoint: str | None = None
    azure_openai_key: SecretStr | None = None
    run_instructions: str | None = None

    # Any OpenAI-compatible server ------------------------------------------------
    openai_base_url: str | None = None
    openai_model: str | None = None
    openai_api: Literal["chat", "responses"] | None = None
    openai_max_retries: int = Field(default=2, ge=0, le=10)
    openai_timeout: float = Field(default=60.0, gt=0)

    # The in-process model ----------------------------------------------------------
    local_model_path: Path | None = None
    local_max_tokens: int = Field(default=512, ge=1, le=32768)
    local_context_tokens: int = Field(default=2048, ge=256, le=131072)
    local_threads: int | None = Field(default=None, ge=1)

    # The app -------------------------------------------------------------------------
    assistants_file: Path = Path("assistants.toml")
    max_upload_mb: float = Field(default=20, gt=0)
    data_dir: Path = Path("data")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["logfmt", "json"] = "logfmt"  # assistants_ui.logs
    # An answer outlives its page; one that no page has shown for this long is stopped
    # (0: as soon as nobody watches). What was written is kept (core.live).
    unattended_answer_minutes: float = Field(default=10, ge=0, le=1440)
    # How often an answer being written is saved, so that a crash keeps what was shown.
    answer_checkpoint_seconds: float = Field(default=1, gt=0, le=60)
    # The backend, the server's URL and the model in the sidebar (and the server in
    # error sentences) for everyone; false: for admins only (ADMIN_USERS).
    show_connection_details: bool = False

    # History storage (assistants_ui.storage) -----------------------------------------
    # A secret: a PostgreSQL URL carries a password. Unset: DATA_DIR/assistants-ui.db.
    database_url: SecretStr | None = None
    max_stored_file_mb: float = Field(default=50, ge=0, le=4096)
    # A conversation's share link opens without signing in (false: signed-in users only).
    share_links_public: bool = False
    # Share links that still open, per user (0: nobody can make one).
    max_shares_per_user: int = Field(default=50, ge=0, le=100_000)

    # For teams: retention, temporary chats, personal instructions, memory ---------------
    # Conversations whose last activity is older than this many days are purged, daily
    # (files and remote state included; audited; the usage ledger stays). Unset or 0:
    # kept until their owner deletes them.
    retention_days: int | None = Field(default=None, ge=0, le=36500)
    # A temporary chat is deleted when closed, and at the latest this long after it began.
    temporary_chat_hours: float = Field(default=24, gt=0, le=8760)
    # Each of a user's "about me" and "how to answer" texts, at most.
    personal_instructions_max_chars: int = Field(default=2000, ge=1, le=100_000)
    # Facts the memory tool keeps per user, at most.
    memory_max_facts: int = Field(default=100, ge=1, le=10_000)

    # Limits against memory and CPU exhaustion, checked before any network call -------
    max_files_per_message: int = Field(default=10, ge=1, le=1000)
    max_message_chars: int = Field(default=100_000, ge=1, le=10_000_000)
    max_search_chars: int = Field(default=200, ge=1, le=10_000)

    # Login (assistants_ui.auth) --------------------------------------------------------
    # Password users managed by `assistants-ui users`. Unset: DATA_DIR/credentials.yaml.
    credentials_file: Path | None = None
    login_max_failures: int = Field(default=5, ge=1, le=1000)
    login_lockout_minutes: float = Field(default=15, gt=0, le=10080)
    # Who sees the admin page: login names and/or e-mails, comma-separated (auth.admins).
    admin_users: str | None = None

    # Behind a reverse proxy (docs/security.md, "Guests and daily limits") ----------------
    # How many proxies, each appending the address it saw to X-Forwarded-For, stand
    # between the browsers and the app (the nginx template: 1). 0: the header is not
    # trusted; the client's address is the connection's.
    trusted_proxies: int = Field(default=0, ge=0, le=10)
    # The guests' (and everyone's) daily limits count every guest of one client address
    # together: a guest that deletes its cookie is a new guest, not a new count.
    guest_limits_per_address: bool = False

    # Telemetry (assistants_ui.telemetry, docs/operators.md "Telemetry") -----------------
    # OpenTelemetry traces of every answer, sent over OTLP/HTTP to this base URL
    # (a Collector's :4318; /v1/traces is added). Unset: no tracing, nothing imported.
    otel_exporter_otlp_endpoint: str | None = None
    # Prometheus metrics on this port of their own (GET /metrics). Unset: none.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # The address the metrics port listens on (127.0.0.1: this machine only).
    metrics_address: str = "0.0.0.0"

    @field_validator("openai_base_url", "azure_openai_endpoint", "otel_exporter_otlp_endpoint")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https:// (got {value!r})")
        return value.rstrip("/")

    @field_validator(
        "assistant_id", "openai_assistants", "assistant_title", "openai_model", "run_instructions"
    )
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("openai_api_key", "azure_openai_key", "database_url")
    @classmethod
    def _blank_key_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        return SecretStr(value.get_secret_value().strip())

    @field_validator("metrics_port", mode="before")
    @classmethod
    def _blank_port_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            StreamlitSecretsSource(settings_cls),
        )


class StreamlitSecretsSource(PydanticBaseSettingsSource):
    """Top-level keys of `.streamlit/secrets.toml`, matched case-insensitively.

    Tables (`[credentials]`, `[cookie]`, `[auth]`) belong to the login code and
    are ignored here.
    """

    def __init__(self, settings_cls: type[BaseSettings], files: tuple[Path, ...] = SECRETS_FILES):
        super().__init__(settings_cls)
        self.values: dict[str, Any] = {}
        self.problems: list[Problem] = []
        for path in reversed(files):  # the project's file wins over the home one
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                continue
            except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                self.problems.append(Problem(str(path), f"cannot be read ({exc})"))
                continue
            for key, value in data.items():
                if not isinstance(value, dict):
                    self.values[key.lower()] = value

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        names = set(self.settings_cls.model_fields)
        return {k: v for k, v in self.values.items() if k in names}


def _describe(error: dict[str, Any]) -> Problem:
    name = str(error["loc"][0]).upper() if error.get("loc") else "settings"
    value = error.get("input")
    shown = "" if "key" in name.lower() else f" (got {value!r})"
    return Problem(name, f"{error['msg']}{shown}")


def load_settings(**overrides: Any) -> tuple[Settings, list[Problem]]:
    """Build the settings; invalid values become problems and fall back to defaults."""
    problems: list[Problem] = []
    fallback: dict[str, Any] = {}
    for _ in range(len(Settings.model_fields) + 1):
        try:
            settings = Settings(**{**fallback, **overrides})
            break
        except ValidationError as exc:
            for error in exc.errors():
                field = str(error["loc"][0]) if error.get("loc") else ""
                if field not in Settings.model_fields or field in fallback:
                    raise  # pragma: no cover - a bug in the model itself
                problems.append(_describe(dict(error)))
                fallback[field] = Settings.model_fields[field].default
    else:  # pragma: no cover
        raise RuntimeError("settings did not converge")
    secrets = StreamlitSecretsSource(Settings)
    problems.extend(secrets.problems)
    return settings, problems
