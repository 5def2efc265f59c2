"""A throwaway PostgreSQL server for tests and benchmarks: Debian's binaries,
`initdb` into a temporary directory, listening on 127.0.0.1 on a free port.

Binaries: $PG_BINDIR, else the newest /usr/lib/postgresql/*/bin, else
`scripts/ensure-system-deps postgresql` installs the Debian package and we
look again; if there are still none, `PgCluster.start` raises (never a
silent skip). PostgreSQL refuses to run as root, so as root the server runs
as the `postgres` user the Debian package creates.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

__all__ = ["PgCluster", "find_bindir"]

ROOT = Path(__file__).resolve().parents[2]


def _newest_bindir() -> Path | None:
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


def find_bindir(*, install: bool = True) -> Path:
    bindir = _newest_bindir()
    if bindir is None and install:
        subprocess.run([str(ROOT / "scripts" / "ensure-system-deps"), "postgresql"], check=True)
        bindir = _newest_bindir()
    if bindir is None or not (bindir / "initdb").exists():
        raise RuntimeError(
            "PostgreSQL server binaries not found (looked in $PG_BINDIR and "
            "/usr/lib/postgresql/*/bin); install them with "
            "`scripts/ensure-system-deps postgresql`."
        )
    return bindir


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PgCluster:
    """`start()`, then `create_database()` / `url()`, then `stop()`."""

    def __init__(self, bindir: Path | None = None) -> None:
        self.bindir = bindir or find_bindir()
        self.base = Path(tempfile.mkdtemp(prefix="assistants-ui-pg-"))
        self.data = self.base / "data"
        self.port = 0
        self._user: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                self._user = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise RuntimeError(
                    "running as root, but there is no `postgres` user to run the server as"
                ) from exc
            os.chown(self.base, self._user.pw_uid, self._user.pw_gid)

    def _run(self, *args: str) -> None:
        kwargs: dict[str, object] = {}
        if self._user is not None:
            kwargs = {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}
        result = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            cwd=self.base,
            check=False,
            **kwargs,  # type: ignore[call-overload]
        )
        if result.returncode != 0:
            log = self.base / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"{args[0]} failed ({result.returncode}):\n{result.stdout}{result.stderr}\n{tail}"
            )

    def start(self) -> PgCluster:
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip
        for attempt in range(3):  # a free port can be taken between probe and bind
            self.port = _free_port()
            options = f"-p {self.port} -h 127.0.0.1 -k {self.base} -F -c max_connections=200"
            try:
                self._run(
                    "pg_ctl", "-D", str(self.data), "-o", options,
                    "-l", str(self.base / "server.log"), "-w", "-t", "60", "start",
                )  # fmt: skip
                return self
            except RuntimeError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql.encode())

    def create_database(self, name: str) -> str:
        self._admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
