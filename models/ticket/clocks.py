"""SLA clocks of a ticket in the database (PRODUCT §4): start, stop, restart and extend.

The limits and alert times are the pure `models.core.deadline_policy`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models.core import sla
from models.core.deadline_policy import DeadlinePolicy
from models.core.labels import CLOCK_LABELS
from models.core.workflow import Actor
from models.ticket import timeline
from models.ticket.tables import Deadline, DeadlineAlert, Ticket


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


def stop(ticket: Ticket, clock: str, now: datetime) -> Deadline | None:
    """Stop a running clock, judged met or late; the clock it stopped (None: none ran)."""
    current = running(ticket, clock)
    if current is not None:
        _end(current, "met" if now <= current.due_at else "late", now)
    return current


def cancel(ticket: Ticket, clock: str, now: datetime) -> None:
    """End a running clock without judging it (superseded): it no longer applies."""
    current = running(ticket, clock)
    if current is not None:
        _end(current, "superseded", now)


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
        workdays=computed.workdays,
        state="running",
        next_alert_at=first_alert,
    )
    ticket.deadlines.append(row)
    session.add(row)
    if computed.clock == sla.RESOLVE and ticket.rounds == 0:
        ticket.completion_due_at = computed.due_at  # the first round's deadline (figures)
    return row


# --- a calendar change ---------------------------------------------------------------------

RECOUNTED = "deadline_recounted"


@dataclass(frozen=True)
class Recount:
    """A running deadline counted again: where it was due and where it is due now."""

    ticket_number: str
    clock: str
    old_due: datetime
    old_provisional: bool
    new_due: datetime
    new_provisional: bool


def touching_years(session: Session, years: set[int], timezone: str) -> list[Deadline]:
    """Running working-day deadlines whose count may cross one of `years` (started before the
    year's end and due after its start, a week's margin each side for long holidays)."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(date(min(years), 1, 1), time(), zone) - timedelta(days=7)
    end = datetime.combine(date(max(years) + 1, 1, 1), time(), zone)
    statement = (
        select(Deadline)
        .where(
            Deadline.state == "running",
            Deadline.clock == sla.RESOLVE,
            Deadline.started_at < end,
            Deadline.due_at >= start,
        )
        .order_by(Deadline.id)
        .options(selectinload(Deadline.ticket))
    )
    return list(session.scalars(statement))


def recount(
    session: Session,
    years: set[int],
    policy: DeadlinePolicy,
    actor: Actor,
    reason: str,
    now: datetime,
) -> list[Recount]:
    """Count again each running working-day deadline the changed years touch, on `policy`'s
    calendar; a deadline that moves (or stops being provisional) is updated in place, its
    next alert set again, and the change recorded on the ticket's timeline."""
    moved = []
    for deadline in touching_years(session, years, policy.timezone):
        change = _recount_one(session, deadline, policy, now)
        if change is not None:
            text = f"{reason}：{describe(change, policy.timezone)}"
            ticket = deadline.ticket
            timeline.record(session, ticket, RECOUNTED, actor, text, now, from_status=ticket.status)
            moved.append(change)
    return moved


def _recount_one(
    session: Session, deadline: Deadline, policy: DeadlinePolicy, now: datetime
) -> Recount | None:
    workdays = deadline.workdays or sla.resolve_workdays(deadline.ticket.severity, policy.sla)
    computed = policy.recounted(deadline.started_at, workdays)
    if computed.due_at == deadline.due_at and computed.provisional == deadline.provisional:
        return None
    change = Recount(
        ticket_number=deadline.ticket.number,
        clock=deadline.clock,
        old_due=deadline.due_at,
        old_provisional=deadline.provisional,
        new_due=computed.due_at,
        new_provisional=computed.provisional,
    )
    deadline.due_at, deadline.provisional = computed.due_at, computed.provisional
    deadline.workdays = workdays
    deadline.next_alert_at = _next_unclaimed(session, deadline, policy)
    return change


def _next_unclaimed(
    session: Session, deadline: Deadline, policy: DeadlinePolicy
) -> datetime | None:
    """The first alert of the new stages not yet sent (a stage already sent is not repeated)."""
    claimed = set(
        session.scalars(select(DeadlineAlert.stage).where(DeadlineAlert.deadline_id == deadline.id))
    )
    stages = policy.stages(deadline.clock, deadline.started_at, deadline.due_at)
    return next((stage.at for stage in stages if stage.name not in claimed), None)


def describe(change: Recount, timezone: str) -> str:
    """E.g. 办结时限由 01-08 08:30（暂定）调整为 01-11 08:30."""
    zone = ZoneInfo(timezone)
    label = CLOCK_LABELS.get(change.clock, change.clock)

    def when(moment: datetime, provisional: bool) -> str:
        return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}" + ("（暂定）" if provisional else "")

    old = when(change.old_due, change.old_provisional)
    new = when(change.new_due, change.new_provisional)
    if change.old_due == change.new_due:
        return f"{label}时限 {new} 不变，已按录入的日历确认"
    return f"{label}时限由 {old}{'' if old.endswith('）') else ' '}调整为 {new}"


def provisional_running(session: Session, limit: int = 200) -> list[Deadline]:
    """Running deadlines counted on a provisional calendar, the soonest due first."""
    statement = (
        select(Deadline)
        .where(Deadline.state == "running", Deadline.provisional.is_(True))
        .order_by(Deadline.due_at)
        .limit(limit)
        .options(selectinload(Deadline.ticket))
    )
    return list(session.scalars(statement))
