"""`models.pipeline`: several statements in one round trip on PostgreSQL, one by one on
SQLite, with the same results, errors and transaction either way."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.exc import IntegrityError

from bot.db import KeptConnections, connected_transaction, is_transient, transaction
from models import chat_state, inbound
from models.base import UTCDateTime
from models.inbound import InboundMessage
from models.pipeline import Step, run_together


def _push(key: str, openid: str, now: datetime, status: str = "done") -> dict:
    return {
        "dedupe_key": key,
        "openid": openid,
        "msg_type": "text",
        "raw_xml": "<xml/>",
        "status": status,
        "reply": "好的",
        "error": "",
        "received_at": now,
        "finished_at": now,
        "lease_until": now,
        "late": False,
    }


def _keys(runtime) -> list[str]:
    with runtime.sessions() as session:
        return list(session.scalars(select(InboundMessage.dedupe_key).order_by("id")))


def test_each_step_gives_its_own_rows_in_order(runtime):
    now = datetime.now(UTC)
    with transaction(runtime.sessions) as session:
        chat_state.put(session, None, ("o_p", "conversation"), "{}", now, now)
    with transaction(runtime.sessions) as session:
        found = run_together(
            session,
            [
                Step(text("SELECT 1 + :n"), {"n": 1}),
                chat_state.load_step("o_p"),
                chat_state.load_step("o_nobody"),
            ],
        )
    assert found[0] == [(2,)]
    rows = chat_state.from_rows(found[1])
    assert rows["conversation"].expires_at == now  # an aware UTC time on either database
    assert found[2] == []


def test_commit_in_the_same_round_trip_keeps_the_rows(runtime):
    now = datetime.now(UTC)
    with runtime.sessions() as session:
        inbound.record_handled_and_commit(session, [], **_push("k1", "o_p", now))
        session.rollback()  # nothing left to roll back: the insert is committed
    assert _keys(runtime) == ["k1"]


def test_a_unique_violation_is_sqlalchemys_and_rolls_back_the_whole_transaction(runtime):
    now = datetime.now(UTC)
    with transaction(runtime.sessions) as session:
        inbound.record_handled_and_commit(session, [], **_push("k1", "o_p", now))
    with pytest.raises(IntegrityError):
        with transaction(runtime.sessions) as session:
            run_together(session, [Step(text("SELECT 1"), {})])
            inbound.record_handled_and_commit(session, [], **_push("k2", "o_p", now))
            inbound.record_handled_and_commit(session, [], **_push("k1", "o_p", now))
    assert _keys(runtime) == ["k1", "k2"]  # k2 was committed before the copy of k1 failed
    with transaction(runtime.sessions) as session:  # the connection is usable again
        inbound.record_handled_and_commit(session, [], **_push("k3", "o_p", now))
    assert _keys(runtime) == ["k1", "k2", "k3"]


def test_reads_after_the_senders_lock_see_what_its_last_holder_committed(runtime):
    """The first statements of a push go together; a push waiting for the sender's lock must
    still see the push that held it (a statement's snapshot is taken when it starts)."""
    now = datetime.now(UTC)
    holder_has_lock, finished = threading.Event(), {}

    def second_push() -> None:
        holder_has_lock.wait(5)
        with transaction(runtime.sessions) as session:
            finished["opened"] = inbound.open_push(session, "o_same", "k2", now, ("n2", "d2"))

    other = threading.Thread(target=second_push)
    with transaction(runtime.sessions) as session:
        inbound.open_push(session, "o_same", "k1", now, ("n1", "d1"))
        other.start()
        holder_has_lock.set()
        other.join(0.3)
        assert other.is_alive(), "the second push must wait for the sender's lock"
        session.flush()
        chat_state.put(session, None, ("o_same", "conversation"), '{"step": 2}', now, now)
        inbound.record_handled_and_commit(session, [], **_push("k1", "o_same", now, "processing"))
    other.join(10)
    opened = finished["opened"]
    assert opened.seen.sender_waiting  # the first push's row, committed while it waited
    assert opened.states["conversation"].data == '{"step": 2}'
    assert opened.nonce_before is None


def test_a_nonce_seen_before_reports_the_body_it_came_with(runtime):
    now = datetime.now(UTC)
    with transaction(runtime.sessions) as session:
        first = inbound.open_push(session, "o_n", "k1", now, ("nonce-1", "digest-a"))
    with transaction(runtime.sessions) as session:
        again = inbound.open_push(
            session, "o_n", "k2", now + timedelta(seconds=1), ("nonce-1", "b")
        )
    assert first.nonce_before is None and again.nonce_before == "digest-a"


def test_a_connection_lost_mid_pipeline_is_transient_and_not_reused(runtime):
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("a server connection to lose")
    session = runtime.sessions()
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
    _terminate(runtime, pid)
    with pytest.raises(Exception) as raised:
        inbound.open_push(session, "o_lost", "k1", datetime.now(UTC), None)
    session.rollback()
    session.close()
    assert is_transient(raised.value)
    with transaction(runtime.sessions) as session:  # the pool hands out a live connection
        opened = inbound.open_push(session, "o_lost", "k1", datetime.now(UTC), None)
    assert opened.seen.copy_status is None


def _terminate(runtime, pid: int) -> None:
    with runtime.engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        for _ in range(100):
            gone = admin.execute(
                text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar()
            if gone:
                return
            time.sleep(0.05)


def test_values_written_together_are_stored_as_sqlalchemy_stores_them(runtime):
    """Times and flags go through SQLAlchemy's own conversions on every path, so a query
    made through SQLAlchemy finds the row by its exact time."""
    now = datetime.now(UTC)
    with transaction(runtime.sessions) as session:
        inbound.record_handled_and_commit(session, [], **_push("k1", "o_t", now))
    with runtime.sessions() as session:
        row = session.scalar(select(InboundMessage).where(InboundMessage.received_at == now))
        assert row is not None and row.received_at == now and row.late is False
        assert session.scalar(select(InboundMessage.id).where(InboundMessage.late)) is None


def _prepared_here(session) -> set[str]:
    return set(session.scalars(text("SELECT name FROM pg_prepared_statements")))


def _postgres_only(runtime) -> None:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("statements prepared on a PostgreSQL server")


def test_each_statement_is_prepared_once_per_connection_and_reused(runtime):
    _postgres_only(runtime)
    step = Step(text("SELECT CAST(:n AS integer) * 2"), {"n": 3})
    with transaction(runtime.sessions) as session:
        assert run_together(session, [step]) == [[(6,)]]
        first = _prepared_here(session)
        assert run_together(session, [Step(step.statement, {"n": 5})]) == [[(10,)]]
        assert run_together(session, [Step(step.statement, {"n": None})]) == [[(None,)]]
        again = _prepared_here(session)
    ours = {name for name in first if name.startswith("bihuan_")}
    assert len(ours) == 1  # prepared in the first round trip
    assert {name for name in again if name.startswith("bihuan_")} - ours != set()  # NULL: own
    with transaction(runtime.sessions) as session:  # the same connection (LIFO pool)
        assert run_together(session, [Step(step.statement, {"n": 7})]) == [[(14,)]]
        assert ours <= _prepared_here(session)


def test_a_statement_whose_preparation_was_aborted_is_prepared_next_time(runtime):
    """A failure earlier in the round trip aborts the rest, preparations included: they are
    not taken as done, so the same statements work on the next push."""
    _postgres_only(runtime)
    never_run = Step(text("SELECT CAST(:n AS integer) + 40"), {"n": 2})
    with pytest.raises(IntegrityError):
        with transaction(runtime.sessions) as session:
            run_together(
                session,
                [Step(text("SELECT CAST(NULL AS integer) + CAST(:x AS integer)"), {"x": 1})]
                + [Step(text("INSERT INTO push_nonces (nonce) VALUES (:n)"), {"n": "x"})]
                + [never_run],
            )
    with transaction(runtime.sessions) as session:
        assert run_together(session, [never_run]) == [[(42,)]]


def test_statements_stay_prepared_through_a_rollback(runtime):
    """A rolled-back push (psycopg would deallocate its own prepared statements then) leaves
    the next push's statements working."""
    _postgres_only(runtime)
    step = Step(text("SELECT CAST(:n AS integer) - 1"), {"n": 10})
    with transaction(runtime.sessions) as session:
        assert run_together(session, [step]) == [[(9,)]]
    with pytest.raises(IntegrityError):
        with transaction(runtime.sessions) as session:
            for _ in range(8):  # enough for a driver that prepares by itself after a few runs
                session.execute(text("SELECT count(*) FROM push_nonces")).scalar()
            session.execute(text("INSERT INTO push_nonces (nonce) VALUES ('x')"))
    with transaction(runtime.sessions) as session:
        assert run_together(session, [step]) == [[(9,)]]


def test_a_value_the_driver_cannot_send_leaves_the_connection_usable(runtime):
    """Values are converted before anything is sent: a bad one is an error of its own, not
    a half-sent round trip."""
    with pytest.raises(Exception) as raised:
        with transaction(runtime.sessions) as session:
            run_together(session, [Step(text("SELECT :x"), {"x": object()})])
    assert not is_transient(raised.value)  # a bug to see, not a database to wait for
    with transaction(runtime.sessions) as session:
        assert run_together(session, [Step(text("SELECT 1 + :n"), {"n": 1})]) == [[(2,)]]


def test_what_a_unit_changes_after_committing_itself_is_still_committed(runtime):
    """`transaction` skips its own COMMIT only when nothing is left: rows added after the
    push's last round trip committed are kept."""
    now = datetime.now(UTC)
    with transaction(runtime.sessions) as session:
        session.add(InboundMessage(**_push("k0", "o_c", now)))
    with transaction(runtime.sessions) as session:
        earlier = session.scalar(select(InboundMessage).where(InboundMessage.dedupe_key == "k0"))
        inbound.record_handled_and_commit(session, [], **_push("k1", "o_c", now))
        earlier.reply = "改过"  # a row loaded before the commit, changed after it
    assert _keys(runtime) == ["k0", "k1"]
    with runtime.sessions() as session:
        assert (
            session.scalar(select(InboundMessage.reply).where(InboundMessage.dedupe_key == "k0"))
            == "改过"
        )


def test_a_unit_on_its_own_connection_commits_core_and_orm_together_or_nothing(runtime):
    """`connected_transaction`, a push's unit: its ORM rows and its Core round trips commit
    together; an error rolls back both."""
    now = datetime.now(UTC)
    with pytest.raises(RuntimeError):
        with connected_transaction(runtime.connections, runtime.sessions) as session:
            session.add(InboundMessage(**_push("k_orm", "o_u", now)))
            session.flush()  # written, not committed
            inbound.open_push(session, "o_u", "k_core", now, ("n_u", "d"))
            raise RuntimeError("a handler's bug")
    assert _keys(runtime) == []
    with connected_transaction(runtime.connections, runtime.sessions) as session:
        inbound.open_push(session, "o_u", "k_core", now, ("n_u", "d"))
        session.add(InboundMessage(**_push("k_orm", "o_u", now)))
        inbound.record_handled_and_commit(session, [], **_push("k_core", "o_u", now))
    assert sorted(_keys(runtime)) == ["k_core", "k_orm"]


def test_statements_deallocated_behind_its_back_drop_the_connection_not_the_push(runtime):
    """If a statement prepared on a connection is gone, the error is transient (the push
    takes another path) and the connection is not used again."""
    _postgres_only(runtime)
    step = Step(text("SELECT CAST(:n AS integer) * 3"), {"n": 2})
    with transaction(runtime.sessions) as session:
        assert run_together(session, [step]) == [[(6,)]]
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
        session.connection().connection.driver_connection.execute("DEALLOCATE ALL")
    with pytest.raises(Exception) as raised:
        with transaction(runtime.sessions) as session:
            run_together(session, [step])
    assert is_transient(raised.value)
    with transaction(runtime.sessions) as session:
        assert run_together(session, [step]) == [[(6,)]]
        assert session.execute(text("SELECT pg_backend_pid()")).scalar() != pid


def test_a_statement_with_values_of_its_own_keeps_them_beside_those_given(runtime):
    """Values written into the statement (not named in the step's parameters) are sent with
    those given: the fast path takes the given ones as they are, and falls back to
    SQLAlchemy's own filling-in when the statement carries more."""
    now = datetime.now(UTC)
    statement = insert(InboundMessage.__table__).values(
        dedupe_key=bindparam("key"),
        openid="o_fixed",
        msg_type="text",
        raw_xml="<xml/>",
        status="done",
        reply="好的",
        error="",
        received_at=bindparam("at", type_=UTCDateTime),
        late=False,
    )
    with transaction(runtime.sessions) as session:
        run_together(session, [Step(statement, {"key": "k_fixed", "at": now})], commit=True)
    with runtime.sessions() as session:
        row = session.scalar(select(InboundMessage).where(InboundMessage.dedupe_key == "k_fixed"))
        assert (row.openid, row.reply, row.received_at) == ("o_fixed", "好的", now)


def test_one_connection_reused_sends_each_value_as_given_null_or_not(runtime):
    """A connection's adapters are kept between round trips (PostgreSQL): a column sent as
    NULL in one push and as a time in the next is stored as each says, on the same
    connection."""
    kept = KeptConnections(runtime.engine, keep=1)
    now = datetime.now(UTC)
    for key, finished in (("k_null", None), ("k_time", now), ("k_null_again", None)):
        with connected_transaction(kept, runtime.sessions) as session:
            values = {**_push(key, "o_kept", now), "finished_at": finished}
            inbound.record_handled_and_commit(session, [], **values)
    kept.close()
    with runtime.sessions() as session:
        found = dict(
            session.execute(select(InboundMessage.dedupe_key, InboundMessage.finished_at)).all()
        )
    assert found == {"k_null": None, "k_time": now, "k_null_again": None}
