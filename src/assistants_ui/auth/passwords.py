"""Password accounts: where they come from, how they are checked, how they are stored.

Two sources, both in streamlit-authenticator's shape
(`credentials.usernames.<name> = {name, email, password}`):

- `.streamlit/secrets.toml` `[credentials]`, the original project's format;
- the credentials file (`CREDENTIALS_FILE`, default `DATA_DIR/credentials.yaml`),
  YAML as streamlit-authenticator's `config.yaml`, managed with
  `assistants-ui users add|passwd|remove|list`. It wins over secrets.toml
  for a name defined in both.

Passwords are bcrypt hashes (`$2b$...`, the same as streamlit-authenticator's
`Hasher`). A plain-text password found in either source is hashed in memory
as it is loaded and the text is dropped; the operator is told once (log and
`assistants-ui check`) to replace it.

`CredentialStore.verify` spends one bcrypt check whether or not the name
exists: unknown names are checked against a dummy hash made with the same
bcrypt cost as the stored hashes (the most common one), so timing does not
reveal which names are real.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bcrypt
import yaml

from assistants_ui.auth.cookies import password_fingerprint
from assistants_ui.auth.lockout import normalize_username
from assistants_ui.settings import Problem, Settings

__all__ = [
    "MAX_PASSWORD_BYTES",
    "MIN_PASSWORD_LENGTH",
    "CredentialStore",
    "CredentialsError",
    "CredentialsFile",
    "PasswordUser",
    "bcrypt_cost",
    "credentials_path",
    "dummy_hash",
    "hash_password",
    "is_bcrypt_hash",
    "password_problem",
    "username_problem",
]

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_BYTES = 72  # bcrypt's limit: longer passwords are refused, never cut
BCRYPT_ROUNDS = 12
_BCRYPT = re.compile(r"^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$")
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@+-]{0,63}")


class CredentialsError(Exception):
    """The credentials file cannot be used; one sentence naming the file."""


def credentials_path(settings: Settings) -> Path:
    """`CREDENTIALS_FILE`, or `DATA_DIR/credentials.yaml`."""
    return settings.credentials_file or settings.data_dir / "credentials.yaml"


def is_bcrypt_hash(value: str) -> bool:
    return _BCRYPT.fullmatch(value) is not None


def hash_password(password: str) -> str:
    """A bcrypt hash, as streamlit-authenticator's `Hasher.hash` makes."""
    data = password.encode()
    if len(data) > MAX_PASSWORD_BYTES:
        raise ValueError(f"a password can be at most {MAX_PASSWORD_BYTES} bytes")
    return bcrypt.hashpw(data, bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


def password_problem(password: str) -> str | None:
    """Why a new password is refused (None: acceptable)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        return f"a password can be at most {MAX_PASSWORD_BYTES} bytes (bcrypt's limit)"
    if password != password.strip():
        return "a password cannot start or end with a space"
    return None


def username_problem(username: str) -> str | None:
    """Why a new login name is refused (None: acceptable)."""
    if not _USERNAME.fullmatch(username):
        return (
            "a login name is 1-64 lower-case letters, digits or . _ @ + - "
            f"and starts with a letter or digit (got {username!r})"
        )
    return None


def _check(password: str, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), hashed.encode())
    except ValueError:  # over 72 bytes, or a malformed hash
        return False


def bcrypt_cost(hashed: str) -> int | None:
    """The cost factor of a bcrypt hash (`$2b$12$...` -> 12); None if not one."""
    return int(hashed[4:6]) if is_bcrypt_hash(hashed) else None


_dummies: dict[int, str] = {}


def dummy_hash(cost: int) -> str:
    """A hash of no one's password at this cost, made once per process and cost."""
    if cost not in _dummies:
        salt = bcrypt.gensalt(cost)
        _dummies[cost] = bcrypt.hashpw(b"not a password of anyone", salt).decode()
    return _dummies[cost]


@dataclass(frozen=True, slots=True)
class PasswordUser:
    """One account. `fingerprint` changes with the password (it goes in the cookie)."""

    username: str
    name: str
    email: str
    password_hash: str = field(repr=False)
    fingerprint: str = field(repr=False)
    source: str = ""


@dataclass(slots=True)
class _Parsed:
    users: dict[str, PasswordUser] = field(default_factory=dict)
    plain_text: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def _display_name(entry: Mapping[str, Any], username: str) -> str:
    name = entry.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    parts = [entry.get("first_name"), entry.get("last_name")]
    joined = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    return joined or username


def _parse_usernames(
    table: Mapping[str, Any] | None, source: str, *, key: str | None, where: str
) -> _Parsed:
    """`usernames` entries of one source. Raises CredentialsError for a wrong shape."""
    parsed = _Parsed()
    if table is None:
        return parsed
    if not isinstance(table, Mapping):
        raise CredentialsError(f"{where} must be a table of `usernames`")
    usernames = table.get("usernames", {})
    if usernames is None:
        return parsed
    if not isinstance(usernames, Mapping):
        raise CredentialsError(f"{where}: `usernames` must be a table (name -> details)")
    for raw_name, entry in usernames.items():
        label = f"{where} usernames.{raw_name}"
        if not isinstance(raw_name, str) or not normalize_username(raw_name):
            parsed.warnings.append(Problem(label, "is not a login name; ignored"))
            continue
        username = normalize_username(raw_name)
        if not isinstance(entry, Mapping):
            parsed.warnings.append(Problem(label, "must be a table with a password; ignored"))
            continue
        stored = entry.get("password")
        if not isinstance(stored, str) or not stored:
            parsed.warnings.append(Problem(label, "has no password; this user cannot log in"))
            continue
        if username in parsed.users:
            parsed.warnings.append(
                Problem(label, f"repeats the login name {username!r} (names ignore case); ignored")
            )
            continue
        fingerprint = password_fingerprint(key, username, stored) if key else ""
        if is_bcrypt_hash(stored):
            hashed = stored
        else:
            try:
                hashed = hash_password(stored)  # the plain text goes no further
            except ValueError:
                parsed.warnings.append(
                    Problem(label, "has a plain-text password over 72 bytes; ignored")
                )
                continue
            parsed.plain_text.append(username)
        email = entry.get("email")
        parsed.users[username] = PasswordUser(
            username=username,
            name=_display_name(entry, username),
            email=email.strip() if isinstance(email, str) else "",
            password_hash=hashed,
            fingerprint=fingerprint,
            source=source,
        )
    return parsed


@dataclass(slots=True)
class CredentialStore:
    """Every password account, loaded once per process (hashes only)."""

    users: dict[str, PasswordUser] = field(default_factory=dict)
    # Where plain-text passwords were found: source -> login names (never the text).
    plain_text: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def load(
        cls,
        *,
        secrets_credentials: Mapping[str, Any] | None,
        secrets_source: str,
        file: Path | None,
        key: str | None,
    ) -> CredentialStore:
        """Both sources; a corrupt file is a problem (and no password login at all)."""
        store = cls()
        sources: list[_Parsed] = []
        try:
            sources.append(
                _parse_usernames(
                    secrets_credentials,
                    secrets_source,
                    key=key,
                    where=f"[credentials] in {secrets_source}",
                )
            )
        except CredentialsError as exc:
            store.problems.append(Problem("[credentials]", str(exc)))
        if file is not None:
            try:
                data = CredentialsFile(file).read()
                sources.append(
                    _parse_usernames(
                        data.get("credentials"), str(file), key=key, where=f"{file}: credentials"
                    )
                )
            except CredentialsError as exc:
                store.problems.append(Problem("CREDENTIALS_FILE", str(exc)))
        for parsed in sources:  # later sources (the file) win
            store.users.update(parsed.users)
            store.warnings.extend(parsed.warnings)
            for username in parsed.plain_text:
                store.plain_text.setdefault(parsed.users[username].source, []).append(username)
        return store

    @property
    def configured(self) -> bool:
        return bool(self.users) or bool(self.problems)

    def plain_text_warnings(self) -> list[Problem]:
        """One line per source holding plain-text passwords, with what to do."""
        return [
            Problem(
                "plain-text passwords",
                f"{source} has plain-text passwords for {', '.join(sorted(names))}: they are "
                "hashed in memory at start-up and work, but replace each with a bcrypt hash "
                "from `assistants-ui users hash` (or move the users to the credentials file "
                "with `assistants-ui users add NAME`).",
            )
            for source, names in sorted(self.plain_text.items())
        ]

    def user(self, username: str) -> PasswordUser | None:
        return self.users.get(normalize_username(username))

    def dummy_cost(self) -> int:
        """The bcrypt cost unknown names are checked at: the stored hashes' most common."""
        costs = Counter(bcrypt_cost(u.password_hash) for u in self.users.values())
        costs.pop(None, None)
        if not costs:
            return BCRYPT_ROUNDS
        return max(costs, key=lambda cost: (costs[cost], cost or 0)) or BCRYPT_ROUNDS

    def verify(self, username: str, password: str) -> PasswordUser | None:
        """The account if the password is right; one bcrypt check of the same cost either way."""
        user = self.user(username)
        if user is None:
            _check(password, dummy_hash(self.dummy_cost()))
            return None
        return user if _check(password, user.password_hash) else None


class CredentialsFile:
    """The YAML credentials file: read strictly, written atomically (mode 0600).

    Every change re-reads the file, so a corrupt file is reported and left
    exactly as it was.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, Any]:
        """The whole document ({} when the file does not exist)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise CredentialsError(f"{self.path} cannot be read ({exc})") from exc
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            where = ""
            mark = getattr(exc, "problem_mark", None)
            if mark is not None:
                where = f" at line {mark.line + 1}, column {mark.column + 1}"
            raise CredentialsError(f"{self.path} is not valid YAML{where}") from exc
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise CredentialsError(
                f"{self.path} must be a YAML mapping with `credentials: usernames: ...`"
            )
        credentials = data.get("credentials")
        if credentials is not None and (
            not isinstance(credentials, dict)
            or not isinstance(credentials.get("usernames") or {}, dict)
        ):
            raise CredentialsError(
                f"{self.path}: `credentials` must hold `usernames:` (name -> details)"
            )
        for name, entry in ((credentials or {}).get("usernames") or {}).items():
            if not isinstance(entry, dict) or not isinstance(entry.get("password"), str):
                raise CredentialsError(
                    f"{self.path}: user {name!r} must be a mapping with a `password` string"
                )
        return data

    def users(self) -> dict[str, dict[str, Any]]:
        data = self.read()
        users: dict[str, dict[str, Any]] = (data.get("credentials") or {}).get("usernames") or {}
        return users

    def add(self, username: str, password: str, *, name: str = "", email: str = "") -> None:
        username = normalize_username(username)
        data = self.read()
        users = self._usernames(data)
        if username in {normalize_username(n) for n in users}:
            raise CredentialsError(
                f"{username!r} already exists in {self.path} "
                f"(change the password with `assistants-ui users passwd {username}`)"
            )
        entry: dict[str, Any] = {"email": email, "name": name or username}
        entry["password"] = hash_password(password)
        users[username] = entry
        self._write(data)

    def set_password(self, username: str, password: str) -> None:
        data = self.read()
        users = self._usernames(data)
        found = self._find(users, username)
        users[found]["password"] = hash_password(password)
        self._write(data)

    def remove(self, username: str) -> None:
        data = self.read()
        users = self._usernames(data)
        del users[self._find(users, username)]
        self._write(data)

    def _find(self, users: dict[str, Any], username: str) -> str:
        wanted = normalize_username(username)
        for name in users:
            if normalize_username(str(name)) == wanted:
                return str(name)
        raise CredentialsError(f"no user {wanted!r} in {self.path}")

    @staticmethod
    def _usernames(data: dict[str, Any]) -> dict[str, Any]:
        credentials = data.setdefault("credentials", {})
        if credentials.get("usernames") is None:
            credentials["usernames"] = {}
        users: dict[str, Any] = credentials["usernames"]
        return users

    def _write(self, data: dict[str, Any]) -> None:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".credentials-", suffix=".tmp", dir=folder)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(text)
                    out.flush()
                    os.fsync(out.fileno())
                os.chmod(tmp, 0o600)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise CredentialsError(f"{self.path} cannot be written ({exc})") from exc
