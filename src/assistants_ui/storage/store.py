"""The base of every store, and the one rule for a database that fails mid-call.

A store is one room of storage (users, conversations, messages, shares,
feedback, logins, the admin page's queries): a class holding the process's
`Database`, whose methods are each one short transaction. `guarded` wraps
such a method and `database_errors` a block of code that is not one: a
database failure (`SQLAlchemyError`) becomes one `StorageError("failed")`
naming DATABASE_URL (password masked), what the store was doing (its
`during`) and the driver's own first line, instead of a traceback.
`Store.racing` runs a read-or-insert once more when another process
inserted the same row first.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, Concatenate, ParamSpec, TypeVar

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from assistants_ui.core import observe
from assistants_ui.storage.codec import Record, from_row
from assistants_ui.storage.engine import Database
from assistants_ui.storage.errors import StorageError, describe

__all__ = ["Store", "database_errors", "guarded"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


class Store:
    """One room of storage on one database; safe to share between threads."""

    during: ClassVar[str] = ""  # what a failure interrupted, e.g. " while checking a login"

    def __init__(self, db: Database) -> None:
        self.db = db

    def by_key(self, record: type[Record], model: type[Any], key: object) -> Record | None:
        """The row of `model` whose primary key is `key`, as a `record` (None: none)."""
        with self.db.session() as s:
            row = s.get(model, key)
            return from_row(record, row) if row is not None else None

    def racing(self, work: Callable[[Session], _R]) -> _R:
        """`work` in one transaction, run once more if another process inserted the
        same row meanwhile (IntegrityError): the second run finds theirs."""
        try:
            with self.db.session() as s:
                return work(s)
        except IntegrityError:
            with self.db.session() as s:
                return work(s)


@contextmanager
def database_errors(db: Database, during: str = "") -> Iterator[None]:
    """Inside the block, a database failure becomes one StorageError sentence."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise StorageError(
            "failed", url=db.display_url, during=during, cause=describe(exc)
        ) from exc


_S = TypeVar("_S", bound=Store)


def guarded(method: Callable[Concatenate[_S, _P], _R]) -> Callable[Concatenate[_S, _P], _R]:
    """A store's method whose database failures are one StorageError (`database_errors`),
    timed for telemetry when it is set up (`core.observe.storage`)."""
    operation = method.__qualname__  # e.g. "MessageStore.save"

    @functools.wraps(method)
    def wrapper(self: _S, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        observer = observe.current()
        if observer is None:
            with database_errors(self.db, self.during):
                return method(self, *args, **kwargs)
        with observer.storage(operation), database_errors(self.db, self.during):
            return method(self, *args, **kwargs)

    return wrapper
