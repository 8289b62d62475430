"""Praise, criticism, breaches, ratings and published notices per person (表扬、批评、超时、
通报), by SQL aggregates.

A rating, and the praise or criticism it led to, is credited to the person recorded on it
when it was given (the ticket's handler or the business record's staff member then), not to
whoever holds the ticket now; a breach to each person recorded as responsible at the breach.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from models.core.figures import EVERYTHING, Period, PersonFigures, Scope
from models.figures.sources import in_period
from models.people.tables import Department, Staff
from models.rating.tables import Rating, RatingNotice, RatingRecord
from models.ticket.tables import SlaBreach, Ticket


def people(
    session: Session, period: Period, scope: Scope = EVERYTHING, *, low_at_or_below: int = 3
) -> list[PersonFigures]:
    """Everyone with a record in the period, most criticised and breached first."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for staff_id, kind, count in _records(session, period, scope):
        counts[staff_id][kind] = count
    for staff_id, count in _breaches(session, period, scope):
        counts[staff_id]["breaches"] = count
    for staff_id, count, total, low in _ratings(session, period, scope, low_at_or_below):
        counts[staff_id].update(ratings=count, stars_total=total or 0, low_ratings=low)
    for staff_id, kind, count in _notices(session, period, scope):
        counts[staff_id][f"notices_{kind}"] = count
    names = _staff(session, counts.keys())
    result = [
        PersonFigures(staff_id, *names.get(staff_id, (f"#{staff_id}", "")), **values)
        for staff_id, values in counts.items()
    ]
    return sorted(result, key=lambda p: (-p.criticism - p.breaches, -p.low_ratings, p.name))


def _by_ticket(scope: Scope) -> bool:
    """Whether the scope needs the ticket a record is about (to join it only then)."""
    return any(value is not None for value in (scope.appeal_type, scope.channel, scope.severity))


def _ticket_scope(scope: Scope, staff_id, department_id) -> list[ColumnElement[bool]]:
    wanted = [
        (staff_id, scope.staff_id),
        (department_id, scope.department_id),
        (Ticket.appeal_type, scope.appeal_type),
        (Ticket.source_channel, scope.channel),
        (Ticket.severity, scope.severity),
    ]
    return [column == value for column, value in wanted if value is not None]


# The praise, criticism and breach records a person is counted by. The counts below and the
# ticket list behind each count (`record_tickets`) are built from these same pieces, so a
# number and its list cannot disagree.
RECORD_KINDS = ("praise", "criticism", "breach")


def _rating_records(statement: Select, period: Period, scope: Scope, *, ticket: bool) -> Select:
    """Praise and criticism records (表扬、批评) made in the period, within the scope; with
    `ticket`, joined to their rating so its ticket can be selected."""
    statement = statement.join(Staff, Staff.id == RatingRecord.staff_id).where(
        in_period(RatingRecord.created_at, period),
        *_ticket_scope(scope, RatingRecord.staff_id, Staff.department_id),
    )
    if ticket or _by_ticket(scope):
        statement = statement.join(Rating, Rating.id == RatingRecord.rating_id)
    if _by_ticket(scope):
        statement = statement.join(Ticket, Ticket.id == Rating.ticket_id)
    return statement


def _sla_breaches(statement: Select, period: Period, scope: Scope) -> Select:
    """Breaches (超时记录) in the period, within the scope, each credited to its person."""
    statement = statement.join(Staff, Staff.id == SlaBreach.staff_id).where(
        in_period(SlaBreach.breached_at, period),
        *_ticket_scope(scope, SlaBreach.staff_id, Staff.department_id),
    )
    if _by_ticket(scope):
        statement = statement.join(Ticket, Ticket.id == SlaBreach.ticket_id)
    return statement


def _records(session: Session, period: Period, scope: Scope):
    statement = select(RatingRecord.staff_id, RatingRecord.kind, func.count()).group_by(
        RatingRecord.staff_id, RatingRecord.kind
    )
    return session.execute(_rating_records(statement, period, scope, ticket=False)).all()


def _breaches(session: Session, period: Period, scope: Scope):
    statement = select(SlaBreach.staff_id, func.count()).group_by(SlaBreach.staff_id)
    return session.execute(_sla_breaches(statement, period, scope)).all()


def record_tickets(kind: str, period: Period, scope: Scope) -> ColumnElement[bool]:
    """A condition on tickets: those behind one kind of record (the dashboard's people links).

    The figures count records, the list shows tickets: a ticket with two of a person's
    breaches is listed once, and a praise or criticism of a rating without a ticket (a
    business record's or the service's) is not listed at all.
    """
    if kind == "breach":
        behind = _sla_breaches(select(SlaBreach.ticket_id), period, scope)
    elif kind in ("praise", "criticism"):
        behind = _rating_records(
            select(Rating.ticket_id).select_from(RatingRecord), period, scope, ticket=True
        ).where(RatingRecord.kind == kind, Rating.ticket_id.is_not(None))
    else:
        raise ValueError(f"unknown record kind {kind!r}")
    return Ticket.id.in_(behind)


def _ratings(session: Session, period: Period, scope: Scope, low: int):
    statement = (
        select(
            Rating.staff_id,
            func.count(),
            func.sum(Rating.stars),
            func.count().filter(Rating.stars <= low),
        )
        .join(Staff, Staff.id == Rating.staff_id)
        .where(
            in_period(Rating.created_at, period),
            *_ticket_scope(scope, Rating.staff_id, Staff.department_id),
        )
        .group_by(Rating.staff_id)
    )
    if _by_ticket(scope):
        statement = statement.join(Ticket, Ticket.id == Rating.ticket_id)
    return session.execute(statement).all()


def _notices(session: Session, period: Period, scope: Scope):
    """Published notices (通报) per person and kind, by their publication time."""
    statement = (
        select(RatingNotice.staff_id, RatingNotice.kind, func.count())
        .join(Staff, Staff.id == RatingNotice.staff_id)
        .where(
            RatingNotice.status == "published",
            in_period(RatingNotice.published_at, period),
            *_ticket_scope(scope, RatingNotice.staff_id, Staff.department_id),
        )
        .group_by(RatingNotice.staff_id, RatingNotice.kind)
    )
    if _by_ticket(scope):
        statement = statement.join(Rating, Rating.id == RatingNotice.rating_id).join(
            Ticket, Ticket.id == Rating.ticket_id
        )
    return session.execute(statement).all()


def _staff(session: Session, ids) -> dict[int, tuple[str, str]]:
    ids = list(ids)
    if not ids:
        return {}
    statement = (
        select(Staff.id, Staff.name, Department.name)
        .outerjoin(Department, Department.id == Staff.department_id)
        .where(Staff.id.in_(ids))
    )
    return {
        staff_id: (name, department or "")
        for staff_id, name, department in session.execute(statement)
    }
