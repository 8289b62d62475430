"""SLA clocks of a ticket in the database (PRODUCT §4): start, stop, restart and extend.

The limits and alert times are the pure `models.core.deadline_policy`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from models.core import sla
from models.core.deadline_policy import DeadlinePolicy
from models.ticket.tables import Deadline, Ticket


def running(ticket: Ticket, clock: str) -> Deadline | None:
    return next((d for d in ticket.deadlines if d.clock == clock and d.state == "running"), None)


def start(
    session: Session, ticket: Ticket, clock: str, now: datetime, policy: DeadlinePolicy
) -> Deadline:
    """Begin a clock (no-op when it already runs)."""
    current = running(ticket, clock)
    if current is not None:
        return current
    computed = policy.compute(clock, now, ticket.severity)
    return _add(session, ticket, computed, policy)


def stop(ticket: Ticket, clock: str, now: datetime) -> None:
    current = running(ticket, clock)
    if current is not None:
        _end(current, "met" if now <= current.due_at else "late", now)


def _end(deadline: Deadline, state: str, now: datetime) -> None:
    deadline.state, deadline.stopped_at, deadline.next_alert_at = state, now, None


def restart(
    session: Session, ticket: Ticket, clock: str, now: datetime, policy: DeadlinePolicy
) -> Deadline:
    current = running(ticket, clock)
    if current is not None:
        _end(current, "superseded", now)
    return _add(session, ticket, policy.compute(clock, now, ticket.severity), policy)


def extend(
    session: Session, ticket: Ticket, workdays: int, now: datetime, policy: DeadlinePolicy
) -> Deadline:
    """延期: a new resolve deadline from now; the old row stays, marked superseded."""
    current = running(ticket, sla.RESOLVE)
    if current is not None:
        _end(current, "superseded", now)
    computed = policy.extended(now, workdays)
    return _add(session, ticket, computed, policy)


def _add(
    session: Session, ticket: Ticket, computed: sla.Deadline, policy: DeadlinePolicy
) -> Deadline:
    first_alert = policy.stages(computed.clock, computed.started_at, computed.due_at)[0].at
    row = Deadline(
        clock=computed.clock,
        started_at=computed.started_at,
        due_at=computed.due_at,
        provisional=computed.provisional,
        state="running",
        next_alert_at=first_alert,
    )
    ticket.deadlines.append(row)
    session.add(row)
    if computed.clock == sla.RESOLVE and ticket.rounds == 0:
        ticket.completion_due_at = computed.due_at  # the first round's deadline (figures)
    return row
