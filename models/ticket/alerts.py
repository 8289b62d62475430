"""Reminders and breach alerts from the deadlines stored in the database (PRODUCT §4).

The sweep reads only the clocks whose next alert is due (an indexed query), so its cost grows
with what is due, not with the number of tickets. Each stage of a clock is claimed once by a
unique row (`deadline_alerts`), so two sweeps running at the same time on two hosts send each
alert once; a sweep that dies mid-way rolls back its claims with its notifications.

The sweep works set-based: one statement claims the batch of due clocks (`FOR UPDATE SKIP
LOCKED` on PostgreSQL) with what the alerts need of their tickets, one moves their next alert
times, one claims every passed stage, a few read who the roles are, and one each writes the
notifications, the breaches and the phone call-backs. Their number does not grow with the
number of clocks due.

A sweep that comes back after a pause (a cron down for hours, a laptop asleep) still owes
every breach and escalation that passed: each is recorded per person and alerted, in order.
Only reminders that became pointless are passed over (recorded, not sent): every reminder once
its breach has passed, and all but the latest otherwise. A clock stopped late before any sweep
saw its breach is judged the same way when it stops (`breached_while_stopping`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, case, null, select, update
from sqlalchemy.orm import Session

from models.base import UTCDateTime
from models.bulk import insert_many
from models.core.deadline_policy import BREACH, ESCALATE, DeadlinePolicy, Stage
from models.core.payload import Payload
from models.notification import outbox as notifications
from models.notification.outbox import Directory, StaffNotice
from models.ticket.tables import Deadline, DeadlineAlert, SlaBreach, Ticket

OFFICER_CLOCKS = ("route", "callback")
REMINDER = "remind:"


@dataclass(frozen=True)
class DueClock:
    """A clock being judged, with what its alerts need of the ticket."""

    deadline_id: int
    clock: str
    started_at: datetime
    due_at: datetime
    provisional: bool
    ticket_id: int
    number: str
    urgent: bool
    handler_id: int | None
    handling_department_id: int | None
    receiving_department_id: int | None

    @classmethod
    def of(cls, deadline: Deadline) -> DueClock:
        ticket = deadline.ticket
        return cls(
            deadline.id,
            deadline.clock,
            deadline.started_at,
            deadline.due_at,
            deadline.provisional,
            ticket.id,
            ticket.number,
            ticket.urgent,
            ticket.handler_id,
            ticket.handling_department_id,
            ticket.receiving_department_id,
        )


COLUMNS = (
    Deadline.id,
    Deadline.clock,
    Deadline.started_at,
    Deadline.due_at,
    Deadline.provisional,
    Ticket.id,
    Ticket.number,
    Ticket.urgent,
    Ticket.handler_id,
    Ticket.handling_department_id,
    Ticket.receiving_department_id,
)


def due_deadlines(session: Session, now: datetime, limit: int) -> list[DueClock]:
    """The due running clocks, the earliest first, locked for this transaction (clocks another
    sweep holds are skipped on PostgreSQL): one statement with their tickets' columns."""
    statement = (
        select(*COLUMNS)
        .join(Ticket, Ticket.id == Deadline.ticket_id)
        .where(Deadline.state == "running", Deadline.next_alert_at <= now)
        .order_by(Deadline.next_alert_at)
        .limit(limit)
    )
    if _dialect(session) == "postgresql":
        statement = statement.with_for_update(skip_locked=True, of=Deadline)
    return [DueClock(*row) for row in session.execute(statement)]


def sweep(session: Session, now: datetime, policy: DeadlinePolicy, limit: int = 500) -> int:
    """Handle every due clock; returns how many alerts were sent."""
    due = due_deadlines(session, now, limit)
    if not due:
        return 0
    passed: list[tuple[DueClock, list[Stage]]] = []
    next_alerts: dict[int, datetime | None] = {}
    for clock in due:
        stages = policy.stages(clock.clock, clock.started_at, clock.due_at)
        upcoming = [stage for stage in stages if stage.at > now]
        next_alerts[clock.deadline_id] = upcoming[0].at if upcoming else None
        passed.append((clock, [stage for stage in stages if stage.at <= now]))
    _move_next_alerts(session, next_alerts)
    judged = _judge(session, passed, now, policy)
    if judged.callbacks:
        table = Ticket.__table__
        session.execute(
            update(table).where(table.c.id.in_(judged.callbacks)).values(phone_callback=True)
        )
    return judged.sent


def breached_while_stopping(
    session: Session, deadline: Deadline, now: datetime, policy: DeadlinePolicy
) -> int:
    """A clock just stopped late: its breach (and an escalation already due) if no sweep
    judged them yet, so that the record per person is complete."""
    stages = policy.stages(deadline.clock, deadline.started_at, deadline.due_at)
    passed = [stage for stage in stages if stage.at <= now]
    judged = _judge(session, [(DueClock.of(deadline), passed)], now, policy)
    if judged.callbacks:
        deadline.ticket.phone_callback = True
    return judged.sent


def _move_next_alerts(session: Session, next_alerts: dict[int, datetime | None]) -> None:
    """One UPDATE for the batch: each clock's next alert (None: nothing left)."""
    table = Deadline.__table__
    when = {
        deadline_id: null() if at is None else bindparam(None, at, type_=UTCDateTime())
        for deadline_id, at in next_alerts.items()
    }
    session.execute(
        update(table)
        .where(table.c.id.in_(list(next_alerts)))
        .values(next_alert_at=case(when, value=table.c.id, else_=table.c.next_alert_at))
    )


@dataclass
class _Judged:
    sent: int = 0
    callbacks: list[int] = field(default_factory=list)  # tickets owed a phone call-back


def _judge(
    session: Session,
    clocks: list[tuple[DueClock, list[Stage]]],
    now: datetime,
    policy: DeadlinePolicy,
) -> _Judged:
    """Claim every passed stage of each clock once; send the breaches and escalations, and
    the latest reminder unless the breach passed too."""
    owed: list[tuple[DueClock, Stage]] = []
    claims: list[dict] = []
    for clock, passed in clocks:
        to_send = [stage for stage in passed if not stage.name.startswith(REMINDER)]
        reminders = [stage for stage in passed if stage.name.startswith(REMINDER)]
        if reminders and not to_send:
            to_send = [reminders.pop()]
        claims += [_claim_row(clock, stage, False, now) for stage in reminders]
        claims += [_claim_row(clock, stage, True, now) for stage in to_send]
        owed += [(clock, stage) for stage in to_send]
    claimed = _claim(session, claims)
    won = [(clock, stage) for clock, stage in owed if (clock.deadline_id, stage.name) in claimed]
    judged = _Judged(sent=len(won))
    if not won:
        return judged
    people = _directory(session, won)
    notices: list[StaffNotice] = []
    breaches: list[dict] = []
    for clock, stage in won:
        payload = _payload(clock, stage, now, policy)
        if stage.name == ESCALATE:
            notices += _notices(people.leaders, "breach", clock, payload)
        elif stage.name == BREACH:
            responsible = responsible_staff(people, clock)
            breaches += [_breach_row(clock, staff_id) for staff_id in responsible]
            if clock.clock == "callback":
                judged.callbacks.append(clock.ticket_id)
                notices += _notices(people.officers, "callback_due", clock, payload)
            else:
                notices += _notices(
                    _breach_recipients(people, clock, responsible), "breach", clock, payload
                )
        else:
            notices += _notices(responsible_staff(people, clock), "reminder", clock, payload)
    insert_many(session, SlaBreach.__table__, breaches)
    notifications.notify_staff_many(session, notices, now)
    return judged


def _claim_row(clock: DueClock, stage: Stage, sent: bool, now: datetime) -> dict:
    return {"deadline_id": clock.deadline_id, "stage": stage.name, "sent": sent, "created_at": now}


def _claim(session: Session, rows: list[dict]) -> set[tuple[int, str]]:
    """Insert the stages' rows unless they exist; the (clock, stage) pairs this call inserted."""
    inserted = insert_many(
        session,
        DeadlineAlert.__table__,
        rows,
        returning=["deadline_id", "stage"],
        skip_conflicts_on=["deadline_id", "stage"],
    )
    return {(row.deadline_id, row.stage) for row in inserted}


def _directory(session: Session, won: list[tuple[DueClock, Stage]]) -> Directory:
    departments = set()
    for clock, _ in won:
        departments.update({clock.handling_department_id, clock.receiving_department_id})
    departments.discard(None)
    leaders = any(stage.name == ESCALATE for _, stage in won)
    return notifications.directory(session, departments, leaders)


def _notices(
    staff_ids: list[int], kind: str, clock: DueClock, payload: Payload
) -> list[StaffNotice]:
    return [StaffNotice(staff_id, kind, clock.ticket_id, payload) for staff_id in staff_ids]


def _breach_row(clock: DueClock, staff_id: int) -> dict:
    return {
        "deadline_id": clock.deadline_id,
        "ticket_id": clock.ticket_id,
        "staff_id": staff_id,
        "clock": clock.clock,
        "breached_at": clock.due_at,
    }


def _breach_recipients(people: Directory, clock: DueClock, responsible: list[int]) -> list[int]:
    """A breach is told to those responsible, the officers and the handling department's
    head."""
    recipients = set(responsible) | set(people.officers)
    recipients.update(people.dept_heads(clock.handling_department_id))
    return sorted(recipients)


def responsible_staff(people: Directory, clock: DueClock) -> list[int]:
    """Who answers for a clock: the officers for routing and call-back; for first contact the
    handler once named, else the receiving department's head and the officers; else the
    handler, or the handling department's head while no handler is named."""
    if clock.clock in OFFICER_CLOCKS:
        return list(people.officers)
    if clock.clock == "contact" and clock.handler_id is None:
        heads = people.dept_heads(clock.receiving_department_id)
        return sorted(set(heads) | set(people.officers))
    if clock.handler_id is not None:
        return [clock.handler_id]
    if clock.handling_department_id is not None:
        return people.dept_heads(clock.handling_department_id)
    return list(people.officers)


def _payload(clock: DueClock, stage: Stage, now: datetime, policy: DeadlinePolicy) -> Payload:
    """What the alert reports: the clock, its deadline and, for a breach, how late it is."""
    zone = ZoneInfo(policy.timezone)
    late = None
    if stage.name in (BREACH, ESCALATE):
        late = max(0, int((now - clock.due_at).total_seconds() // 60))
    return Payload(
        ticket_id=clock.ticket_id,
        number=clock.number,
        clock=clock.clock,
        deadline=clock.due_at.astimezone(zone).isoformat(),
        provisional=clock.provisional,
        overdue_minutes=late,
        urgent=clock.urgent or None,
    )


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name
