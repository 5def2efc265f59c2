"""The `assistants-ui` command: run the app, check the configuration.

assistants-ui run [--port 8501] [-- extra streamlit options]
assistants-ui check [--offline]
assistants-ui db upgrade|status|backup FILE
assistants-ui users add|passwd|remove|list|hash
assistants-ui import-assistant FILE.json | --from-api ASSISTANT_ID [--out assistants.toml]
assistants-ui knowledge index [--assistant ID]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["SERVER_OPTIONS", "main", "max_upload_option"]

# What `assistants-ui run` adds to `streamlit run` (the same as .streamlit/config.toml).
SERVER_OPTIONS = (
    "--server.headless",
    "true",
    "--browser.gatherUsageStats",
    "false",
    # People see one sentence, never a traceback; details go to the log.
    "--client.showErrorDetails",
    "type",
    "--client.toolbarMode",
    "minimal",
    # No rerun on a source edit: after every script run Streamlit's watcher resolves
    # the path of every imported module (~2,000 with the SDK and SQLAlchemy) on the
    # server's event loop: 35% of the CPU with 50 people chatting (docs/benchmarks.md,
    # "Load"). `assistants-ui run -- --server.fileWatcherType auto` to develop.
    "--server.fileWatcherType",
    "none",
    # Every run repaints the whole conversation; a painted element of 1 kB or more (an
    # answer, its Copy button) is sent once, then by reference to the copy the browser
    # keeps (Streamlit's default: 10 kB). A question in a conversation of eight 3 kB
    # answers: 68.3 kB on the websocket before, 29.1 kB now (docs/benchmarks.md).
    "--global.minCachedMessageSize",
    "1000",
    # Answers cross the network deflated (permessage-deflate, when the browser offers
    # it, as every current one does; uvicorn keeps a 4 kB window, ~50 kB a session):
    # the long paragraph and the 200-row table at the model's speed 7.1x -> 2.4x and
    # 2.3x their size (docs/benchmarks.md). Why one might turn it off, and how:
    # docs/security.md, "The websocket".
    "--server.enableWebsocketCompression",
    "true",
    # No full garbage collection after every run: with fifty people it was the largest
    # single item of the profile (17% of the samples), and Python's own collector still
    # runs. Four alternating pairs at 50 people: a page run's CPU 0.019-0.020 s against
    # 0.023-0.028 s with it (docs/benchmarks.md, "2026-12-07: first words first").
    "--runner.postScriptGC",
    "false",
)


def max_upload_option() -> tuple[str, str]:
    """Streamlit's own ceiling for one upload, from the configuration: its largest
    `max_upload_mb` (of the assistants that accept files), or a voice recording's 25 MB
    where an assistant transcribes. Streamlit holds an upload's bytes before the page
    checks them: without it, anyone could send 200 MB (Streamlit's default) per file.
    Read once, at start: raising `max_upload_mb` above it needs a restart."""
    from assistants_ui.backends.transcription import MAX_AUDIO_BYTES, can_transcribe
    from assistants_ui.profiles import load_config
    from assistants_ui.settings import load_settings

    settings, problems = load_settings()
    config = load_config(settings, problems)
    sizes = [p.max_upload_mb for p in config.profiles if p.uploads_enabled]
    if any(can_transcribe(p, config.connection_for(p)) for p in config.profiles):
        sizes.append(MAX_AUDIO_BYTES / (1024 * 1024))
    return "--server.maxUploadSize", str(max(1, math.ceil(max(sizes, default=1))))


def _run(args: argparse.Namespace) -> int:
    # An st.App around web/entry.py: the same server, with security headers.
    entry = Path(__file__).parent / "web" / "server.py"
    port = str(args.port or os.environ.get("PORT") or 8501)
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(entry),
        "--server.port",
        port,
        "--server.address",
        args.address,
        *SERVER_OPTIONS,
        *max_upload_option(),
        *args.streamlit_args,
    ]
    host = "localhost" if args.address in ("0.0.0.0", "127.0.0.1") else args.address
    print(f"Assistants UI on http://{host}:{port}", flush=True)
    # Become Streamlit rather than wait for it: signals reach the server itself, so
    # `docker stop` (SIGTERM to the container's first process), a supervisor or Ctrl-C
    # stop it, and no orphaned server keeps the port.
    os.execv(sys.executable, cmd)


def _check(args: argparse.Namespace) -> int:
    from assistants_ui.checks import access_checks, auth_checks, database_checks, run_checks
    from assistants_ui.runtime import Runtime

    rt = Runtime.load()
    login = [lambda: auth_checks(rt.config.settings)]
    database = [lambda: database_checks(rt.config.settings)]
    access = [lambda: access_checks(rt.config)]
    checks = run_checks(rt.config, connect=not args.offline, extra=[*login, *database, *access])
    width = max(len(f"{c.area} {c.name}") for c in checks)
    for c in checks:
        mark = "ok  " if c.ok else "FAIL"
        print(f"{mark}  {(c.area + ' ' + c.name).ljust(width)}  {c.detail}")
    failed = [c for c in checks if not c.ok]
    print(f"\n{len(checks) - len(failed)} ok, {len(failed)} failed")
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistants-ui",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the web app")
    run.add_argument("--port", type=int, default=None, help="port (default $PORT or 8501)")
    run.add_argument("--address", default="0.0.0.0", help="address to listen on")
    run.add_argument(
        "streamlit_args",
        nargs=argparse.REMAINDER,
        help="options passed to `streamlit run` after --",
    )
    run.set_defaults(func=_run)
    check = sub.add_parser("check", help="check configuration and connectivity")
    check.add_argument("--offline", action="store_true", help="skip network checks")
    check.set_defaults(func=_check)
    from assistants_ui.storage.cli import add_parser as add_db_parser

    add_db_parser(sub)
    from assistants_ui.import_assistant import add_parser as add_import_parser

    add_import_parser(sub)
    from assistants_ui.auth.cli import add_parser as add_users_parser

    add_users_parser(sub)
    from assistants_ui.knowledge import add_parser as add_knowledge_parser

    add_knowledge_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command != "run":  # `run` starts Streamlit, whose process sets up its own
        from assistants_ui.logs import configure_logging
        from assistants_ui.settings import load_settings

        configure_logging(load_settings()[0])
    if getattr(args, "streamlit_args", None) and args.streamlit_args[0] == "--":
        args.streamlit_args = args.streamlit_args[1:]
    code: int = args.func(args)
    return code
