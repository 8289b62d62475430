"""`models.chat_state`: the per-openid rows a push reads and writes with Core statements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.db import transaction
from models import chat_state

KEY = ("o_state", "conversation")


def test_a_row_written_twice_keeps_the_last_values(runtime):
    now = datetime.now(UTC)
    later = now + timedelta(hours=1)
    with transaction(runtime.sessions) as session:
        first = chat_state.put(session, None, KEY, '{"step": 1}', later, now)
    with transaction(runtime.sessions) as session:
        row = chat_state.load_all(session, "o_state")["conversation"]
        assert row == first
        chat_state.put(session, row, KEY, '{"step": 2}', later + timedelta(hours=1), later)
    with runtime.sessions() as session:
        rows = chat_state.load_all(session, "o_state")
    assert list(rows) == ["conversation"]
    assert (rows["conversation"].data, rows["conversation"].updated_at) == ('{"step": 2}', later)


def test_a_row_purged_after_it_was_read_is_written_again(runtime):
    """The sweep deletes expired rows without the sender's lock: a push that read the row
    before must not lose its write to an UPDATE that matches nothing."""
    now = datetime.now(UTC)
    with transaction(runtime.sessions) as session:
        chat_state.put(session, None, KEY, '{"step": 1}', now - timedelta(minutes=1), now)
    with transaction(runtime.sessions) as session:
        read = chat_state.load_all(session, "o_state")["conversation"]
    with transaction(runtime.sessions) as session:
        assert chat_state.purge_expired(session, now) == 1
    with transaction(runtime.sessions) as session:
        chat_state.put(session, read, KEY, '{"step": 2}', now + timedelta(hours=1), now)
    with runtime.sessions() as session:
        row = chat_state.load_all(session, "o_state")["conversation"]
    assert row.data == '{"step": 2}' and chat_state.live(row, now) == row


def test_dropping_a_row_leaves_the_others_of_the_openid(runtime):
    now = datetime.now(UTC)
    later = now + timedelta(hours=1)
    with transaction(runtime.sessions) as session:
        chat_state.put(session, None, KEY, "{}", later, now)
        chat_state.put(session, None, ("o_state", "comment"), "7", later, now)
    with transaction(runtime.sessions) as session:
        chat_state.drop(session, chat_state.load_all(session, "o_state")["conversation"])
    with runtime.sessions() as session:
        assert list(chat_state.load_all(session, "o_state")) == ["comment"]


def test_each_step_rewrites_its_row_in_place_on_postgresql(runtime):
    """Every conversation step rewrites its row: PostgreSQL must update it in place (HOT),
    not leave a dead copy and new index entries behind at every step."""
    import pytest
    from sqlalchemy import text

    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("HOT updates are PostgreSQL's")
    now = datetime.now(UTC)
    hot = text(
        "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'chat_states'"
    )

    def counts() -> tuple[int, int]:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT pg_stat_force_next_flush()"))
        with runtime.engine.connect() as connection:
            return tuple(connection.execute(hot).one())

    with transaction(runtime.sessions) as session:
        chat_state.put(session, None, KEY, '{"step": 0}', now + timedelta(hours=1), now)
    updates_before, hot_before = counts()
    for step in range(1, 31):  # each step later: a new expiry and time, as in a conversation
        later = now + timedelta(seconds=step)
        with transaction(runtime.sessions) as session:
            row = chat_state.load_all(session, "o_state")["conversation"]
            data = f'{{"step": {step}}}'
            chat_state.put(session, row, KEY, data, later + timedelta(hours=1), later)
    updates, hot_updates = counts()
    assert updates - updates_before == 30
    assert hot_updates - hot_before >= 25  # a page now and then may be full
