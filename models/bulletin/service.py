"""Issuing a periodic bulletin (定期通报): take the figures of the period, freeze them in the
bulletin's row, and write a notification for each officer and leader.

Issuing is idempotent: a period has at most one bulletin of each kind (a unique key), so two
cron processes, or a cron that runs again, issue it once. The snapshot holds everything the
bulletin shows (figures against targets, the department ranking, overdue tickets, repeat
complaints, low ratings and each person's record); nothing is recomputed when it is read.
Phone numbers are not in it. Functions take a session and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from models.bulletin.tables import Bulletin
from models.core.figures import (
    DEFINITIONS,
    Period,
    Row,
    Targets,
    missed,
    named_period,
)
from models.core.labels import CLOCK_LABELS, STAR_LABELS
from models.core.payload import Payload
from models.figures import compute, people
from models.figures.sources import overdue_condition
from models.notification import outbox as notifications
from models.people.tables import Staff
from models.rating.tables import Rating
from models.ticket.tables import Deadline, Ticket

KINDS = {"weekly": ("last_week", "周"), "monthly": ("last_month", "月")}


@dataclass(frozen=True)
class BulletinConfig:
    """What a bulletin needs from the settings ([figures], [bulletin], [rating])."""

    timezone: str
    targets: Targets
    recipients: tuple[str, ...] = ("officer", "leader")
    list_limit: int = 20
    low_at_or_below: int = 3


def period_for(kind: str, now: datetime, timezone: str) -> Period:
    """The last complete week (Monday to Sunday) or month before `now`."""
    if kind not in KINDS:
        raise ValueError(f"unknown bulletin kind {kind!r}")
    return named_period(KINDS[kind][0], now, timezone)


def title_of(kind: str, period: Period, timezone: str) -> str:
    first, last = period.local_dates(timezone)
    if kind == "monthly":
        return f"{first.year}年{first.month}月投诉处理情况通报"
    return f"{first:%Y年%m月%d日}至{last:%m月%d日}投诉处理情况周通报"


def short_title(kind: str, period: Period, timezone: str) -> str:
    """What the push shows (a template's thing field holds at most 20 characters)."""
    first, last = period.local_dates(timezone)
    if kind == "monthly":
        return f"{first.year}年{first.month}月月度通报"
    return f"{first.month}月{first.day}日至{last.month}月{last.day}日周通报"


def issue(
    session: Session, kind: str, now: datetime, config: BulletinConfig
) -> tuple[Bulletin, bool]:
    """The bulletin of the last complete period; (bulletin, True) when issued now."""
    period = period_for(kind, now, config.timezone)
    existing = session.scalar(
        select(Bulletin).where(Bulletin.kind == kind, Bulletin.period_start == period.start)
    )
    if existing is not None:
        return existing, False
    bulletin = Bulletin(
        kind=kind,
        period_start=period.start,
        period_end=period.end,
        title=title_of(kind, period, config.timezone),
        content=snapshot(session, period, now, config),
        issued_at=now,
    )
    session.add(bulletin)
    session.flush()
    note = short_title(kind, period, config.timezone)
    payload = Payload(bulletin_id=bulletin.id, note=note, stage="定期通报")
    for role in config.recipients:
        for staff_id in notifications.recipient_staff_ids(session, role, None):
            notifications.notify_staff(session, staff_id, "bulletin", None, payload, now)
    return bulletin, True


def snapshot(session: Session, period: Period, now: datetime, config: BulletinConfig) -> dict:
    """Everything a bulletin shows, as JSON-ready values taken now."""
    figures = compute.figures(session, period, now)
    zone = ZoneInfo(config.timezone)
    first, last = period.local_dates(config.timezone)
    return {
        "period": {"first": first.isoformat(), "last": last.isoformat()},
        "taken_at": now.astimezone(zone).isoformat(),
        "figures": figures.to_json(),
        "targets": _targets(figures, config.targets),
        "definitions": {key: vars(value) for key, value in DEFINITIONS.items()},
        "departments": _ranking(compute.breakdown(session, period, now, "department")),
        "overdue": _overdue(session, now, zone, config.list_limit),
        "repeats": _repeats(session, period, zone, config.list_limit),
        "low_ratings": _low_ratings(session, period, zone, config),
        "people": [
            person.to_json()
            for person in people.people(session, period, low_at_or_below=config.low_at_or_below)
        ][: config.list_limit],
    }


def _targets(figures, targets: Targets) -> dict:
    rates = {
        "completion": (figures.completion_rate, targets.completion),
        "first_satisfaction": (figures.first_satisfaction_rate, targets.satisfaction),
        "on_time": (figures.on_time_rate, targets.on_time),
    }
    return {
        key: {"rate": value, "target": target, "missed": missed(value, target)}
        for key, (value, target) in rates.items()
    }


def _ranking(rows: list[Row]) -> list[dict]:
    """Departments, best first: first call-back satisfaction, completion, then on-time."""

    def score(row: Row) -> tuple:
        values = row.figures
        return tuple(
            -(rate if rate is not None else -1)
            for rate in (
                values.first_satisfaction_rate,
                values.completion_rate,
                values.on_time_rate,
            )
        )

    ranked = sorted(rows, key=lambda row: (score(row), row.label))
    return [
        {"rank": index, "department_id": row.key, "name": row.label, **_row_values(row)}
        for index, row in enumerate(ranked, start=1)
    ]


def _row_values(row: Row) -> dict:
    values = row.figures
    return {
        "received": values.received,
        "due": values.due,
        "archived": values.archived,
        "completion_rate": values.completion_rate,
        "first_answered": values.first_answered,
        "first_satisfied": values.first_satisfied,
        "first_satisfaction_rate": values.first_satisfaction_rate,
        "clocks_due": values.clocks_due,
        "clocks_met": values.clocks_met,
        "on_time_rate": values.on_time_rate,
        "open_now": values.open_now,
        "overdue_now": values.overdue_now,
        "returns": values.returns,
    }


def _overdue(session: Session, now: datetime, zone: ZoneInfo, limit: int) -> list[dict]:
    earliest = (
        select(func.min(Deadline.due_at))
        .where(Deadline.ticket_id == Ticket.id, Deadline.state == "running")
        .scalar_subquery()
    )
    statement = (
        select(Ticket)
        .where(overdue_condition(now))
        .order_by(earliest, Ticket.id)
        .limit(limit)
        .options(selectinload(Ticket.deadlines), selectinload(Ticket.handling_department))
    )
    result = []
    for ticket in session.scalars(statement):
        late = [d for d in ticket.deadlines if d.state == "running" and d.due_at < now]
        worst: Deadline = min(late, key=lambda d: d.due_at)
        result.append(
            {
                "number": ticket.number,
                "appeal_type": ticket.appeal_type,
                "matter": ticket.matter,
                "department": _name(ticket.handling_department),
                "handler": _name(ticket.handler),
                "clock": CLOCK_LABELS.get(worst.clock, worst.clock),
                "due_at": worst.due_at.astimezone(zone).isoformat(),
                "hours_late": round((now - worst.due_at).total_seconds() / 3600, 1),
                "provisional": worst.provisional,
            }
        )
    return sorted(result, key=lambda item: -item["hours_late"])


def _repeats(session: Session, period: Period, zone: ZoneInfo, limit: int) -> list[dict]:
    statement = (
        select(Ticket)
        .where(
            Ticket.repeat_flag.is_(True),
            Ticket.created_at >= period.start,
            Ticket.created_at < period.end,
        )
        .order_by(Ticket.accountability_flag.desc(), Ticket.id)
        .limit(limit)
    )
    return [
        {
            "number": ticket.number,
            "appeal_type": ticket.appeal_type,
            "matter": ticket.matter,
            "repeat_of": ticket.repeat_of.number if ticket.repeat_of else None,
            "accountability": ticket.accountability_flag,
            "department": _name(ticket.handling_department),
            "received_at": ticket.created_at.astimezone(zone).isoformat(),
        }
        for ticket in session.scalars(statement)
    ]


def _low_ratings(
    session: Session, period: Period, zone: ZoneInfo, config: BulletinConfig
) -> list[dict]:
    statement = (
        select(Rating, Staff.name, Ticket.number)
        .outerjoin(Staff, Staff.id == Rating.staff_id)
        .outerjoin(Ticket, Ticket.id == Rating.ticket_id)
        .where(
            Rating.stars <= config.low_at_or_below,
            Rating.created_at >= period.start,
            Rating.created_at < period.end,
        )
        .order_by(Rating.stars, Rating.id)
        .limit(config.list_limit)
    )
    return [
        {
            "stars": rating.stars,
            "label": STAR_LABELS[rating.stars],
            "comment": rating.comment,
            "target": rating.target,
            "number": number,
            "credited_to": name,
            "rated_at": rating.created_at.astimezone(zone).isoformat(),
        }
        for rating, name, number in session.execute(statement)
    ]


def _name(entity) -> str:
    return entity.name if entity is not None else ""
