"""The deadline sweep works set-based: as many statements for 20 due clocks as for one, each
clock still alerted exactly once, and a sweep that dies mid-way leaves nothing half done."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from bot.db import transaction
from jobs.sweeps import send_due_alerts
from models.notification import outbox
from models.notification.tables import Notification
from models.people.tables import Staff
from models.ticket import alerts
from models.ticket.tables import Deadline, DeadlineAlert, SlaBreach
from tests.factories import add_ticket, seed_bound_staff

# Monday 2026-11-30 10:00 in Asia/Shanghai; each clock broke an hour before, so its two
# reminders are passed over and its breach is sent (the escalation is a working day away).
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
DUE = NOW - timedelta(hours=1)


def breached_clocks(runtime, count: int) -> list[int]:
    """`count` tickets handled by 王芳, each with a running resolve clock past its due time."""
    ids = []
    with transaction(runtime.sessions) as session:
        for _ in range(count):
            ticket = add_ticket(session, DUE - timedelta(days=2))
            clock = Deadline(
                ticket_id=ticket.id,
                clock="resolve",
                started_at=DUE - timedelta(days=2),
                due_at=DUE,
                provisional=False,
                workdays=2,
                state="running",
                next_alert_at=DUE - timedelta(days=1),
            )
            session.add(clock)
            session.flush()
            ids.append(clock.id)
    return ids


def statements_of_one_sweep(runtime) -> int:
    """The SQL statements of one sweep's transaction (not of the sends queued after it)."""
    seen = []

    def count(*args) -> None:
        seen.append(args[2])

    policy = runtime.deadline_policy()  # the calendar, read once per process
    event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        with transaction(runtime.sessions) as session:
            alerts.sweep(session, NOW, policy, runtime.settings.outbox.batch)
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)
    return len(seen)


def staff_ids(runtime, *names: str) -> set[int]:
    with runtime.sessions() as session:
        return set(session.scalars(select(Staff.id).where(Staff.name.in_(names))))


def assert_each_alerted_once(runtime, clocks: list[int]) -> None:
    """Each clock: its stages claimed once, its breach recorded against the handler and
    told to the handler, the department head and the officer, once each."""
    everyone = staff_ids(runtime, "王芳", "李强", "周敏")
    with runtime.sessions() as session:
        stages = Counter(
            (row.deadline_id, row.stage, row.sent) for row in session.scalars(select(DeadlineAlert))
        )
        breaches = Counter(
            (row.deadline_id, row.staff_id) for row in session.scalars(select(SlaBreach))
        )
        notices = Counter(
            (row.ticket_id, row.staff_id, row.kind, row.payload["clock"])
            for row in session.scalars(select(Notification))
        )
        tickets = dict(session.execute(select(Deadline.id, Deadline.ticket_id)).all())
    expected_stages = Counter()
    expected_notices = Counter()
    for clock in clocks:
        expected_stages.update(
            [(clock, "remind:0.5", False), (clock, "remind:0.8", False), (clock, "breach", True)]
        )
        expected_notices.update(
            (tickets[clock], staff_id, "breach", "resolve") for staff_id in everyone
        )
    assert stages == expected_stages
    assert breaches == Counter((clock, *staff_ids(runtime, "王芳")) for clock in clocks)
    assert notices == expected_notices


def test_one_sweep_runs_as_many_statements_for_twenty_due_clocks_as_for_one(runtime):
    seed_bound_staff(runtime)
    one = breached_clocks(runtime, 1)
    for_one = statements_of_one_sweep(runtime)
    assert_each_alerted_once(runtime, one)
    twenty = breached_clocks(runtime, 20)
    for_twenty = statements_of_one_sweep(runtime)
    assert for_twenty == for_one
    assert_each_alerted_once(runtime, one + twenty)
    assert send_due_alerts(runtime, NOW + timedelta(minutes=5)) == 0  # nothing twice


def test_a_sweep_that_dies_mid_way_leaves_every_alert_to_the_next(runtime, monkeypatch):
    seed_bound_staff(runtime)
    clocks = breached_clocks(runtime, 3)

    def crash(*args, **kwargs):
        raise RuntimeError("the process died while writing the notifications")

    with monkeypatch.context() as patch:
        patch.setattr(outbox, "notify_staff_many", crash)
        with pytest.raises(RuntimeError):
            send_due_alerts(runtime, NOW)
    with runtime.sessions() as session:
        assert session.scalars(select(DeadlineAlert)).all() == []  # the claims rolled back
    assert send_due_alerts(runtime, NOW) == 3
    assert_each_alerted_once(runtime, clocks)
