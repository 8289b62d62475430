"""Ticket numbers stay unique and sequential when many are created at once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.db import transaction
from models.ticket.intake import next_ticket_number
from tests.concurrency import run_in_threads


def test_numbers_are_sequential_per_local_day(runtime):
    # 2026-11-27 17:00 UTC is already 2026-11-28 01:00 in Asia/Shanghai.
    moment = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
    with transaction(runtime.sessions) as session:
        first = next_ticket_number(session, moment, "Asia/Shanghai")
        second = next_ticket_number(session, moment, "Asia/Shanghai")
    assert (first, second) == ("TS202611280001", "TS202611280002")


def test_concurrent_creation_gives_unique_gapless_numbers(runtime):
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL (SQLite serialises every writer)")
    moment = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)

    def create():
        created = []
        for _ in range(10):
            with transaction(runtime.sessions) as session:
                created.append(next_ticket_number(session, moment, "Asia/Shanghai"))
        return created

    batches, errors = run_in_threads(create, 8)
    assert not errors
    numbers = [number for batch in batches for number in batch]
    assert sorted(numbers) == [f"TS20261128{n:04d}" for n in range(1, 81)]
