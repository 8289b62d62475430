"""`bot.db.KeptConnections`: a push handled at once takes a connection kept from the last
one instead of the pool's; a failed unit's connection is never kept; the runtime's close
returns them all."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bot.db import KeptConnections, connected_transaction


def _driver(session):
    return session.connection().connection.dbapi_connection


def test_units_in_turn_share_one_connection_checked_out_once(runtime):
    kept = KeptConnections(runtime.engine, keep=2)
    with connected_transaction(kept, runtime.sessions) as session:
        first = _driver(session)
    assert runtime.engine.pool.checkedout() == 1  # kept, not returned
    with connected_transaction(kept, runtime.sessions) as session:
        assert _driver(session) is first
        session.execute(text("SELECT 1"))
    assert runtime.engine.pool.checkedout() == 1
    kept.close()
    assert runtime.engine.pool.checkedout() == 0


def test_a_failed_unit_gives_its_connection_back_to_the_pool(runtime):
    kept = KeptConnections(runtime.engine, keep=2)
    with pytest.raises(RuntimeError), connected_transaction(kept, runtime.sessions) as session:
        session.execute(text("SELECT 1"))
        raise RuntimeError("a bug")
    assert runtime.engine.pool.checkedout() == 0
    with connected_transaction(kept, runtime.sessions) as session:
        session.execute(text("SELECT 1"))  # a connection that works, whichever it is
    assert runtime.engine.pool.checkedout() == 1
    kept.close()


def test_at_most_keep_connections_wait_the_rest_go_back(runtime):
    kept = KeptConnections(runtime.engine, keep=1)
    taken = [kept.take() for _ in range(3)]
    assert runtime.engine.pool.checkedout() == 3
    for connection in taken:
        kept.give_back(connection)
    assert runtime.engine.pool.checkedout() == 1
    runtime.close()
    assert runtime.engine.pool.checkedout() == 0


def test_a_connection_still_in_a_transaction_or_lost_is_not_kept(runtime):
    kept = KeptConnections(runtime.engine, keep=4)
    open_one, lost = kept.take(), kept.take()
    open_one.begin()
    lost.invalidate()
    kept.give_back(open_one)
    kept.give_back(lost)
    assert runtime.engine.pool.checkedout() == 0


def test_the_webhook_keeps_one_connection_across_pushes(wechat, runtime):
    wechat.text("o_kept", "你好")
    wechat.text("o_kept", "你好")
    assert runtime.engine.pool.checkedout() == 1
    runtime.close()
    assert runtime.engine.pool.checkedout() == 0
