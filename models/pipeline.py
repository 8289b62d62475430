"""Several Core statements in one round trip to PostgreSQL (psycopg's pipeline mode).

A push's hot path needs a handful of small statements in a row (the sender's lock, the
de-duplication check, the sender's chat state; later the push's row and the COMMIT). Sent one
by one, each costs a round trip to the server and SQLAlchemy's per-statement work; in a
pipeline they go in one write and come back in one read. The server still runs them one
after another, each with its own snapshot, so a statement queued after a lock sees what the
lock's previous holder committed — the same results as one by one.

Elsewhere (SQLite, or a libpq without pipelines) the statements simply run one by one through
SQLAlchemy. Either way an error is raised as SQLAlchemy's own exception (`IntegrityError`,
`OperationalError`…), a lost connection invalidated, so callers handle both paths alike.

Rows come back as plain tuples in the statements' column order; values are the driver's own
(on PostgreSQL a `timestamptz` is an aware datetime in the session's zone: callers that keep
times convert them, see `utc`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache

from sqlalchemy import Connection
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import Executable


@dataclass(frozen=True)
class Step:
    statement: Executable
    params: dict


def run_together(session: Session, steps: Sequence[Step], *, commit: bool = False) -> list[list]:
    """The rows of each step, in order (an empty list for a statement returning none). With
    `commit`, the transaction is committed after the last step in the same round trip; the
    session's own commit then finds nothing left to do (flush the session first: ORM
    changes still pending would otherwise be written after this COMMIT)."""
    connection = session.connection()
    driver = _pipelined_driver(connection)
    if driver is None:
        rows = [_rows(connection.execute(step.statement, step.params)) for step in steps]
        if commit:
            session.commit()
        return rows
    return _in_pipeline(connection, driver, steps, commit)


def utc(value: datetime | None) -> datetime | None:
    """A time read by `run_together`, as an aware UTC datetime (SQLite's are naive UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _rows(result) -> list:
    return [tuple(row) for row in result] if result.returns_rows else []


def _pipelined_driver(connection: Connection):
    """The psycopg connection under `connection` when it can pipeline, else None."""
    if connection.dialect.name != "postgresql" or connection.dialect.driver != "psycopg":
        return None
    module = connection.dialect.loaded_dbapi
    return connection.connection.dbapi_connection if _pipelines_supported(module) else None


@cache
def _pipelines_supported(psycopg_module) -> bool:
    """Whether the libpq under psycopg has pipeline mode (libpq 14 and later)."""
    return bool(psycopg_module.Pipeline.is_supported())


def _in_pipeline(connection: Connection, driver, steps: Sequence[Step], commit: bool) -> list:
    compiled = [_compiled(step.statement, connection.dialect) for step in steps]
    statement = "; ".join(c.string for c in compiled)  # for an error's message only
    try:
        with driver.pipeline():
            cursors = []
            for sql, step in zip(compiled, steps, strict=True):
                cursor = driver.cursor()
                cursor.execute(sql.string, sql.construct_params(step.params))
                cursors.append(cursor)
            if commit:
                driver.commit()
        return [cursor.fetchall() if cursor.description else [] for cursor in cursors]
    except connection.dialect.loaded_dbapi.Error as error:
        raise _wrapped(connection, statement, error) from error


def _wrapped(connection: Connection, statement: str, error: Exception) -> BaseException:
    """SQLAlchemy's exception for a driver's error; a lost connection is invalidated, so that
    the pool does not hand it out again."""
    dialect = connection.dialect
    lost = dialect.is_disconnect(error, connection.connection.dbapi_connection, None)
    if lost:
        connection.invalidate(error)
    return DBAPIError.instance(
        statement,
        None,
        error,
        dialect.loaded_dbapi.Error,
        hide_parameters=True,
        connection_invalidated=lost,
        dialect=dialect,
    )


@lru_cache(maxsize=64)
def _compiled(statement: Executable, dialect: Dialect):
    """The statement's SQL for this dialect (the hot path's statements are built once per
    process, so each is compiled once per engine)."""
    return statement.compile(dialect=dialect)
