"""The few inbound pushes still being handled (or failed) are found through partial indexes
that a push recorded as done does not touch: each lookup's plan names its index, on SQLite
and on PostgreSQL alike (a status given as a bound value would leave the index unusable)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from psycopg.sql import Literal
from sqlalchemy import event

from bot.replay import replay_failed
from models import inbound
from models.pipeline import _numbered, _prepared

SENDER = "ix_inbound_messages_sender_processing"
PROCESSING = "ix_inbound_messages_processing"
FAILED = "ix_inbound_messages_failed"


def _plan(runtime, sql: str, params) -> str:
    """The plan of one statement, as text. PostgreSQL plans it as the hot path runs it: a
    prepared statement's generic plan (made before any value is known), told to avoid
    whole-table scans, so that an index it may use is the index it uses on a small table."""
    with runtime.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
            return " | ".join(str(row[-1]) for row in rows)
        numbered, names = _numbered(sql, set(params))
        connection.exec_driver_sql("SET enable_seqscan = off")
        connection.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        connection.exec_driver_sql(f"PREPARE probe AS {numbered.decode()}")
        driver = connection.connection.driver_connection
        arguments = ", ".join(Literal(params[name]).as_string(driver) for name in names)
        execute = f"EXPLAIN EXECUTE probe({arguments})" if names else "EXPLAIN EXECUTE probe"
        rows = connection.exec_driver_sql(execute).all()
        return " | ".join(row[0] for row in rows)


def _statement_of(runtime, call) -> tuple[str, object]:
    """The last statement `call(session)` sent through SQLAlchemy, with its parameters."""
    sent = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:
        sent.append((statement, parameters))

    event.listen(runtime.engine, "before_cursor_execute", capture)
    try:
        with runtime.sessions() as session:
            call(session)
    finally:
        event.remove(runtime.engine, "before_cursor_execute", capture)
    return sent[-1]


def test_whether_the_sender_has_a_push_in_hand_is_one_index_lookup(runtime):
    plan = _prepared(inbound._seen_select(), runtime.engine.dialect)
    values = plan.positional({"key": "k1", "openid": "o_ix"})
    if runtime.engine.dialect.name == "sqlite":
        params = tuple(values)  # `?` placeholders
    else:
        params = dict(zip((name for name, _ in plan.binds), values, strict=True))
    assert SENDER in _plan(runtime, plan.sql, params)


@pytest.mark.parametrize(
    ("call", "indexes"),
    [
        (lambda session: inbound.first_unfinished(session, "o_ix", 10), (SENDER,)),
        # Either index of the pushes in hand will do: both hold those rows alone.
        (lambda session: inbound.abandoned(session, datetime.now(UTC), 10), (PROCESSING, SENDER)),
    ],
    ids=["first_unfinished", "abandoned"],
)
def test_unfinished_pushes_are_found_by_their_partial_index(runtime, call, indexes):
    statement, params = _statement_of(runtime, call)
    plan = _plan(runtime, statement, params)
    assert any(index in plan for index in indexes), plan


def test_failed_pushes_are_found_by_their_partial_index(runtime):
    statement, params = _statement_of(runtime, lambda _session: replay_failed(runtime))
    assert FAILED in _plan(runtime, statement, params)
