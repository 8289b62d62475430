"""Reminders and breach alerts from the deadlines stored in the database (PRODUCT §4).

The sweep reads only the clocks whose next alert is due (an indexed query), so its cost grows
with what is due, not with the number of tickets. Each stage of a clock is claimed once by a
unique row (`deadline_alerts`), so two sweeps running at the same time on two hosts send each
alert once.

A sweep that comes back after a pause (a cron down for hours, a laptop asleep) still owes
every breach and escalation that passed: each is recorded per person and alerted, in order.
Only reminders that became pointless are passed over (recorded, not sent): every reminder once
its breach has passed, and all but the latest otherwise. A clock stopped late before any sweep
saw its breach is judged the same way when it stops (`breached_while_stopping`).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from models.core.deadline_policy import BREACH, ESCALATE, DeadlinePolicy, Stage
from models.core.payload import Payload
from models.notification import outbox as notifications
from models.ticket.tables import Deadline, DeadlineAlert, SlaBreach, Ticket

OFFICER_CLOCKS = ("route", "callback")
REMINDER = "remind:"


def due_deadlines(session: Session, now: datetime, limit: int) -> list[Deadline]:
    statement = (
        select(Deadline)
        .where(Deadline.state == "running", Deadline.next_alert_at <= now)
        .order_by(Deadline.next_alert_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True, of=Deadline)
    # One query for the tickets of the batch instead of one per clock.
    return list(session.scalars(statement.options(selectinload(Deadline.ticket))))


def sweep(session: Session, now: datetime, policy: DeadlinePolicy, limit: int = 500) -> int:
    """Handle every due clock; returns how many alerts were sent."""
    sent = 0
    for deadline in due_deadlines(session, now, limit):
        sent += handle_deadline(session, deadline, now, policy)
    return sent


def handle_deadline(
    session: Session, deadline: Deadline, now: datetime, policy: DeadlinePolicy
) -> int:
    stages = policy.stages(deadline.clock, deadline.started_at, deadline.due_at)
    upcoming = [stage for stage in stages if stage.at > now]
    deadline.next_alert_at = upcoming[0].at if upcoming else None
    return _judge(session, deadline, [stage for stage in stages if stage.at <= now], now, policy)


def breached_while_stopping(
    session: Session, deadline: Deadline, now: datetime, policy: DeadlinePolicy
) -> int:
    """A clock just stopped late: its breach (and an escalation already due) if no sweep
    judged them yet, so that the record per person is complete."""
    stages = policy.stages(deadline.clock, deadline.started_at, deadline.due_at)
    return _judge(session, deadline, [stage for stage in stages if stage.at <= now], now, policy)


def _judge(
    session: Session, deadline: Deadline, passed: list[Stage], now: datetime, policy: DeadlinePolicy
) -> int:
    """Claim every passed stage once; send the breaches and escalations, and the latest
    reminder unless the breach passed too. Returns how many alerts were sent."""
    owed = [stage for stage in passed if not stage.name.startswith(REMINDER)]
    reminders = [stage for stage in passed if stage.name.startswith(REMINDER)]
    if reminders and not owed:
        owed = [reminders.pop()]
    for stage in reminders:
        _claim(session, deadline.id, stage.name, sent=False, now=now)
    sent = 0
    for stage in owed:
        if _claim(session, deadline.id, stage.name, sent=True, now=now):
            _emit(session, deadline, stage, now, policy)
            sent += 1
    return sent


def _claim(session: Session, deadline_id: int, stage: str, sent: bool, now: datetime) -> bool:
    """Insert the stage's row unless it exists; True when this call inserted it."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(DeadlineAlert)
        .values(deadline_id=deadline_id, stage=stage, sent=sent, created_at=now)
        .on_conflict_do_nothing(index_elements=["deadline_id", "stage"])
        .returning(DeadlineAlert.id)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def _emit(
    session: Session, deadline: Deadline, stage: Stage, now: datetime, policy: DeadlinePolicy
) -> None:
    ticket = deadline.ticket
    payload = _payload(ticket, deadline, stage, now, policy)
    if stage.name == ESCALATE:
        notifications.notify(session, "leader", "breach", ticket, payload, now)
    elif stage.name == BREACH:
        _breach(session, ticket, deadline, payload, now)
    else:
        for staff_id in responsible_staff(session, ticket, deadline.clock):
            notifications.notify_staff(session, staff_id, "reminder", ticket, payload, now)


def _breach(
    session: Session, ticket: Ticket, deadline: Deadline, payload: Payload, now: datetime
) -> None:
    responsible = responsible_staff(session, ticket, deadline.clock)
    for staff_id in responsible:
        session.add(
            SlaBreach(
                deadline_id=deadline.id,
                ticket_id=ticket.id,
                staff_id=staff_id,
                clock=deadline.clock,
                breached_at=deadline.due_at,
            )
        )
    if deadline.clock == "callback":
        ticket.phone_callback = True
        notifications.notify(session, "officer", "callback_due", ticket, payload, now)
        return
    recipients = set(responsible)
    recipients.update(notifications.recipient_staff_ids(session, "officer", ticket))
    if ticket.handling_department_id is not None:
        recipients.update(notifications.recipient_staff_ids(session, "dept_head", ticket))
    for staff_id in sorted(recipients):
        notifications.notify_staff(session, staff_id, "breach", ticket, payload, now)


def responsible_staff(session: Session, ticket: Ticket, clock: str) -> list[int]:
    """Who answers for a clock: the officers for routing and call-back; for first contact the
    handler once named, else the receiving department's head and the officers; else the
    handler, or the handling department's head while no handler is named."""
    if clock in OFFICER_CLOCKS:
        return notifications.recipient_staff_ids(session, "officer", ticket)
    if clock == "contact" and ticket.handler_id is None:
        return _receiving_staff(session, ticket)
    if ticket.handler_id is not None:
        return [ticket.handler_id]
    if ticket.handling_department_id is not None:
        return notifications.recipient_staff_ids(session, "dept_head", ticket)
    return notifications.recipient_staff_ids(session, "officer", ticket)


def _receiving_staff(session: Session, ticket: Ticket) -> list[int]:
    heads = []
    if ticket.receiving_department_id is not None:
        heads = notifications.recipient_staff_ids(
            session, "dept_head", ticket, ticket.receiving_department_id
        )
    officers = notifications.recipient_staff_ids(session, "officer", ticket)
    return sorted(set(heads) | set(officers))


def _payload(
    ticket: Ticket, deadline: Deadline, stage: Stage, now: datetime, policy: DeadlinePolicy
) -> Payload:
    """What the alert reports: the clock, its deadline and, for a breach, how late it is."""
    zone = ZoneInfo(policy.timezone)
    late = None
    if stage.name in (BREACH, ESCALATE):
        late = max(0, int((now - deadline.due_at).total_seconds() // 60))
    return Payload(
        ticket_id=ticket.id,
        number=ticket.number,
        clock=deadline.clock,
        deadline=deadline.due_at.astimezone(zone).isoformat(),
        provisional=deadline.provisional,
        overdue_minutes=late,
        urgent=ticket.urgent or None,
    )
