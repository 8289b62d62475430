"""The rows behind each figure, as SQL (统计口径 in `models.core.figures.DEFINITIONS`).

A source is one SELECT of the rows a family of figures counts: the tickets received in a
period, the call-back answers given in it, the clocks that came due in it… Each row carries
its ticket, the moment that puts it in a period (`at`), the dimensions a figure can be
broken down by, and the flags the figures count. The aggregates (`models.figures.compute`)
count its rows; the drill-down (`tickets_behind`) selects the tickets of the same rows, so a
number and the list behind it cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, literal, null, select
from sqlalchemy.orm import aliased

from models.core.figures import EVERYTHING, OPEN_STATUSES, RETURN_EVENT, Period, Scope
from models.people.tables import Staff
from models.rating.tables import Rating
from models.ticket.tables import Deadline, Ticket, TicketEvent

DIMENSION_COLUMNS = ("department", "appeal_type", "channel", "severity", "person")


def responsible_department() -> ColumnElement:
    """承办部门, or 受理部门 while nobody handles the ticket yet."""
    return func.coalesce(Ticket.handling_department_id, Ticket.receiving_department_id)


def ticket_dimensions(person: ColumnElement | None = None) -> dict[str, ColumnElement]:
    return {
        "department": responsible_department(),
        "appeal_type": Ticket.appeal_type,
        "channel": Ticket.source_channel,
        "severity": Ticket.severity,
        "person": Ticket.handler_id if person is None else person,
    }


def in_period(column, period: Period) -> ColumnElement[bool]:
    return and_(column >= period.start, column < period.end)


def scoped(dimensions: dict[str, ColumnElement], scope: Scope) -> list[ColumnElement[bool]]:
    """The conditions that keep a source's rows to a scope."""
    wanted = {
        "department": scope.department_id,
        "appeal_type": scope.appeal_type,
        "channel": scope.channel,
        "severity": scope.severity,
        "person": scope.staff_id,
    }
    return [dimensions[name] == value for name, value in wanted.items() if value is not None]


def _select(dimensions: dict[str, ColumnElement], ticket_id, at, **flags: ColumnElement) -> Select:
    columns = [ticket_id.label("ticket_id"), at.label("at")]
    columns += [dimensions[name].label(name) for name in DIMENSION_COLUMNS]
    columns += [value.label(name) for name, value in flags.items()]
    return select(*columns)


# --- sources -------------------------------------------------------------------------------


def intake(period: Period, scope: Scope, now: datetime) -> Select:
    """Tickets received (登记) in the period: received, invalid, repeats, accountability."""
    dims = ticket_dimensions()
    return _select(
        dims,
        Ticket.id,
        Ticket.created_at,
        invalid=Ticket.status == "invalid",
        repeat=Ticket.repeat_flag,
        accountability=Ticket.accountability_flag,
    ).where(in_period(Ticket.created_at, period), *scoped(dims, scope))


def due(period: Period, scope: Scope, now: datetime) -> Select:
    """Valid tickets due to be completed in the period (办结率's denominator): their first
    round's resolve deadline, as extended or escalated (`completion_due_at`), falls in it; a
    ticket never routed counts when it was received."""
    dims = ticket_dimensions()
    return _select(
        dims, Ticket.id, Ticket.completion_due_at, archived=Ticket.status == "archived"
    ).where(
        in_period(Ticket.completion_due_at, period),
        Ticket.status != "invalid",
        *scoped(dims, scope),
    )


def first_callbacks(period: Period, scope: Scope, now: datetime) -> Select:
    """Tickets whose first call-back was answered in the period (首次回访), credited to the
    person who had resolved the round."""
    dims = ticket_dimensions(person=Ticket.first_callback_staff_id)
    return _select(
        dims, Ticket.id, Ticket.first_callback_at, satisfied=Ticket.first_callback_satisfied
    ).where(in_period(Ticket.first_callback_at, period), *scoped(dims, scope))


def last_callbacks(period: Period, scope: Scope, now: datetime) -> Select:
    """Tickets whose latest call-back was answered in the period (最终满意率)."""
    dims = ticket_dimensions(person=Ticket.last_callback_staff_id)
    return _select(
        dims, Ticket.id, Ticket.last_callback_at, satisfied=Ticket.last_callback_satisfied
    ).where(in_period(Ticket.last_callback_at, period), *scoped(dims, scope))


def clocks(period: Period, scope: Scope, now: datetime, *, by_ticket: bool = True) -> Select:
    """SLA clocks of valid tickets that came due in the period (and are due by now); a clock
    replaced by 延期 or 升级 is left out, its successor counts. Without a scope and with
    `by_ticket` false the same rows are read from the clocks' index alone (no dimensions)."""
    due_by = min(period.end, now)
    window = (
        Deadline.state != "superseded",
        Deadline.due_at >= period.start,
        Deadline.due_at < due_by,
    )
    flags = {
        "clock": Deadline.clock,
        "met": Deadline.state == "met",
        "provisional": Deadline.provisional,
    }
    if not by_ticket and scope == EVERYTHING:
        invalid = select(Ticket.id).where(Ticket.status == "invalid")
        nothing = {name: null() for name in DIMENSION_COLUMNS}
        return _select(nothing, Deadline.ticket_id, Deadline.due_at, **flags).where(
            *window, Deadline.ticket_id.not_in(invalid)
        )
    dims = ticket_dimensions()
    return (
        _select(dims, Deadline.ticket_id, Deadline.due_at, **flags)
        .join(Ticket, Ticket.id == Deadline.ticket_id)
        .where(*window, Ticket.status != "invalid", *scoped(dims, scope))
    )


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    return exists().where(
        Deadline.ticket_id == Ticket.id, Deadline.state == "running", Deadline.due_at < now
    )


def backlog(period: Period, scope: Scope, now: datetime) -> Select:
    """Open tickets when the figures are taken, whatever the period (在办、超期)."""
    dims = ticket_dimensions()
    return _select(dims, Ticket.id, Ticket.created_at, overdue=overdue_condition(now)).where(
        Ticket.status.in_(OPEN_STATUSES), *scoped(dims, scope)
    )


def returns(period: Period, scope: Scope, now: datetime) -> Select:
    """退单 events in the period, credited to the person who returned the ticket."""
    dims = ticket_dimensions(person=TicketEvent.actor_staff_id)
    return (
        _select(dims, TicketEvent.ticket_id, TicketEvent.created_at)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(
            TicketEvent.kind == RETURN_EVENT,
            in_period(TicketEvent.created_at, period),
            *scoped(dims, scope),
        )
    )


def ratings(period: Period, scope: Scope, now: datetime) -> Select:
    """Star ratings given in the period (tickets, business records, the service), each
    credited to the person it was credited to when given."""
    credited = aliased(Staff)
    dims = {
        "department": func.coalesce(credited.department_id, responsible_department()),
        "appeal_type": Ticket.appeal_type,
        "channel": Ticket.source_channel,
        "severity": Ticket.severity,
        "person": Rating.staff_id,
    }
    return (
        _select(dims, Rating.ticket_id, Rating.created_at, stars=Rating.stars)
        .select_from(Rating)
        .outerjoin(Ticket, Ticket.id == Rating.ticket_id)
        .outerjoin(credited, credited.id == Rating.staff_id)
        .where(in_period(Rating.created_at, period), *scoped(dims, scope))
    )


Source = Callable[[Period, Scope, datetime], Select]


# --- drill-down ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Behind:
    """The rows of a source that one number counts."""

    source: Source
    condition: Callable[[object], ColumnElement[bool]] | None = None


def _flag(name: str) -> Callable[[object], ColumnElement[bool]]:
    return lambda columns: columns[name]


# Every number the dashboard shows, by name: what its link lists.
MEASURES: dict[str, Behind] = {
    "received": Behind(intake),
    "invalid": Behind(intake, _flag("invalid")),
    "valid": Behind(intake, lambda c: ~c["invalid"]),
    "repeats": Behind(intake, _flag("repeat")),
    "accountability": Behind(intake, _flag("accountability")),
    "due": Behind(due),
    "archived": Behind(due, _flag("archived")),
    "not_archived": Behind(due, lambda c: ~c["archived"]),
    "first_answered": Behind(first_callbacks),
    "first_satisfied": Behind(first_callbacks, _flag("satisfied")),
    "first_unsatisfied": Behind(first_callbacks, lambda c: ~c["satisfied"]),
    "final_answered": Behind(last_callbacks),
    "final_satisfied": Behind(last_callbacks, _flag("satisfied")),
    "clocks_due": Behind(clocks),
    "clocks_late": Behind(clocks, lambda c: ~c["met"]),
    "open": Behind(backlog),
    "overdue": Behind(backlog, _flag("overdue")),
    "returns": Behind(returns),
    "rated": Behind(ratings),
}


def tickets_behind(
    measure: str,
    period: Period,
    scope: Scope,
    now: datetime,
    *,
    clock: str | None = None,
    stars: int | None = None,
) -> ColumnElement[bool]:
    """A condition on tickets: exactly those behind one number (the dashboard's links)."""
    behind = MEASURES.get(measure)
    if behind is None:
        raise ValueError(f"unknown measure {measure!r}")
    rows = behind.source(period, scope, now).subquery()
    conditions = [behind.condition(rows.c)] if behind.condition else []
    if clock is not None:
        conditions.append(rows.c.clock == clock if "clock" in rows.c else false())
    if stars is not None:
        conditions.append(rows.c.stars == stars if "stars" in rows.c else false())
    return Ticket.id.in_(select(rows.c.ticket_id).where(literal(True), *conditions))
