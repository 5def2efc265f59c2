"""The base of every store, and the one rule for a database that fails mid-call.

A store is one room of storage (users, conversations, messages, shares,
feedback, logins, the admin page's queries): a class holding the process's
`Database`, whose methods are each one short transaction. `guarded` wraps
such a method and `database_errors` a block of code that is not one: a
database failure (`SQLAlchemyError`) becomes one `StorageError("failed")`
naming DATABASE_URL (password masked), what the store was doing (its
`during`) and the driver's own first line, instead of a traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ClassVar, Concatenate, ParamSpec, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from assistants_ui.storage.engine import Database
from assistants_ui.storage.errors import StorageError, describe

__all__ = ["Store", "database_errors", "guarded"]


class Store:
    """One room of storage on one database; safe to share between threads."""

    during: ClassVar[str] = ""  # what a failure interrupted, e.g. " while checking a login"

    def __init__(self, db: Database) -> None:
        self.db = db


@contextmanager
def database_errors(db: Database, during: str = "") -> Iterator[None]:
    """Inside the block, a database failure becomes one StorageError sentence."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise StorageError(
            f"The history database (DATABASE_URL {db.display_url!r}) failed{during}: "
            f"{describe(exc)}."
        ) from exc


_P = ParamSpec("_P")
_R = TypeVar("_R")
_S = TypeVar("_S", bound=Store)


def guarded(method: Callable[Concatenate[_S, _P], _R]) -> Callable[Concatenate[_S, _P], _R]:
    """A store's method whose database failures are one StorageError (`database_errors`)."""

    @functools.wraps(method)
    def wrapper(self: _S, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with database_errors(self.db, self.during):
            return method(self, *args, **kwargs)

    return wrapper
