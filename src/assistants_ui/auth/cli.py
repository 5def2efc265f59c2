"""`assistants-ui users ...`: password accounts in the credentials file.

assistants-ui users add NAME [--name "Full Name"] [--email E] [--password-stdin]
assistants-ui users passwd NAME [--password-stdin]
assistants-ui users remove NAME
assistants-ui users list
assistants-ui users hash [--password-stdin]     a bcrypt hash to paste into secrets.toml

The file is `CREDENTIALS_FILE` (default `DATA_DIR/credentials.yaml`), in
streamlit-authenticator's YAML format, written atomically with mode 0600.
Passwords are asked twice on the terminal, or read from one line of standard
input with --password-stdin (for scripts); they are never echoed or logged.
A corrupt file is one error and stays untouched.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistants_ui.auth.passwords import CredentialsFile
    from assistants_ui.settings import Settings

__all__ = ["add_parser"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = sub.add_parser("users", help="password accounts: add, passwd, remove, list, hash")
    users_sub = users.add_subparsers(dest="users_command", required=True)

    add = users_sub.add_parser("add", help="add a user to the credentials file")
    add.add_argument("username", help="login name (lower-case letters, digits, . _ @ + -)")
    add.add_argument("--name", default="", help="full name shown in the app")
    add.add_argument("--email", default="", help="e-mail address")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.set_defaults(func=_add)

    passwd = users_sub.add_parser("passwd", help="change a user's password")
    passwd.add_argument("username")
    passwd.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    passwd.set_defaults(func=_passwd)

    remove = users_sub.add_parser("remove", help="remove a user from the credentials file")
    remove.add_argument("username")
    remove.set_defaults(func=_remove)

    listing = users_sub.add_parser("list", help="list the users who can log in with a password")
    listing.set_defaults(func=_list)

    hashing = users_sub.add_parser(
        "hash", help="print a bcrypt hash of a password (for [credentials] in secrets.toml)"
    )
    hashing.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    hashing.set_defaults(func=_hash)


class _Refused(Exception):
    pass


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def _read_password(from_stdin: bool) -> str:
    from assistants_ui.auth.passwords import password_problem

    if from_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        password = password[:-1] if password.endswith("\r") else password
    else:
        if not sys.stdin.isatty():
            raise _Refused("no terminal to ask for the password: use --password-stdin")
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            raise _Refused("the two passwords differ; nothing was changed")
    problem = password_problem(password)
    if problem:
        raise _Refused(f"{problem}; nothing was changed")
    return password


def _file() -> tuple[Settings, CredentialsFile]:
    from assistants_ui.auth.passwords import CredentialsFile, credentials_path
    from assistants_ui.settings import load_settings

    settings, _ = load_settings()
    return settings, CredentialsFile(credentials_path(settings))


def _add(args: argparse.Namespace) -> int:
    from assistants_ui.auth.lockout import normalize_username
    from assistants_ui.auth.passwords import CredentialsError, username_problem

    settings, file = _file()
    username = normalize_username(args.username)
    problem = username_problem(username)
    if problem:
        return _fail(problem)
    try:
        if username in {normalize_username(n) for n in file.users()}:
            return _fail(
                f"{username!r} already exists in {file.path} "
                f"(change the password with `assistants-ui users passwd {username}`)"
            )
        password = _read_password(args.password_stdin)
        file.add(username, password, name=args.name.strip(), email=args.email.strip())
    except (CredentialsError, _Refused) as exc:
        return _fail(str(exc))
    print(f"added {username} to {file.path}")
    _hints(settings)
    return 0


def _passwd(args: argparse.Namespace) -> int:
    from assistants_ui.auth.lockout import normalize_username
    from assistants_ui.auth.passwords import CredentialsError

    _, file = _file()
    username = normalize_username(args.username)
    try:
        if username not in {normalize_username(n) for n in file.users()}:
            return _fail(f"no user {username!r} in {file.path}{_secrets_hint(username)}")
        password = _read_password(args.password_stdin)
        file.set_password(username, password)
    except (CredentialsError, _Refused) as exc:
        return _fail(str(exc))
    print(f"changed the password of {username} in {file.path} (their open sessions end)")
    return 0


def _remove(args: argparse.Namespace) -> int:
    from assistants_ui.auth.lockout import normalize_username
    from assistants_ui.auth.passwords import CredentialsError

    _, file = _file()
    username = normalize_username(args.username)
    try:
        if username not in {normalize_username(n) for n in file.users()}:
            return _fail(f"no user {username!r} in {file.path}{_secrets_hint(username)}")
        file.remove(username)
    except CredentialsError as exc:
        return _fail(str(exc))
    print(f"removed {username} from {file.path} (their history stays in the database)")
    return 0


def _list(args: argparse.Namespace) -> int:
    from assistants_ui.auth.lockout import normalize_username
    from assistants_ui.auth.passwords import CredentialsError

    _, file = _file()
    try:
        users = file.users()
    except CredentialsError as exc:
        return _fail(str(exc))
    rows = [
        (normalize_username(str(n)), str(e.get("name") or ""), str(e.get("email") or ""), "file")
        for n, e in users.items()
    ]
    secrets = _secrets_users()
    known = {r[0] for r in rows}
    rows += [r for r in secrets if r[0] not in known]
    if not rows:
        print(f"no users (add one with `assistants-ui users add NAME`; file: {file.path})")
        return 0
    header = ("login", "name", "email")
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(3)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + "  from")
    for row in sorted(rows):
        source = str(file.path) if row[3] == "file" else row[3]
        cells = "  ".join(v.ljust(w) for v, w in zip(row[:3], widths, strict=True))
        print(f"{cells}  {source}")
    return 0


def _hash(args: argparse.Namespace) -> int:
    from assistants_ui.auth.passwords import hash_password

    try:
        password = _read_password(args.password_stdin)
    except _Refused as exc:
        return _fail(str(exc))
    print(hash_password(password))
    return 0


def _secrets_users() -> list[tuple[str, str, str, str]]:
    from assistants_ui.auth.lockout import normalize_username
    from assistants_ui.auth.secrets_toml import read_secrets_tables

    tables = read_secrets_tables()
    usernames = (tables.credentials or {}).get("usernames")
    if not isinstance(usernames, dict):
        return []
    source = tables.source("credentials")
    return [
        (normalize_username(str(n)), str(e.get("name") or ""), str(e.get("email") or ""), source)
        for n, e in usernames.items()
        if isinstance(e, dict)
    ]


def _secrets_hint(username: str) -> str:
    if any(row[0] == username for row in _secrets_users()):
        return (
            f"; {username!r} is defined in [credentials] of .streamlit/secrets.toml: edit it "
            f"there (`assistants-ui users hash` makes a hash), or `assistants-ui users add "
            f"{username}` to the file, which then takes precedence"
        )
    return ""


def _hints(settings: Settings) -> None:
    from assistants_ui.auth.cookies import parse_cookie_table, suggest_key
    from assistants_ui.auth.secrets_toml import read_secrets_tables

    tables = read_secrets_tables()
    cookie, _ = parse_cookie_table(tables.cookie, tables.source("cookie"))
    if cookie is None:
        print(
            "\nnote: password login also needs a cookie key. Add to .streamlit/secrets.toml:\n\n"
            "[cookie]\n"
            'name = "assistants_ui_auth"\n'
            f'key = "{suggest_key()}"\n'
            "expiry_days = 30\n",
            file=sys.stderr,
        )
    if not settings.authentication_required:
        print(
            "note: AUTHENTICATION_REQUIRED is not true, so the app does not ask for a login "
            "yet (set AUTHENTICATION_REQUIRED=true in .env).",
            file=sys.stderr,
        )
