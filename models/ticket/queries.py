"""Ticket queries for staff (待办, 超期), as functions taking a session; 统计 is
`models.figures`.

Counting happens in the database (``count``/``min`` over the indexed status, handler and
deadline columns); only the few tickets a reply shows are loaded. Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, selectinload

from models.people.tables import Department, Staff
from models.ticket.tables import Deadline, Ticket

HANDLING_STATUSES = ("assigned", "processing")
OFFICER_STATUSES = ("received", "assigned", "processing", "resolved")


@dataclass(frozen=True)
class Page:
    """The first tickets of a list and how many there are in all."""

    tickets: list[Ticket]
    total: int


def lock_by_number(session: Session, number: str) -> Ticket | None:
    """The ticket, locked for this transaction (SELECT … FOR UPDATE; a no-op on SQLite)."""
    statement = select(Ticket).where(Ticket.number == number).with_for_update()
    return session.scalar(statement)


# --- 待办 ----------------------------------------------------------------------------------


def todo_filter(role: str, staff_id: int, department_id: int | None) -> ColumnElement[bool]:
    """Open tickets that are the sender's business: own, department's, or all (officer)."""
    if role == "handler":
        return (Ticket.handler_id == staff_id) & Ticket.status.in_(HANDLING_STATUSES)
    if role == "dept_head":
        handling = (Ticket.handling_department_id == department_id) & Ticket.status.in_(
            HANDLING_STATUSES
        )
        untriaged = (Ticket.status == "received") & (
            Ticket.receiving_department_id == department_id
        )
        return handling | untriaged
    if role == "officer":
        return Ticket.status.in_(OFFICER_STATUSES)
    raise ValueError(f"no to-do list for role {role!r}")


def todo(session: Session, role: str, staff_id: int, department_id: int | None, limit: int) -> Page:
    """The sender's open tickets, nearest running deadline first (no deadline last)."""
    return _by_nearest_deadline(session, todo_filter(role, staff_id, department_id), limit)


def overdue(session: Session, now: datetime, limit: int) -> Page:
    """Tickets with a running deadline already past, the longest overdue first."""
    late = select(Deadline.ticket_id).where(Deadline.state == "running", Deadline.due_at < now)
    return _by_nearest_deadline(session, Ticket.id.in_(late), limit)


def _by_nearest_deadline(session: Session, where: ColumnElement[bool], limit: int) -> Page:
    nearest = (
        select(Deadline.ticket_id, func.min(Deadline.due_at).label("due"))
        .where(Deadline.state == "running")
        .group_by(Deadline.ticket_id)
        .subquery()
    )
    statement: Select = (
        select(Ticket)
        .outerjoin(nearest, nearest.c.ticket_id == Ticket.id)
        .where(where)
        .order_by(nearest.c.due.is_(None), nearest.c.due, Ticket.id)
        .limit(limit)
        .options(selectinload(Ticket.deadlines))
    )
    tickets = list(session.scalars(statement))
    total = session.scalar(select(func.count(Ticket.id)).where(where)) or 0
    return Page(tickets=tickets, total=total)


# --- people --------------------------------------------------------------------------------


def departments(session: Session) -> list[Department]:
    return list(session.scalars(select(Department).order_by(Department.id)))


def assignable_staff(session: Session, department_id: int) -> list[Staff]:
    """Who can be named handler (承办人) in a department: its active handlers, head, officers."""
    statement = (
        select(Staff)
        .where(
            Staff.department_id == department_id,
            Staff.active.is_(True),
            Staff.role.in_(("handler", "dept_head", "officer")),
        )
        .order_by(Staff.id)
    )
    return list(session.scalars(statement))
