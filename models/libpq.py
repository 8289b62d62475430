"""A few statements in one round trip on a psycopg connection, through libpq's pipeline mode
directly (`models.pipeline` on PostgreSQL).

psycopg's own pipeline runs each statement through a cursor, a query conversion and a result
object: on a push's half dozen small statements that Python work cost as much as the round
trip it saved. Here the statements go straight to libpq (`send_query_params`), their values
dumped and their rows loaded by psycopg's own adapters (a `Transformer`, so values are the
same as a cursor's), and the whole batch is followed by one Sync.

The transaction is libpq's to know: a BEGIN goes first when the connection is idle (psycopg
would have sent one), a COMMIT last when asked. A failed statement aborts the rest up to the
Sync; the first error is raised as psycopg raises it, the transaction left failed for the
caller's rollback.
"""

from __future__ import annotations

import hashlib
import select
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer

BEGIN = b"BEGIN"
COMMIT = b"COMMIT"
_ERROR_STATES = (pq.ExecStatus.FATAL_ERROR, pq.ExecStatus.PIPELINE_ABORTED)


def plain_transactions(driver) -> bool:
    """Whether a bare BEGIN starts the connection's transactions as psycopg would (no
    isolation level, read-only or deferrable set on it, not in autocommit)."""
    return not driver.autocommit and (
        driver.isolation_level is None and driver.read_only is None and driver.deferrable is None
    )


class Kept:
    """What is kept of one driver connection for its life (by the caller): the names of the
    statements prepared on it, and psycopg's adapters for it (a `Transformer`, which caches
    the dumper and loader it found for each type)."""

    def __init__(self, driver) -> None:
        self.prepared: dict[bytes, bool] = {}
        self.transformer = Transformer(driver)


def exchange(
    driver, queries: Sequence[tuple[bytes, Sequence]], kept: Kept, *, commit: bool
) -> list[list[tuple]]:
    """The rows of each `(sql with $n placeholders, values)` query, in order (an empty list for
    a query returning none), all sent in one write and read in one Sync.

    Each query runs as a statement prepared on the server, prepared in the same round trip
    the first time (`kept.prepared`: the names prepared on this connection)."""
    pgconn = driver.pgconn
    transformer, prepared = kept.transformer, kept.prepared
    bound = [_bound(transformer, sql, values) for sql, values in queries]  # before any send
    kinds = []  # per result: ("begin" | "prepare" | "query" | "commit", name)
    pgconn.enter_pipeline_mode()
    try:
        if pgconn.transaction_status == pq.TransactionStatus.IDLE:
            pgconn.send_query_params(BEGIN, None)
            kinds.append(("begin", None))
        queued: set[bytes] = set()
        for query in bound:
            kinds += _send(pgconn, query, prepared, queued)
        if commit:
            pgconn.send_query_params(COMMIT, None)
            kinds.append(("commit", None))
        pgconn.pipeline_sync()
        results = _results(pgconn)
    finally:
        _leave_pipeline(pgconn)
    for (kind, name), result in zip(kinds, results, strict=True):
        if kind == "prepare" and result.status == pq.ExecStatus.COMMAND_OK:
            prepared[name] = True
    _raise_first_error(results, driver)
    answers = [result for (kind, _), result in zip(kinds, results, strict=True) if kind == "query"]
    return [_rows(transformer, result) for result in answers]


@dataclass(frozen=True)
class _Bound:
    """A query with its values dumped by psycopg's adapters, ready to send."""

    name: bytes  # of its prepared statement
    sql: bytes
    params: Sequence
    types: Sequence[int]
    formats: Sequence


def _bound(transformer: Transformer, sql: bytes, values: Sequence) -> _Bound:
    params = transformer.dump_sequence(values, [PyFormat.AUTO] * len(values))
    types, formats = tuple(transformer.types or ()), list(transformer.formats or ())
    return _Bound(_name(sql, types), sql, params, types, formats)


def _send(pgconn, query: _Bound, prepared: dict, queued: set) -> list[tuple[str, bytes]]:
    """Queue one query, and its preparation the first time (once in a batch that runs it
    twice); the kinds of results it adds."""
    kinds = []
    if query.name not in prepared and query.name not in queued:
        pgconn.send_prepare(query.name, query.sql, param_types=query.types)
        queued.add(query.name)
        kinds.append(("prepare", query.name))
    pgconn.send_query_prepared(query.name, query.params, param_formats=query.formats)
    return [*kinds, ("query", query.name)]


@lru_cache(maxsize=256)
def _name(sql: bytes, types: tuple[int, ...]) -> bytes:
    """The name of a statement prepared for these parameter types (a value given as NULL
    prepares another statement than the same value given as text)."""
    digest = hashlib.blake2b(sql + repr(types).encode(), digest_size=10).hexdigest()
    return f"bihuan_{digest}".encode()


def _results(pgconn) -> list:
    """Every result up to the Sync, flushing what is still unsent while waiting (libpq's
    socket is non-blocking under psycopg)."""
    poller = select.poll()
    socket = pgconn.socket
    results = []
    while True:
        unsent = pgconn.flush()
        if pgconn.is_busy():
            poller.register(socket, select.POLLIN | (select.POLLOUT if unsent else 0))
            poller.poll()
            pgconn.consume_input()
            continue
        result = pgconn.get_result()
        if result is None:  # the end of one query's results
            continue
        if result.status == pq.ExecStatus.PIPELINE_SYNC:
            return results
        results.append(result)


def _leave_pipeline(pgconn) -> None:
    try:
        pgconn.exit_pipeline_mode()
    except errors.OperationalError:  # results left unread: the connection is lost anyway
        if pgconn.status == pq.ConnStatus.OK:
            raise


def _raise_first_error(results: list, driver) -> None:
    for result in results:
        if result.status in _ERROR_STATES:
            if result.status == pq.ExecStatus.PIPELINE_ABORTED:
                raise errors.OperationalError("the pipeline was aborted")
            raise errors.error_from_result(result, encoding=driver.info.encoding)


def _rows(transformer: Transformer, result) -> list[tuple]:
    if result.status != pq.ExecStatus.TUPLES_OK:
        return []
    transformer.set_pgresult(result)
    return transformer.load_rows(0, result.ntuples, tuple)
