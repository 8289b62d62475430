"""Ticket queries for staff (待办, 超期, 统计), as functions taking a session.

Counting happens in the database (``count``/``min`` over the indexed status, handler and
deadline columns); only the few tickets a reply shows are loaded. Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, distinct, func, literal, select
from sqlalchemy.orm import Session, selectinload

from models.base import UTCDateTime
from models.people.tables import Department, Staff
from models.ticket.tables import Deadline, Ticket, TicketEvent

HANDLING_STATUSES = ("assigned", "processing")
OFFICER_STATUSES = ("received", "assigned", "processing", "resolved")
COMPLETED_STATUSES = ("resolved", "archived")
PERIODS = ("today", "week", "month")
SATISFIED_EVENT = "archived"  # 回访满意，归档
UNSATISFIED_EVENT = "reopened"  # 回访不满意，重办
RETURN_EVENT = "return"  # 退单


@dataclass(frozen=True)
class Page:
    """The first tickets of a list and how many there are in all."""

    tickets: list[Ticket]
    total: int


@dataclass(frozen=True)
class Figures:
    """统计 for one period: counts only; rates are left to the reader (None when no data)."""

    start: datetime
    end: datetime
    received: int  # valid tickets created in the period
    completed: int  # of those, resolved or archived now
    callbacks: int  # call-backs recorded in the period
    satisfied: int
    deadlines_judged: int  # clocks that came due in the period (up to now)
    deadlines_met: int  # of those, stopped in time
    open_now: int
    overdue_now: int
    returns: int = 0  # 退单 in the period (mis-routed tickets sent back)

    @property
    def completion_rate(self) -> float | None:
        return _rate(self.completed, self.received)

    @property
    def satisfaction_rate(self) -> float | None:
        return _rate(self.satisfied, self.callbacks)

    @property
    def on_time_rate(self) -> float | None:
        return _rate(self.deadlines_met, self.deadlines_judged)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def lock_by_id(session: Session, ticket_id: int) -> Ticket | None:
    """The ticket, locked for this transaction (a no-op on SQLite)."""
    return session.scalar(select(Ticket).where(Ticket.id == ticket_id).with_for_update())


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


def todo(
    session: Session,
    role: str,
    staff_id: int,
    department_id: int | None,
    limit: int,
    now: datetime,
) -> Page:
    """The sender's open tickets by urgency: reported gas leaks first, then by the nearest
    running deadline. A ticket with no running clock counts as due now: it never sinks below
    one due in three weeks."""
    return _by_nearest_deadline(session, todo_filter(role, staff_id, department_id), limit, now)


def overdue(session: Session, now: datetime, limit: int) -> Page:
    """Tickets with a running deadline already past, the longest overdue first."""
    late = select(Deadline.ticket_id).where(Deadline.state == "running", Deadline.due_at < now)
    return _by_nearest_deadline(session, Ticket.id.in_(late), limit, now)


def _by_nearest_deadline(
    session: Session, where: ColumnElement[bool], limit: int, now: datetime
) -> Page:
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
        .order_by(
            Ticket.urgent.desc(),
            func.coalesce(nearest.c.due, literal(now, UTCDateTime())),
            Ticket.id,
        )
        .limit(limit)
        .options(selectinload(Ticket.deadlines))
    )
    tickets = list(session.scalars(statement))
    total = session.scalar(select(func.count(Ticket.id)).where(where)) or 0
    return Page(tickets=tickets, total=total)


# --- 统计 ----------------------------------------------------------------------------------


def period_bounds(period: str, now: datetime, timezone: str) -> tuple[datetime, datetime]:
    """[start, now] of 今日 / 本周 (from Monday) / 本月 in the utility's time zone."""
    local = now.astimezone(ZoneInfo(timezone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "today":
        return midnight, now
    if period == "week":
        return midnight - timedelta(days=local.weekday()), now
    if period == "month":
        return midnight.replace(day=1), now
    raise ValueError(f"unknown period {period!r}")


def figures(session: Session, start: datetime, end: datetime, now: datetime) -> Figures:
    received, completed = _received_and_completed(session, start, end)
    callbacks, satisfied = _callbacks(session, start, end)
    judged, met = _deadlines(session, start, end, now)
    return Figures(
        start=start,
        end=end,
        received=received,
        completed=completed,
        callbacks=callbacks,
        satisfied=satisfied,
        deadlines_judged=judged,
        deadlines_met=met,
        open_now=open_count(session),
        overdue_now=overdue_count(session, now),
        returns=_events(session, RETURN_EVENT, start, end),
    )


def _events(session: Session, kind: str, start: datetime, end: datetime) -> int:
    statement = select(func.count(TicketEvent.id)).where(
        TicketEvent.kind == kind, TicketEvent.created_at >= start, TicketEvent.created_at < end
    )
    return session.scalar(statement) or 0


def _received_and_completed(session: Session, start: datetime, end: datetime) -> tuple[int, int]:
    in_period = (
        (Ticket.created_at >= start) & (Ticket.created_at < end) & (Ticket.status != "invalid")
    )
    done = func.count(Ticket.id).filter(Ticket.status.in_(COMPLETED_STATUSES))
    row = session.execute(select(func.count(Ticket.id), done).where(in_period)).one()
    return row[0], row[1]


def _callbacks(session: Session, start: datetime, end: datetime) -> tuple[int, int]:
    """满意率 = satisfied call-backs / call-backs: the 回访 outcomes recorded as events."""
    kinds = (SATISFIED_EVENT, UNSATISFIED_EVENT)
    satisfied = func.count(TicketEvent.id).filter(TicketEvent.kind == SATISFIED_EVENT)
    statement = select(func.count(TicketEvent.id), satisfied).where(
        TicketEvent.kind.in_(kinds), TicketEvent.created_at >= start, TicketEvent.created_at < end
    )
    row = session.execute(statement).one()
    return row[0], row[1]


def _deadlines(session: Session, start: datetime, end: datetime, now: datetime) -> tuple[int, int]:
    """按时率: the clocks that came due in the period (a clock still running when it is due
    counts as late); clocks stopped early whose due moment is still ahead, and superseded
    ones (extended, cancelled by 退单), are not judged."""
    came_due = (
        Deadline.state.in_(("met", "late", "running"))
        & (Deadline.due_at >= start)
        & (Deadline.due_at < min(end, now))
    )
    met = func.count(Deadline.id).filter(Deadline.state == "met")
    judged, kept = session.execute(select(func.count(Deadline.id), met).where(came_due)).one()
    return judged, kept


def open_count(session: Session) -> int:
    """Tickets not yet archived or invalid (call-back pending included)."""
    return (
        session.scalar(select(func.count(Ticket.id)).where(Ticket.status.in_(OFFICER_STATUSES)))
        or 0
    )


def overdue_count(session: Session, now: datetime) -> int:
    statement = select(func.count(distinct(Deadline.ticket_id))).where(
        Deadline.state == "running", Deadline.due_at < now
    )
    return session.scalar(statement) or 0


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
