"""SLA clocks of a ticket in the database (PRODUCT §4); the arithmetic is in models.core.sla."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy.orm import Session

from bot.settings import Settings
from models.core import sla
from models.core.workcalendar import CalendarConfig, WorkCalendar
from models.ticket.tables import Deadline, Ticket

BREACH = "breach"
ESCALATE = "escalate"


@dataclass(frozen=True)
class Stage:
    name: str  # remind:0.5 | remind:0.8 | breach | escalate
    at: datetime


@dataclass(frozen=True)
class DeadlinePolicy:
    """The SLA limits and the working-day calendar, built once per process."""

    sla: sla.SlaPolicy
    calendar: WorkCalendar
    timezone: str

    @classmethod
    def from_settings(cls, settings: Settings) -> DeadlinePolicy:
        config = settings.sla
        policy = sla.SlaPolicy(
            route_minutes=config.route_minutes,
            investigate_hours=config.investigate_hours,
            resolve_workdays_general=config.resolve_workdays_general,
            resolve_workdays_complex=config.resolve_workdays_complex,
            callback_hours=config.callback_hours,
            remind_at=tuple(config.remind_at),
        )
        return cls(
            sla=policy,
            calendar=WorkCalendar(_calendar_config(settings)),
            timezone=settings.app.timezone,
        )

    def stages(self, clock: str, started_at: datetime, due_at: datetime) -> list[Stage]:
        """The alerts of one clock in time order: reminders, the breach, then the leader's
        escalation one working day after the breach (PRODUCT §4)."""
        deadline = sla.Deadline(clock, started_at, due_at)
        stages = [
            Stage(f"remind:{fraction:g}", at)
            for fraction, at in sla.reminder_times(deadline, self.sla.remind_at)
            if fraction < 1
        ]
        stages.append(Stage(BREACH, due_at))
        escalate_at, _ = self.calendar.add_workdays(due_at, 1)
        stages.append(Stage(ESCALATE, escalate_at))
        return stages

    def compute(self, clock: str, started_at: datetime, severity: str) -> sla.Deadline:
        if clock == sla.ROUTE:
            return sla.route_deadline(started_at, self.sla, self.timezone)
        if clock == sla.INVESTIGATE:
            return sla.investigate_deadline(started_at, self.sla, self.timezone)
        if clock == sla.RESOLVE:
            return sla.resolve_deadline(started_at, severity, self.sla, self.calendar)
        if clock == sla.CALLBACK:
            return sla.callback_deadline(started_at, self.sla, self.timezone)
        raise ValueError(f"unknown clock {clock!r}")


def _calendar_config(settings: Settings) -> CalendarConfig:
    config = settings.calendar
    hours, minutes = (int(part) for part in config.workday_start.split(":"))
    return CalendarConfig(
        workday_start=time(hours, minutes),
        timezone=settings.app.timezone,
        extra_holidays=frozenset(_date(d) for d in config.extra_holidays),
        extra_workdays=frozenset(_date(d) for d in config.extra_workdays),
        configured_years=frozenset(int(y) for y in config.configured_years),
    )


def _date(value):
    from datetime import date

    return value if isinstance(value, date) else date.fromisoformat(str(value))


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
    computed = sla.extended_deadline(now, workdays, policy.calendar)
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
    return row
