"""Several Core statements in one round trip to PostgreSQL (libpq's pipeline mode,
`models.libpq`), each a statement prepared once per connection.

A push's hot path needs a handful of small statements in a row (the sender's lock, the
de-duplication check, the sender's chat state; later its chat state writes, the push's row
and the COMMIT). Sent one by one, each costs a round trip to the server and SQLAlchemy's
per-statement work; in a pipeline they go in one write and come back in one read. The server
still runs them one after another, each with its own snapshot, so a statement queued after a
lock sees what the lock's previous holder committed — the same results as one by one. The
names prepared on a connection, and psycopg's adapters for it, are kept in the connection's
`info` (`libpq.Kept`; a new connection starts with none); psycopg's own preparing is off
(`bot.db`), since its ROLLBACK deallocates them.

On SQLite, which has no round trips to save, the statements run one by one on the driver's
cursor, compiled and their values converted by SQLAlchemy (`_Prepared`), without its
per-statement work; elsewhere (a libpq without pipelines) simply through SQLAlchemy. Either
way an error is raised as SQLAlchemy's own exception (`IntegrityError`, `OperationalError`…),
a lost connection invalidated, so callers handle both paths alike.

Rows come back as plain tuples in the statements' column order, each value converted by its
column's type as SQLAlchemy converts it (an aware UTC datetime for a `UTCDateTime`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache, lru_cache

from sqlalchemy import Connection
from sqlalchemy.engine.interfaces import Compiled, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.selectable import CompoundSelect, Select

from models import libpq

KEPT = "bihuan_libpq"  # the connection's info: what `models.libpq` keeps of it
UNKNOWN_STATEMENT = "26000"  # invalid_sql_statement_name: a prepared statement is gone


@dataclass(frozen=True)
class Step:
    statement: Executable
    params: dict


def run_together(session: Session, steps: Sequence[Step], *, commit: bool = False) -> list[list]:
    """The rows of each step, in order (an empty list for a statement returning none). With
    `commit`, the transaction is committed after the last step in the same round trip; the
    session's own commit then finds nothing left to do (flush the session first: ORM
    changes still pending would otherwise be written after this COMMIT)."""
    own = session.bind if isinstance(session.bind, Connection) else None
    connection = own if own is not None else session.connection()
    driver = _pipelined_driver(connection)
    if driver is not None:
        rows = _in_pipeline(connection, driver, steps, commit)
        if commit and own is not None:
            own.commit()  # ends the connection's transaction, already committed on the server
        return rows
    if connection.dialect.name == "sqlite":
        rows = _on_sqlite(connection, steps)
    else:
        rows = [_rows(connection.execute(step.statement, step.params)) for step in steps]
    if commit:
        (own or session).commit()
    return rows


def _rows(result) -> list:
    return [tuple(row) for row in result] if result.returns_rows else []


def _pipelined_driver(connection: Connection):
    """The psycopg connection under `connection` when it can pipeline, else None."""
    if connection.dialect.name != "postgresql" or connection.dialect.driver != "psycopg":
        return None
    driver = connection.connection.dbapi_connection
    supported = _pipelines_supported(connection.dialect.loaded_dbapi)
    return driver if supported and libpq.plain_transactions(driver) else None


@cache
def _pipelines_supported(psycopg_module) -> bool:
    """Whether the libpq under psycopg has pipeline mode (libpq 14 and later)."""
    return bool(psycopg_module.Pipeline.is_supported())


def _in_pipeline(connection: Connection, driver, steps: Sequence[Step], commit: bool) -> list:
    prepared = [_prepared(step.statement, connection.dialect) for step in steps]
    queries = [
        (plan.numbered, plan.in_order(step.params))
        for plan, step in zip(prepared, steps, strict=True)
    ]
    info = connection.connection.info
    kept = info.get(KEPT) or info.setdefault(KEPT, libpq.Kept(driver))
    try:
        results = libpq.exchange(driver, queries, kept, commit=commit)
    except connection.dialect.loaded_dbapi.Error as error:
        # A statement we prepared is gone (deallocated behind our back): what we know of
        # this connection is wrong, so it is dropped like a lost one (the push is retried
        # on another; the error is transient).
        unknown = getattr(error, "sqlstate", None) == UNKNOWN_STATEMENT
        statement = "; ".join(plan.sql for plan in prepared)  # for the error's message only
        raise _wrapped(connection, statement, error, drop=unknown) from error
    return [plan.converted(rows) for plan, rows in zip(prepared, results, strict=True)]


@dataclass(frozen=True)
class _Prepared:
    """A statement compiled for a dialect, with SQLAlchemy's own type processors for its
    parameters and (a SELECT's) columns: values are stored and read exactly as through
    SQLAlchemy, whichever path runs the statement."""

    sql: str
    compiled: Compiled
    binds: tuple[tuple[str, Callable | None], ...]  # in the SQL's order (SQLite's `?`s)
    results: tuple[Callable | None, ...] | None  # None: rows as the driver gives them
    names: frozenset[str]  # of `binds` (kept: asked at every run)
    numbered: bytes = b""  # PostgreSQL: the SQL with libpq's $1, $2… placeholders
    numbered_from: tuple[int, ...] = ()  # for each $n, its parameter's place in `binds`

    def positional(self, params: dict) -> list:
        """The parameters in order (SQLite's `?`). When `params` names them all, straight
        from it; otherwise SQLAlchemy fills in the values the statement carries itself."""
        given = params if params.keys() >= self.names else self.compiled.construct_params(params)
        return [_value(process, given[name]) for name, process in self.binds]

    def in_order(self, params: dict) -> list:
        """The parameters of `numbered`, $1 first."""
        values = self.positional(params)
        return [values[place] for place in self.numbered_from]

    def rows(self, cursor) -> list:
        if cursor.description is None:
            return []
        return self.converted(cursor.fetchall())

    def converted(self, rows: list) -> list:
        if self.results is None:
            return [tuple(row) for row in rows]
        return [_converted(self.results, row) for row in rows]


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
    plan = _Prepared(compiled.string, compiled, binds, results, frozenset(names))
    if dialect.name != "postgresql":
        return plan
    places = {name: place for place, (name, _) in enumerate(binds)}
    numbered, order = _numbered(compiled.string, set(places))
    return replace(plan, numbered=numbered, numbered_from=tuple(places[n] for n in order))


_PYFORMAT = re.compile(r"%\((\w+)\)s|%%")


def _numbered(sql: str, names: set[str]) -> tuple[bytes, tuple[str, ...]]:
    """psycopg's `%(name)s` placeholders as libpq's `$n` (a name used twice keeps its
    number), `%%` as `%`; and the name of each number."""
    order: dict[str, int] = {}

    def number(match: re.Match) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        if name not in names:
            raise ValueError(f"unknown parameter {name!r} in {sql!r}")
        return f"${order.setdefault(name, len(order) + 1)}"

    return _PYFORMAT.sub(number, sql).encode(), tuple(order)


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


def _wrapped(
    connection: Connection, statement: str, error: Exception, drop: bool = False
) -> BaseException:
    """SQLAlchemy's exception for a driver's error; a lost connection (or one to `drop`) is
    invalidated, so that the pool does not hand it out again."""
    dialect = connection.dialect
    lost = drop or dialect.is_disconnect(error, connection.connection.dbapi_connection, None)
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
