"""Storage fixtures: every test runs on SQLite and on a real PostgreSQL.

The PostgreSQL server is the session's (tests/conftest.py: initdb into a
temporary directory, 127.0.0.1, a free port, stopped at the end); each
test gets a fresh database in it. Missing server binaries are installed
through scripts/ensure-system-deps or the session fails. Locally,
STORAGE_TESTS_SQLITE_ONLY=1 skips the PostgreSQL half (never under CI).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pgcluster import PgCluster

from assistants_ui.storage import Database, Repository, UserInfo, open_url


@pytest.fixture(scope="session")
def pg_cluster(pg_cluster: PgCluster) -> PgCluster:
    """The session's server (tests/conftest.py), unless the PostgreSQL half is skipped."""
    if os.environ.get("STORAGE_TESTS_SQLITE_ONLY") == "1" and not os.environ.get("CI"):
        pytest.skip("STORAGE_TESTS_SQLITE_ONLY=1: PostgreSQL half not run")
    return pg_cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to a new, empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'history.db'}"
        return
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = cluster.create_database(name)
    try:
        yield url
    finally:
        cluster.drop_database(name)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_url(db_url)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def repo(db: Database) -> Repository:
    return Repository(db)


@pytest.fixture
def alice(repo: Repository) -> UserInfo:
    return repo.ensure_user(auth_provider="password", subject="alice", display_name="Alice")


@pytest.fixture
def bob(repo: Repository) -> UserInfo:
    return repo.ensure_user(auth_provider="password", subject="bob", display_name="Bob")
