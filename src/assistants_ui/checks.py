"""Health checks of a configuration: settings, profiles, and every endpoint they use.

Used by `assistants-ui check` (a table, non-zero exit on a problem) and by the
page, which shows the same sentences. Connectivity checks are real requests
with a short timeout and no retries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from assistants_ui.backends import registry
from assistants_ui.backends.base import BackendError
from assistants_ui.profiles import Config, Connection

__all__ = ["Check", "check_connection", "run_checks"]


@dataclass(frozen=True, slots=True)
class Check:
    area: str
    name: str
    ok: bool
    detail: str


def check_connection(connection: Connection, *, timeout: float = 5.0) -> Check:
    """Can this connection be used right now? (loads the model / lists models)"""
    name = f"connection {connection.id}"
    if connection.type == "local":
        from assistants_ui.backends.local_engine import LocalModelError, check_model_file

        try:
            path = check_model_file(connection.model_path)
            import llama_cpp  # noqa: F401
        except LocalModelError as exc:
            return Check("connection", name, False, str(exc))
        except ImportError:
            return Check(
                "connection", name, False, "llama-cpp-python is not installed (the `local` extra)."
            )
        return Check("connection", name, True, f"local model {path}")

    import openai

    from assistants_ui.backends.clients import describe_error, endpoint_of

    key = connection.resolved_key()
    client = openai.OpenAI(
        api_key=key or "no-key-needed",
        base_url=endpoint_of(connection),
        max_retries=0,
        timeout=timeout,
    )
    try:
        models = client.models.list()
        count = len(models.data)
    except openai.OpenAIError as exc:
        return Check("connection", name, False, describe_error(exc, connection).reason)
    finally:
        client.close()
    return Check("connection", name, True, f"{endpoint_of(connection)} answers ({count} models)")


def run_checks(
    config: Config,
    *,
    connect: bool = True,
    extra: list[Callable[[], list[Check]]] | None = None,
) -> list[Check]:
    checks = [Check("config", p.setting, False, p.message) for p in config.problems]
    checks.append(
        Check(
            "config",
            "profiles",
            bool(config.profiles),
            f"{len(config.profiles)} assistant(s) from {config.source}",
        )
    )
    used: dict[str, Connection] = {}
    for profile in config.profiles:
        connection = config.connection_for(profile)
        used[connection.id] = connection
        try:
            registry.create(profile, connection, config.settings)
            checks.append(
                Check(
                    "assistant",
                    profile.id,
                    True,
                    f"{profile.title} · {profile.backend} · {connection.id}",
                )
            )
        except BackendError as exc:
            checks.append(Check("assistant", profile.id, False, exc.reason))
    if connect:
        checks.extend(check_connection(c) for c in used.values())
    for more in extra or ():
        checks.extend(more())
    return checks
