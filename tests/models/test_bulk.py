"""`models.bulk.insert_many`, the sweeps' set-based insert (a JSON recordset on PostgreSQL,
executemany on SQLite): the rows it writes read back exactly as the ORM's would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select

from bot.db import transaction
from models.bulk import insert_many
from models.notification.tables import Notification
from models.people.tables import Staff
from models.ticket.tables import Deadline, DeadlineAlert
from tests.factories import add_ticket

BEIJING = timezone(timedelta(hours=8))


def test_rows_read_back_as_written_with_defaults_and_ids(runtime, demo):
    moment = datetime(2026, 11, 30, 9, 15, 30, 123456, tzinfo=BEIJING)
    payload = {"number": "TS202611300001", "note": '燃气表附近有气味，"请"尽快处理\\', "days": 3}
    with transaction(runtime.sessions) as session:
        handler = session.scalar(select(Staff.id).where(Staff.name == "王芳"))
        ticket = add_ticket(session, moment).id
        rows = [
            {"kind": "urge", "ticket_id": ticket, "staff_id": handler, "payload": payload},
            {"kind": "bulletin", "ticket_id": None, "staff_id": handler, "payload": {}},
        ]
        for row in rows:
            row.update(created_at=moment, next_attempt_at=moment)
        ids = [
            row.id for row in insert_many(session, Notification.__table__, rows, returning=["id"])
        ]
    with runtime.sessions() as session:
        written = session.scalars(select(Notification).where(Notification.id.in_(ids))).all()
        by_kind = {row.kind: row for row in written}
    assert len(ids) == 2 and set(ids) == {row.id for row in written}
    urge = by_kind["urge"]
    assert urge.payload == payload
    assert urge.ticket_id == ticket and by_kind["bulletin"].ticket_id is None
    assert urge.created_at == moment and urge.created_at.tzinfo is not None
    assert urge.next_attempt_at == moment.astimezone(UTC)
    # Scalar defaults are filled in as the ORM would: pending, no attempts, no error.
    assert (urge.status, urge.attempts, urge.last_error, urge.wechat_msgid) == (
        "pending",
        0,
        "",
        "",
    )


def test_rows_breaking_a_unique_key_are_skipped_and_not_returned(runtime, demo):
    now = datetime.now(UTC)
    with transaction(runtime.sessions) as session:
        ticket = add_ticket(session, now)
        clock = Deadline(ticket_id=ticket.id, clock="resolve", started_at=now, due_at=now)
        session.add(clock)
        session.flush()
        deadline = clock.id

    def claim(stages):
        rows = [{"deadline_id": deadline, "stage": stage, "created_at": now} for stage in stages]
        with transaction(runtime.sessions) as session:
            inserted = insert_many(
                session,
                DeadlineAlert.__table__,
                rows,
                returning=["stage"],
                skip_conflicts_on=["deadline_id", "stage"],
            )
        return sorted(row.stage for row in inserted)

    assert claim(["remind:0.5", "breach"]) == ["breach", "remind:0.5"]
    assert claim(["breach", "escalate"]) == ["escalate"]
    with runtime.sessions() as session:
        stored = session.scalars(select(DeadlineAlert).where(DeadlineAlert.deadline_id == deadline))
        assert sorted((row.stage, row.sent) for row in stored) == [
            ("breach", True),
            ("escalate", True),
            ("remind:0.5", True),
        ]
