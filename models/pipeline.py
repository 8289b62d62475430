"""Several Core statements in one round trip to PostgreSQL (psycopg's pipeline mode).

A push's hot path needs a handful of small statements in a row (the sender's lock, the
de-duplication check, the sender's chat state; later its chat state writes, the push's row
and the COMMIT). Sent one by one, each costs a round trip to the server and SQLAlchemy's
per-statement work; in a pipeline they go in one write and come back in one read. The server
still runs them one after another, each with its own snapshot, so a statement queued after a
lock sees what the lock's previous holder committed — the same results as one by one.

On SQLite, which has no round trips to save, the statements run one by one on the driver's
cursor, compiled and their values converted by SQLAlchemy (`_Prepared`), without its
per-statement work; elsewhere (a libpq without pipelines) simply through SQLAlchemy. Either
way an error is raised as SQLAlchemy's own exception (`IntegrityError`, `OperationalError`…),
a lost connection invalidated, so callers handle both paths alike.

Rows come back as plain tuples in the statements' column order, each value converted by its
column's type as SQLAlchemy converts it (an aware UTC datetime for a `UTCDateTime`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from sqlalchemy import Connection
from sqlalchemy.engine.interfaces import Compiled, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.selectable import CompoundSelect, Select


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
    if driver is not None:
        return _in_pipeline(connection, driver, steps, commit)
    if connection.dialect.name == "sqlite":
        rows = _on_sqlite(connection, steps)
    else:
        rows = [_rows(connection.execute(step.statement, step.params)) for step in steps]
    if commit:
        session.commit()
    return rows


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
    prepared = [_prepared(step.statement, connection.dialect) for step in steps]
    statement = "; ".join(p.sql for p in prepared)  # for an error's message only
    try:
        with driver.pipeline():
            cursors = []
            for plan, step in zip(prepared, steps, strict=True):
                cursor = driver.cursor()
                cursor.execute(plan.sql, plan.values(step.params))
                cursors.append(cursor)
            if commit:
                driver.commit()
        return [plan.rows(cursor) for plan, cursor in zip(prepared, cursors, strict=True)]
    except connection.dialect.loaded_dbapi.Error as error:
        raise _wrapped(connection, statement, error) from error


@dataclass(frozen=True)
class _Prepared:
    """A statement compiled for a dialect, with SQLAlchemy's own type processors for its
    parameters and (a SELECT's) columns: values are stored and read exactly as through
    SQLAlchemy, whichever path runs the statement."""

    sql: str
    compiled: Compiled
    binds: tuple[tuple[str, Callable | None], ...]  # in the SQL's order (SQLite's `?`s)
    results: tuple[Callable | None, ...] | None  # None: rows as the driver gives them

    def values(self, params: dict) -> dict:
        """The parameters by name (psycopg's `%(name)s`; each name once)."""
        return dict(zip((name for name, _ in self.binds), self.positional(params), strict=True))

    def positional(self, params: dict) -> list:
        """The parameters in order (SQLite's `?`)."""
        given = self.compiled.construct_params(params)
        return [_value(bind, given[name]) for name, bind in self.binds]

    def rows(self, cursor) -> list:
        if cursor.description is None:
            return []
        if self.results is None:
            return [tuple(row) for row in cursor.fetchall()]
        return [_converted(self.results, row) for row in cursor.fetchall()]


def _value(processor: Callable | None, value):
    return value if processor is None else processor(value)


def _converted(processors: tuple[Callable | None, ...], row) -> tuple:
    return tuple(_value(p, value) for p, value in zip(processors, row, strict=True))


@lru_cache(maxsize=64)
def _prepared(statement: Executable, dialect: Dialect) -> _Prepared:
    compiled = statement.compile(dialect=dialect)
    by_name = {name: bind for bind, name in compiled.bind_names.items()}
    names = compiled.positiontup or list(dict.fromkeys(compiled.bind_names.values()))
    binds = tuple(
        (name, by_name[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names
    )
    results = None
    if isinstance(statement, Select | CompoundSelect):
        results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.selected_columns
        )
    return _Prepared(compiled.string, compiled, binds, results)


def _on_sqlite(connection: Connection, steps: Sequence[Step]) -> list:
    """The steps one by one on SQLite's own cursor: SQLite has no round trips to save, but
    SQLAlchemy's work per statement is most of a small statement's cost there."""
    sqlite = connection.connection.dbapi_connection
    results = []
    for step in steps:
        prepared = _prepared(step.statement, connection.dialect)
        cursor = sqlite.cursor()
        try:
            cursor.execute(prepared.sql, prepared.positional(step.params))
            results.append(prepared.rows(cursor))
        except connection.dialect.loaded_dbapi.Error as error:
            raise _wrapped(connection, prepared.sql, error) from error
        finally:
            cursor.close()
    return results


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
