"""Repeat complaints (重复投诉, PRODUCT §3): link a new ticket to the customer's earlier one."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from models.core.payload import Payload
from models.core.workflow import repeat_flags
from models.notification import outbox as notifications
from models.ticket.tables import Deadline, Ticket

UNRESOLVED = ("received", "assigned", "processing")
OPEN = (*UNRESOLVED, "resolved")


def link_repeat(session: Session, ticket: Ticket, now: datetime, window_days: int) -> None:
    """Flag `ticket` as a repeat of the same customer's ticket of the same appeal type that is
    open or was filed within the window; flag accountability when the chain has an unresolved
    repeat or a breached deadline, and tell the officer."""
    earlier = _earlier_tickets(session, ticket, now - timedelta(days=window_days))
    if not earlier:
        return
    earlier_open = any(t.status in OPEN for t in earlier)
    unresolved_repeats = sum(1 for t in earlier if t.repeat_flag and t.status in UNRESOLVED)
    overdue = _any_overdue(session, [t.id for t in earlier], now)
    repeat, accountability = repeat_flags(
        earlier_open, overdue, unresolved_repeats, earlier_recent=True
    )
    ticket.repeat_flag, ticket.accountability_flag = repeat, accountability
    ticket.repeat_of_id = earlier[0].id if repeat else None
    if accountability:
        payload = Payload(ticket_id=ticket.id, number=ticket.number, repeat_of=earlier[0].number)
        notifications.notify(session, "officer", "accountability", ticket, payload, now)


def _earlier_tickets(session: Session, ticket: Ticket, since: datetime) -> list[Ticket]:
    same_customer = [Ticket.customer_id == ticket.customer_id] if ticket.customer_id else []
    if ticket.phone:
        same_customer.append(Ticket.phone == ticket.phone)
    if not same_customer:
        return []
    statement = (
        select(Ticket)
        .where(
            Ticket.id != ticket.id,
            Ticket.appeal_type == ticket.appeal_type,
            or_(*same_customer),
            or_(Ticket.status.in_(OPEN), Ticket.created_at >= since),
        )
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(20)
    )
    return list(session.scalars(statement))


def _any_overdue(session: Session, ticket_ids: list[int], now: datetime) -> bool:
    """A breached clock: still running past due, or stopped late."""
    late = or_(Deadline.state == "late", (Deadline.state == "running") & (Deadline.due_at < now))
    return bool(session.scalar(select(exists().where(Deadline.ticket_id.in_(ticket_ids), late))))
