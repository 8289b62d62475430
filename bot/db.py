"""The database engine and sessions. One transaction per inbound message or job.

Every process bounds what the database may cost it (PRODUCT §10, WECHAT.md's 5 s): a connect
timeout, a pool timeout, and on PostgreSQL a statement and a lock timeout per session — short
for the web process (`database.statement_timeout_ms`, `lock_timeout_ms`), longer for the
worker, cron and command line (`background_…`). A unit of work can also carry a deadline
(`deadline`): once it has passed, the next statement raises `DeadlineExceeded` instead of
starting. SQL parameters never reach a log or an exception message (`hide_parameters`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import Settings

READ_ONLY_OPTION = "bihuan_read_only"
# Execution options of a session that only reads (`session.connection(execution_options=…)`).
READ_ONLY = {READ_ONLY_OPTION: True}

PROCESSES = ("web", "background")
IDLE_IN_TRANSACTION_MS = 60000

_deadline: ContextVar[float | None] = ContextVar("bihuan_db_deadline", default=None)


class DeadlineExceeded(Exception):
    """The time given to this unit of work is up; the statement was not started."""


def is_transient(error: BaseException) -> bool:
    """A database that is down, slow or locked (or our own deadline), not a bug: the same
    work may succeed later."""
    if isinstance(error, DeadlineExceeded | PoolTimeout | OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Statements run inside this block must start within `seconds` (monotonic clock)."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def seconds_left() -> float | None:
    """Seconds until the current deadline (None: no deadline)."""
    until = _deadline.get()
    return None if until is None else until - time.monotonic()


def make_engine(settings: Settings, process: str = "web") -> Engine:
    if process not in PROCESSES:
        raise ValueError(f"unknown process kind {process!r}")
    url = settings.database_url
    if url.startswith("sqlite"):
        engine = _sqlite_engine(url, settings, process)
    else:
        engine = _server_engine(url, settings, process)
    event.listen(engine, "before_cursor_execute", _check_deadline)
    return engine


def _timeouts(settings: Settings, process: str) -> tuple[int, int]:
    """(statement, lock) timeouts in milliseconds for this kind of process."""
    config = settings.database
    if process == "web":
        return config.statement_timeout_ms, config.lock_timeout_ms
    return config.background_statement_timeout_ms, config.background_lock_timeout_ms


def _server_engine(url: str, settings: Settings, process: str) -> Engine:
    config = settings.database
    statement_ms, lock_ms = _timeouts(settings, process)
    options = (
        f"-c statement_timeout={statement_ms} -c lock_timeout={lock_ms} "
        f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}"
    )
    return create_engine(
        url,
        echo=config.echo,
        hide_parameters=True,
        pool_pre_ping=process != "web",  # the web answers a dead connection by its fallbacks
        pool_size=config.pool_size,
        pool_use_lifo=True,  # the connection used last: its statements already prepared
        max_overflow=max(2, config.pool_size // 2),
        pool_timeout=config.pool_timeout_seconds,
        connect_args={
            "connect_timeout": config.connect_timeout_seconds,
            "options": options,
            # psycopg's own preparing is off: its ROLLBACK deallocates every statement prepared
            # on the connection, `models.pipeline`'s included; the hot path prepares its own.
            "prepare_threshold": None,
        },
    )


def _sqlite_engine(url: str, settings: Settings, process: str) -> Engine:
    path = url.removeprefix("sqlite:///")
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    statement_ms, _ = _timeouts(settings, process)
    engine = create_engine(
        url,
        echo=settings.database.echo,
        hide_parameters=True,
        # The connection used last comes back first: its page cache is still valid (with
        # connections taken in turn, each would find the file changed by the other and
        # read its pages again).
        pool_use_lifo=True,
        connect_args={"timeout": statement_ms / 1000, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        # Let SQLAlchemy issue BEGIN itself so that BEGIN IMMEDIATE serialises writers.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # full: every commit reaches the disk before the push is answered (the default);
        # normal: a commit survives a crash of the process but not of the machine.
        cursor.execute(f"PRAGMA synchronous={settings.database.sqlite_synchronous.upper()}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={statement_ms}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        # A read-only look (READ_ONLY) takes no write lock: in WAL mode it never waits for
        # a writer, even one holding the lock in the same thread.
        # Straight to the driver: BEGIN needs none of the engine's statement machinery.
        deferred = connection.get_execution_options().get(READ_ONLY_OPTION)
        connection.connection.driver_connection.execute("BEGIN" if deferred else "BEGIN IMMEDIATE")

    return engine


def _check_deadline(_connection, _cursor, _statement, _parameters, _context, _many) -> None:
    check_deadline()


def check_deadline() -> None:
    """DeadlineExceeded once the current deadline has passed (statements sent past the
    engine's own check, `models.pipeline`, call this first)."""
    left = seconds_left()
    if left is not None and left <= 0:
        raise DeadlineExceeded("the time for this unit of work is up")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


class KeptConnections:
    """Connections a process keeps checked out between its units of work on one connection
    (`connected_transaction`, a push handled at once): a push then pays neither the pool's
    checkout and return nor a new SQLAlchemy Connection, a tenth of its work on SQLite.

    At most `keep` wait here; more go back to the pool, and the pool keeps the rest for
    everything else. A connection whose unit failed is never kept (it goes back to the pool,
    which rolls it back or drops it when lost). Taking and giving back are a list's pop and
    append, safe between threads. `close` (the runtime's) returns them all to the pool."""

    def __init__(self, engine: Engine, keep: int) -> None:
        self.engine, self._keep = engine, keep
        self._idle: list[Connection] = []

    def take(self) -> Connection:
        try:
            return self._idle.pop()
        except IndexError:
            return self.engine.connect()

    def give_back(self, connection: Connection) -> None:
        usable = not connection.closed and not connection.invalidated
        if usable and not connection.in_transaction() and len(self._idle) < self._keep:
            self._idle.append(connection)
        else:
            connection.close()

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


@contextmanager
def connected_transaction(
    connections: KeptConnections, factory: sessionmaker[Session]
) -> Iterator[Session]:
    """One unit of work on a connection taken for it: commit on success, roll back on any
    error. The session is bound to that connection and keeps no transaction of its own until
    the ORM is used, so a unit of Core statements (`models.pipeline`) pays for none of the
    ORM's bookkeeping; what it did use of the ORM is flushed before the COMMIT."""
    connection = connections.take()
    try:
        outer = connection.begin()
        session = factory(bind=connection, join_transaction_mode="rollback_only")
        try:
            yield session
            session.flush()
            if outer.is_active:  # not committed already by the unit's last round trip
                outer.commit()
        finally:
            session.close()
    except BaseException:
        connection.close()  # rolled back, and back to the pool (which drops it when lost)
        raise
    connections.give_back(connection)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error. (A unit that committed
    itself, as a push's last round trip does, and changed nothing since, has nothing left to
    commit.)"""
    session = factory()
    try:
        yield session
        if session.in_transaction():  # any change since, even to a loaded row, begins one
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
