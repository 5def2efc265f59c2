"""`assistants-ui knowledge index`: the assistants' own documents, searched in every chat.

A profile's `knowledge = ["handbook/*.pdf", ...]` names files (globs, relative
to the folder of assistants.toml). This command makes the database hold
exactly those files' passages (and vectors, with the profile's
`embedding_model`): new or changed contents are indexed, unchanged ones kept
by their content hash, files gone are deleted with their passages. Run it
after changing the files; each assistant's conversations search them at once.

assistants-ui knowledge index              every assistant with `knowledge`
assistants-ui knowledge index --assistant handbook
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from assistants_ui.core.documents import Embedder
from assistants_ui.profiles import Config, Profile

__all__ = ["add_parser", "knowledge_files"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    knowledge = sub.add_parser("knowledge", help="assistants' knowledge files: index")
    knowledge_sub = knowledge.add_subparsers(dest="knowledge_command", required=True)
    index = knowledge_sub.add_parser(
        "index", help="index the `knowledge` files of the assistants (by content hash)"
    )
    index.add_argument("--assistant", help="only this assistant (its id)")
    index.set_defaults(func=_index)


def knowledge_files(config: Config, profile: Profile) -> tuple[list[Path], list[str]]:
    """The files a profile's `knowledge` globs name (sorted, each once), and a sentence
    for each glob that names none."""
    base = Path(config.source).parent if config.source not in ("default", "environment") else None
    base = base or Path.cwd()
    files: dict[Path, None] = {}
    problems: list[str] = []
    for pattern in profile.knowledge:
        path = Path(pattern).expanduser()
        matched = (
            sorted(Path(path.anchor).glob(str(path.relative_to(path.anchor))))
            if path.is_absolute()
            else sorted(base.glob(pattern))
        )
        matched = [m for m in matched if m.is_file()]
        if not matched:
            problems.append(f"{profile.id}: knowledge {pattern!r} names no file (in {base})")
        files.update(dict.fromkeys(m.resolve() for m in matched))
    return list(files), problems


def _embedder(config: Config, profile: Profile) -> Embedder | None:
    connection = config.connection_for(profile)
    if not profile.embedding_model or connection.type == "local":
        return None
    from assistants_ui.backends.embeddings import ConnectionEmbedder

    return ConnectionEmbedder(connection, profile.embedding_model)


def _index(args: argparse.Namespace) -> int:
    from assistants_ui.runtime import Runtime
    from assistants_ui.storage.engine import open_database
    from assistants_ui.storage.errors import StorageError
    from assistants_ui.storage.library import index_knowledge

    config = Runtime.load().config
    profiles = [p for p in config.profiles if p.knowledge or p.id == args.assistant]
    if args.assistant:
        profiles = [p for p in profiles if p.id == args.assistant]
        if not profiles:
            print(f"error: no assistant {args.assistant!r}", file=sys.stderr)
            return 1
    if not profiles:
        print("No assistant has `knowledge` files.")
        return 0
    try:
        db = open_database(config.settings)
    except StorageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    failed = 0
    try:
        for profile in profiles:
            files, problems = knowledge_files(config, profile)
            report = index_knowledge(
                db,
                profile.id,
                files,
                _embedder(config, profile),
                progress=lambda path: print(f"  indexed {path}"),
            )
            print(
                f"{profile.id}: {len(report.added)} indexed, {len(report.kept)} unchanged, "
                f"{len(report.removed)} removed, {len(report.failed)} failed"
            )
            for line in [*problems, *report.failed]:
                print(f"  error: {line}", file=sys.stderr)
            for note in report.notes:
                print(f"  note: {note}")
            failed += len(problems) + len(report.failed)
    finally:
        db.dispose()
    return 1 if failed else 0
