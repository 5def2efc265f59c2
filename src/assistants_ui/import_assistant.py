"""`assistants-ui import-assistant`: an Assistants API definition -> a Responses profile.

OpenAI and Azure shut the Assistants API down on 2026-08-26; what an
assistant was (model, instructions, tools, files) must now live in our own
`assistants.toml`. This command reads an assistant object exactly as the old
API returned it (a saved `GET /assistants/{id}` answer, a saved list page, or
`--from-api ID` from a server that still answers) and appends an equivalent
`[[assistants]]` table with `backend = "responses"`:

- `name` -> `title`, `model`, `instructions`, `temperature` as they were;
- code interpreter -> `tools` + `code_interpreter.file_ids` (the files the
  assistant's sandbox started with);
- file search -> `tools` + the same `vector_store_ids`;
- function tools -> listed in a TOML comment above `functions = []`: this app
  runs functions itself, so each needs an implementation named there;
- what a profile has no key for (`top_p`, a structured `response_format`,
  file search ranking, metadata) -> a comment saying it was not carried over.

The file is edited with tomlkit, so its comments and layout are kept. An id
already present is refused unless `--force` replaces that table. Before
anything is written, the result is loaded with `load_config` from a temporary
copy: a profile that would not validate is never written.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Table

__all__ = [
    "Draft",
    "MigrationError",
    "add_parser",
    "draft_profile",
    "fetch_assistant",
    "read_assistants",
    "write_profiles",
]


class MigrationError(Exception):
    """Why the import cannot be done, in one sentence."""


@dataclass
class Draft:
    """One profile to write: its keys, the comments above them, notes for the operator."""

    source_id: str
    values: dict[str, Any]
    header: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)  # "name(params): description"
    notes: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.values["id"])


# -- reading ---------------------------------------------------------------------------------


def read_assistants(path: Path) -> list[dict[str, Any]]:
    """Assistant objects from a JSON file: one object, a list page, or a JSON array."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise MigrationError(f"{path}: no such file.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise MigrationError(f"{path}: cannot be read ({exc}).") from exc
    except json.JSONDecodeError as exc:
        raise MigrationError(f"{path}: not valid JSON ({exc}).") from exc
    items = raw.get("data") if isinstance(raw, dict) and raw.get("object") == "list" else raw
    items = items if isinstance(items, list) else [items]
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not item.get("model"):
            where = f"{path}" + (f" item {index}" if len(items) > 1 else "")
            raise MigrationError(
                f"{where}: not an assistant object (expected at least `id` and `model`, as "
                "GET /v1/assistants/{id} returns it)."
            )
    if not items:
        raise MigrationError(f"{path}: holds no assistants.")
    return items


def fetch_assistant(connection_name: str, assistant_id: str) -> dict[str, Any]:
    """The assistant object from a server that still serves the Assistants API."""
    import openai

    from assistants_ui.backends.assistants.backend import AssistantsBackend
    from assistants_ui.backends.clients import client_for
    from assistants_ui.profiles import Profile, load_config
    from assistants_ui.settings import load_settings

    config = load_config(load_settings()[0])
    connection = config.connections.get(connection_name)
    if connection is None or connection.type == "local":
        known = ", ".join(n for n, c in config.connections.items() if c.type != "local")
        raise MigrationError(f"--connection {connection_name!r} is not a server ({known}).")
    try:
        found = client_for(connection).beta.assistants.retrieve(assistant_id)
    except openai.OpenAIError as exc:
        probe = Profile(
            id="import",
            title="import",
            backend="assistants",
            connection=connection.id,
            assistant_id=assistant_id,
        )
        reason = AssistantsBackend(probe, connection).failed(exc).reason
        raise MigrationError(f"Cannot fetch {assistant_id}: {reason}") from exc
    obj: dict[str, Any] = found.model_dump(mode="json")
    return obj


# -- translating ------------------------------------------------------------------------------


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", text.strip().lower()).strip("-.")
    return slug[:64]


def _signature(fn: dict[str, Any]) -> str:
    params = (fn.get("parameters") or {}).get("properties") or {}
    args = ", ".join(
        f"{name}: {spec.get('type', 'any')}" if isinstance(spec, dict) else name
        for name, spec in params.items()
    )
    described = f" - {fn['description']}" if fn.get("description") else ""
    return f"{fn.get('name', '?')}({args}){described}"


def draft_profile(
    assistant: dict[str, Any], *, profile_id: str | None = None, connection: str = "openai"
) -> Draft:
    """The Responses profile equivalent to an assistant object."""
    source = str(assistant.get("id") or "")
    name = str(assistant.get("name") or "").strip()
    pid = profile_id or _slug(name) or _slug(source) or "imported"
    values: dict[str, Any] = {
        "id": pid,
        "title": name or source or pid,
        "backend": "responses",
        "connection": connection,
        "model": assistant["model"],
    }
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    draft = Draft(source, values)
    draft.header.append(
        f"Imported from the Assistants API assistant {source or '(no id)'} on {when} "
        "by `assistants-ui import-assistant`."
    )
    if assistant.get("description"):
        draft.header.append(f"Its description: {assistant['description']}")
    instructions = assistant.get("instructions")
    if instructions:
        values["instructions"] = str(instructions).replace("\r\n", "\n")
    if assistant.get("temperature") is not None:
        values["temperature"] = float(assistant["temperature"])

    tools: list[str] = []
    resources = assistant.get("tool_resources") or {}
    carried: dict[str, Any] = {}
    for tool in assistant.get("tools") or []:
        kind = tool.get("type")
        if kind == "code_interpreter" and kind not in tools:
            tools.append(kind)
            file_ids = (resources.get("code_interpreter") or {}).get("file_ids") or []
            if file_ids:
                carried["code_interpreter"] = {"file_ids": list(file_ids)}
        elif kind == "file_search" and kind not in tools:
            tools.append(kind)
            stores = (resources.get("file_search") or {}).get("vector_store_ids") or []
            if stores:
                carried["vector_store_ids"] = list(stores)
            options = tool.get("file_search") or {}
            if options:
                draft.notes.append(
                    f"file search options {json.dumps(options, sort_keys=True)} were not "
                    "carried over (profiles have no key for them)"
                )
        elif kind == "function":
            draft.functions.append(_signature(tool.get("function") or {}))
    if tools:
        values["tools"] = tools
    values.update(carried)

    top_p = assistant.get("top_p")
    if top_p is not None and float(top_p) != 1.0:
        draft.notes.append(f"top_p = {top_p} was not carried over (profiles have no top_p)")
    fmt = assistant.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") not in (None, "text"):
        draft.notes.append(
            f"response_format {fmt.get('type')!r} was not carried over: ask for the format "
            "in the instructions"
        )
    if assistant.get("metadata"):
        draft.notes.append(
            f"metadata {json.dumps(assistant['metadata'], sort_keys=True)} was not carried over"
        )
    if draft.functions:
        draft.notes.append(
            "function tools need an implementation named in `functions`: "
            + ", ".join(f.split("(", 1)[0] for f in draft.functions)
        )
    return draft


# -- writing ------------------------------------------------------------------------------------


def _table(draft: Draft) -> Table:
    table = tomlkit.table()
    for line in draft.header:
        table.add(tomlkit.comment(line))
    for key, value in draft.values.items():
        if key == "instructions" and "\n" in value:
            table.add(key, tomlkit.string(value, multiline=True))
        elif key == "code_interpreter":
            inline = tomlkit.inline_table()
            inline.update(value)
            table.add(key, inline)
        else:
            table.add(key, value)
    if draft.functions:
        table.add(tomlkit.comment("The assistant declared these function tools. This app runs"))
        table.add(tomlkit.comment("functions itself: name an implementation for each below"))
        table.add(tomlkit.comment('("package.module:function" or a registered entry point),'))
        table.add(tomlkit.comment("or the model cannot call it:"))
        for signature in draft.functions:
            table.add(tomlkit.comment(f"  {signature}"))
        table.add("functions", tomlkit.array())
    for note in draft.notes:
        if not note.startswith("function tools"):
            table.add(tomlkit.comment(f"Not imported: {note}."))
    table.add(tomlkit.nl())
    return table


def _validate(text: str, path: Path, drafts: list[Draft]) -> None:
    """Load the would-be file like the app does; refuse anything it would reject."""
    from assistants_ui.profiles import load_config
    from assistants_ui.settings import load_settings

    directory = path.parent if path.parent.exists() else Path(".")
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        probe = Path(tmp) / path.name
        probe.write_text(text, encoding="utf-8")
        settings, _ = load_settings(assistants_file=probe)
        config = load_config(settings)
    for draft in drafts:
        problems = [p for p in config.problems if f"({draft.id!r})" in p.setting]
        if problems or config.profile(draft.id) is None:
            detail = "; ".join(p.message for p in problems) or "it did not load"
            raise MigrationError(f"The profile {draft.id!r} would not be valid: {detail}.")


def write_profiles(path: Path, drafts: list[Draft], *, force: bool = False) -> bool:
    """Append (or with `force`, replace) the profiles; True if the file was created."""
    created = not path.exists()
    try:
        doc = tomlkit.document() if created else tomlkit.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise MigrationError(f"{path}: cannot be read ({exc}).") from exc
    except tomlkit.exceptions.ParseError as exc:
        raise MigrationError(f"{path}: is not valid TOML ({exc}); fix it first.") from exc
    existing = doc.get("assistants")
    if existing is None:
        existing = tomlkit.aot()
        doc.append("assistants", existing)
    elif not isinstance(existing, AoT):
        raise MigrationError(f"{path}: `assistants` must be [[assistants]] tables.")
    ids = [str(t.get("id")) for t in existing]
    for draft in drafts:
        table = _table(draft)
        if draft.id in ids:
            if not force:
                raise MigrationError(
                    f"{path} already has an assistant with id {draft.id!r}: choose another "
                    "with --id, or replace it with --force."
                )
            existing[ids.index(draft.id)] = table
        else:
            existing.append(table)
            ids.append(draft.id)
    text = tomlkit.dumps(doc)
    _validate(text, path, drafts)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise MigrationError(f"{path}: cannot be written ({exc}).") from exc
    return created


# -- the command --------------------------------------------------------------------------------


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = sub.add_parser(
        "import-assistant",
        help="turn an Assistants API assistant into a Responses profile in assistants.toml",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmd.add_argument("file", nargs="?", type=Path, help="the assistant object(s), as JSON")
    cmd.add_argument("--from-api", metavar="ASSISTANT_ID", help="fetch it from the server")
    cmd.add_argument(
        "--out", type=Path, default=None, help="the file to add to (default $ASSISTANTS_FILE)"
    )
    cmd.add_argument("--id", dest="profile_id", help="the profile's id (default: from the name)")
    cmd.add_argument(
        "--connection",
        default=None,
        help="connection the profile uses (default: azure if AZURE_OPENAI_ENDPOINT is set, "
        "else openai)",
    )
    cmd.add_argument("--force", action="store_true", help="replace a profile with the same id")
    cmd.set_defaults(func=_command)


def _command(args: argparse.Namespace) -> int:
    from assistants_ui.settings import load_settings

    settings, _ = load_settings()
    out: Path = args.out or settings.assistants_file
    connection: str = args.connection or ("azure" if settings.azure_openai_endpoint else "openai")
    try:
        if (args.file is None) == (args.from_api is None):
            raise MigrationError("give either FILE.json or --from-api ASSISTANT_ID.")
        if args.from_api:
            assistants = [fetch_assistant(connection, args.from_api)]
        else:
            assistants = read_assistants(args.file)
        if args.profile_id and len(assistants) > 1:
            raise MigrationError(f"--id names one profile, but {len(assistants)} were read.")
        drafts = [
            draft_profile(a, profile_id=args.profile_id, connection=connection) for a in assistants
        ]
        created = write_profiles(out, drafts, force=args.force)
    except MigrationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for draft in drafts:
        model = draft.values["model"]
        print(f"Added {draft.id!r} ({draft.values['title']}, responses, {model}) to {out}.")
        for note in draft.notes:
            print(f"  note: {note}.")
    if created:
        print(
            f"{out} now defines the app's assistants: ASSISTANT_ID and OPENAI_ASSISTANTS are "
            "ignored while it exists."
        )
    return 0
