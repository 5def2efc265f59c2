"""Health checks of a configuration: settings, profiles, every endpoint they use, the database.

Used by `assistants-ui check` (a table, non-zero exit on a problem) and by the
page, which shows the same sentences. Connectivity checks are real requests
with a short timeout and no retries. `database_checks` reads the history
database without changing it (no migration, no file created).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from assistants_ui.backends import registry
from assistants_ui.core.backend import BackendError
from assistants_ui.profiles import Config, Connection
from assistants_ui.settings import Settings

__all__ = [
    "Check",
    "access_checks",
    "auth_checks",
    "capability_checks",
    "check_connection",
    "database_checks",
    "mcp_checks",
    "run_checks",
]


@dataclass(frozen=True, slots=True)
class Check:
    area: str
    name: str
    ok: bool
    detail: str


def check_connection(connection: Connection, *, timeout: float = 5.0) -> Check:
    """Can this connection be used right now? (loads the model / lists models)"""
    name = connection.id
    if connection.type == "local":
        from assistants_ui.backends.chat.local_engine import LocalModelError, check_model_file

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

    from assistants_ui.backends.clients import describe_error, endpoint_of, shown_endpoint

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
    return Check("connection", name, True, f"{shown_endpoint(connection)} answers ({count} models)")


def _connection_id(backend: Any) -> str:
    connection = getattr(backend, "connection", None)
    return connection.id if isinstance(connection, Connection) else ""


def _probe(backend: Any) -> None:
    """One small request per assistant, through the backend's own code, so that its
    connection learns what the server refuses (see backends.capabilities)."""
    import openai

    from assistants_ui.backends.chat.backend import ChatBackend
    from assistants_ui.backends.responses.backend import ResponsesBackend

    if isinstance(backend, ResponsesBackend):
        if backend.connection.state == "conversation":
            try:
                remote = backend.open()
                if remote.get("conversation"):
                    backend.delete(remote)
            except BackendError:
                pass
        try:
            backend.client.vector_stores.list(limit=1)
            backend.capabilities.learn("vector_stores", True)
        except openai.APIStatusError as exc:
            from assistants_ui.backends.clients import server_reason

            backend.capabilities.learn("vector_stores", False, server_reason(exc))
        except openai.OpenAIError:
            pass
        request = dict(backend.request_base({}), input="ping", max_output_tokens=16)
        try:
            stream, _ = backend.open_stream(request, background=True)
        except openai.OpenAIError:
            return
        response_id = ""
        try:
            for event in stream:  # the JSON of the first event: response.created
                response = event.get("response") if isinstance(event, dict) else None
                response_id = str(response.get("id") or "") if isinstance(response, dict) else ""
                break
        finally:
            stream.close()
        if response_id and backend.uses_background():
            backend.cancel({"response": response_id})
    elif isinstance(backend, ChatBackend):
        backend.probe()


def capability_checks(backends: Sequence[Any]) -> list[Check]:
    """What each connection's server supports, learned by a small request per assistant
    ("background: no, Stop only closes the stream"). Never a failure: a missing
    feature is dropped by the app, not fatal."""
    from assistants_ui.backends.capabilities import capabilities_for, effect_of

    seen: dict[str, Connection] = {}
    for backend in backends:
        try:
            _probe(backend)
        except Exception as exc:  # a probe never breaks the check
            logging.getLogger(__name__).info("capability probe failed: %s", exc)
        connection = getattr(backend, "connection", None)
        if isinstance(connection, Connection) and connection.type != "local":
            seen[connection.id] = connection
    rows = []
    for connection in seen.values():
        known = capabilities_for(connection).known()
        if not known:
            continue
        parts = [
            f"{feature}: yes"
            if learned.supported
            else f"{feature}: no, {effect_of(feature)}"
            + (f" (the server said: {learned.reason})" if learned.reason else "")
            for feature, learned in known.items()
        ]
        rows.append(Check("supports", connection.id, True, "; ".join(parts)))
    return rows


def mcp_checks(config: Config) -> list[Check]:
    """Each MCP server the profiles name: its tools, or why it cannot be reached (the
    answers go on without it, but its tools are missing)."""
    from assistants_ui.tools.mcp import McpUnavailable, server_for

    servers = {s.model_dump_json(): s for p in config.profiles for s in p.mcp_servers}
    rows = []
    for settings in servers.values():
        try:
            names = [t.name for t in server_for(settings).tools()]
        except McpUnavailable as exc:
            rows.append(Check("mcp", settings.name, False, f"{settings.describe()}: {exc}"))
            continue
        listed = ", ".join(names) or "none"
        rows.append(Check("mcp", settings.name, True, f"{settings.describe()}: tools {listed}"))
    return rows


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
    backends: list[Any] = []
    for profile in config.profiles:
        connection = config.connection_for(profile)
        used[connection.id] = connection
        try:
            backends.append(registry.create(profile, connection, config.settings))
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
        reachable = [check_connection(c) for c in used.values()]
        checks.extend(reachable)
        up = {c.name for c in reachable if c.ok}
        checks.extend(capability_checks([b for b in backends if _connection_id(b) in up]))
        checks.extend(mcp_checks(config))
    for more in extra or ():
        checks.extend(more())
    return checks


def auth_checks(settings: Settings) -> list[Check]:
    """The login's rows: blocking problems and warnings fail, notes (what is configured)
    pass. Logs nothing: `check` prints, the page logs."""
    from assistants_ui.auth.setup import load_auth

    setup = load_auth(settings)
    rows = [Check("login", p.setting, False, p.message) for p in setup.problems]
    rows += [Check("login", p.setting, False, p.message) for p in setup.warnings]
    rows += [Check("login", "methods", True, note) for note in setup.notes]
    return rows


def access_checks(config: Config) -> list[Check]:
    """Each restricted assistant (`allowed_users`, `allowed_groups`): whom it is for, and
    one line per name nobody can match: a group no one is known to be in (not in `[auth]`,
    given to nobody on the admin page, brought by no sign-in yet), a login name no
    password user has, or a login that is off."""
    restricted = [p for p in config.profiles if p.restricted]
    if not restricted:
        return []
    from assistants_ui.auth.setup import load_auth

    settings = config.settings
    if not settings.authentication_required:
        return [
            Check(
                "access",
                p.id,
                False,
                "allowed_users / allowed_groups restrict it, but AUTHENTICATION_REQUIRED is "
                "off: nobody signs in, so nobody can use it (guests see only the assistants "
                "open to everyone)",
            )
            for p in restricted
        ]
    setup = load_auth(settings)
    known = set(_stored_groups(settings))
    if setup.oidc is not None:
        known |= setup.oidc.allow.groups | setup.oidc.admin_groups
    logins = {u.lower() for u in setup.passwords.users} if setup.passwords else set()
    rows = []
    for profile in restricted:
        groups = [g for g in profile.allowed_groups if g not in known]
        names = [n for n in profile.allowed_users if "@" not in n and n not in logins]
        if groups:
            rows.append(
                Check(
                    "access",
                    profile.id,
                    False,
                    f"allowed_groups names {', '.join(groups)}, which no one is known to be "
                    "in (not in [auth] allowed_groups or admin_groups, given to nobody on the "
                    "admin page, brought by no single sign-on yet): nobody can use this "
                    "assistant through it",
                )
            )
        if names:
            rows.append(
                Check(
                    "access",
                    profile.id,
                    False,
                    f"allowed_users names {', '.join(names)}, which no password user is "
                    "(single sign-on users are named by their e-mail address)",
                )
            )
        if not groups and not names:
            whom = [*profile.allowed_users, *(f"group {g}" for g in profile.allowed_groups)]
            rows.append(Check("access", profile.id, True, "only for " + ", ".join(whom)))
    return rows


def _stored_groups(settings: Settings) -> frozenset[str]:
    """The groups the history database knows (given on the admin page, brought by a
    sign-in), read without changing it; none when it cannot be read (its own check
    says why)."""
    from assistants_ui.storage.engine import database_url, open_url
    from assistants_ui.storage.errors import StorageError
    from assistants_ui.storage.groups import Groups

    try:
        url = database_url(settings)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            from pathlib import Path

            if not Path(url.database).exists():
                return frozenset()
        db = open_url(url, migrate=False)
    except StorageError:
        return frozenset()
    try:
        return Groups(db).known_groups()
    except StorageError:  # a schema from before revision 0016: no group given yet
        return frozenset()
    finally:
        db.dispose()


def database_checks(settings: Settings) -> list[Check]:
    """Can DATABASE_URL be reached, and is its schema the one this version expects?

    Read-only: a SQLite file that does not exist yet is reported (the app
    creates it at start-up), not created; pending migrations are reported (the
    app applies them at start-up), not applied. A schema newer than this
    version, or one that cannot be read, is a problem.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from assistants_ui.storage.engine import database_url, open_url
    from assistants_ui.storage.errors import StorageError, describe
    from assistants_ui.storage.migrate import current_revision, head_revision, known_revisions

    try:
        url = database_url(settings)
    except StorageError as exc:
        return [Check("database", "connection", False, str(exc))]
    shown = url.render_as_string(hide_password=True)
    head = head_revision()
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        from pathlib import Path

        if not Path(url.database).exists():
            return [
                Check("database", "connection", True, f"{shown}: no file yet (created at start)"),
                Check("database", "schema", True, f"empty; migrated to {head} at start"),
            ]
    try:
        db = open_url(url, migrate=False)
    except StorageError as exc:
        return [Check("database", "connection", False, str(exc))]
    try:
        with db.engine.connect() as conn:
            current = current_revision(conn)
            version = conn.dialect.server_version_info or ()
    except SQLAlchemyError as exc:
        return [Check("database", "connection", False, f"{shown}: {describe(exc)}")]
    finally:
        db.dispose()
    server = f"{db.dialect} {'.'.join(str(v) for v in version)}".strip()
    rows = [Check("database", "connection", True, f"{shown} ({server})")]
    if current == head:
        rows.append(Check("database", "schema", True, f"at {head} (this version's newest)"))
    elif current is None:
        rows.append(Check("database", "schema", True, f"empty; migrated to {head} at start"))
    elif current in known_revisions():
        rows.append(
            Check(
                "database",
                "schema",
                True,
                f"at {current}, behind {head}: migrated at start (or `assistants-ui db upgrade`)",
            )
        )
    else:
        rows.append(
            Check(
                "database",
                "schema",
                False,
                f"at {current}, newer than this version knows (its newest is {head}): "
                "upgrade Assistants UI or use another database",
            )
        )
    return rows
