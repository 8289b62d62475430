"""SLA deadlines (时限) for complaint tickets, see PRODUCT.md section 4.

Pure code: plain values in, plain values out, an explicit ``now``; no clock is read here.

Clocks:

- ``contact`` (第一时间联系): from received, wall clock; every ticket of every channel.
- ``route``: complex/major ticket to 综合管理部, from received, wall clock.
- ``investigate`` (调查): from assigned, wall clock.
- ``resolve`` (办结): from assigned, working days (1 for general, 5 for complex and major).
- ``callback`` (回访): from resolved, wall clock.

All returned datetimes are in the utility's zone (Asia/Shanghai by default).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from models.core.workcalendar import DEFAULT_TIMEZONE, WorkCalendar, to_local

CONTACT = "contact"
ROUTE = "route"
INVESTIGATE = "investigate"
RESOLVE = "resolve"
CALLBACK = "callback"

SEVERITIES = ("general", "complex", "major")


@dataclass(frozen=True)
class SlaPolicy:
    """``[sla]`` in config.toml: the time limits of PRODUCT §4. The defaults here are the
    policy's own and the only ones: the settings load this class directly."""

    contact_hours: int = 2
    route_minutes: int = 30
    investigate_hours: int = 2
    resolve_workdays_general: int = 1
    resolve_workdays_complex: int = 5  # complex and major
    callback_hours: int = 2
    remind_at: tuple[float, ...] = (0.5, 0.8)

    def __post_init__(self) -> None:
        for name in (
            "contact_hours",
            "route_minutes",
            "investigate_hours",
            "resolve_workdays_general",
            "resolve_workdays_complex",
            "callback_hours",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        object.__setattr__(self, "remind_at", tuple(float(f) for f in self.remind_at))
        _check_fractions(self.remind_at)


@dataclass(frozen=True)
class Deadline:
    clock: str  # "contact" | "route" | "investigate" | "resolve" | "callback"
    started_at: datetime
    due_at: datetime
    provisional: bool = False
    workdays: int | None = None  # working days counted (working-day clocks only)


def _check_fractions(fractions: Iterable[float]) -> None:
    for fraction in fractions:
        if not 0 < fraction <= 1:
            raise ValueError(f"reminder fraction must be in (0, 1], got {fraction}")


def _wall_clock(clock: str, start: datetime, limit: timedelta, timezone: str) -> Deadline:
    local = to_local(start, timezone)
    # Arithmetic in UTC so a zone with daylight saving would still get real elapsed time.
    due = (local.astimezone(UTC) + limit).astimezone(local.tzinfo)
    return Deadline(clock=clock, started_at=local, due_at=due)


def contact_deadline(
    received_at: datetime, policy: SlaPolicy, timezone: str = DEFAULT_TIMEZONE
) -> Deadline:
    """First contact with the complainant (第一时间联系) within ``contact_hours`` of receipt,
    wall clock: a complaint filed on Sunday night is due in the small hours of Monday."""
    limit = timedelta(hours=policy.contact_hours)
    return _wall_clock(CONTACT, received_at, limit, timezone)


def route_deadline(
    received_at: datetime, policy: SlaPolicy, timezone: str = DEFAULT_TIMEZONE
) -> Deadline:
    """Route a complex/major ticket to 综合管理部 within ``route_minutes`` of receipt."""
    return _wall_clock(ROUTE, received_at, timedelta(minutes=policy.route_minutes), timezone)


def investigate_deadline(
    assigned_at: datetime, policy: SlaPolicy, timezone: str = DEFAULT_TIMEZONE
) -> Deadline:
    """Investigate (调查) within ``investigate_hours`` of assignment, wall clock."""
    limit = timedelta(hours=policy.investigate_hours)
    return _wall_clock(INVESTIGATE, assigned_at, limit, timezone)


def callback_deadline(
    resolved_at: datetime, policy: SlaPolicy, timezone: str = DEFAULT_TIMEZONE
) -> Deadline:
    """Call the customer back (回访) within ``callback_hours`` of resolution, wall clock."""
    limit = timedelta(hours=policy.callback_hours)
    return _wall_clock(CALLBACK, resolved_at, limit, timezone)


def resolve_workdays(severity: str, policy: SlaPolicy) -> int:
    """Working days allowed to resolve a ticket of this severity."""
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r}, expected one of {SEVERITIES}")
    if severity == "general":
        return policy.resolve_workdays_general
    return policy.resolve_workdays_complex


def _workday_deadline(start: datetime, workdays: int, calendar: WorkCalendar) -> Deadline:
    due, provisional = calendar.add_workdays(start, workdays)
    local = to_local(start, calendar.config.timezone)
    return Deadline(
        clock=RESOLVE, started_at=local, due_at=due, provisional=provisional, workdays=workdays
    )


def resolve_deadline(
    assigned_at: datetime, severity: str, policy: SlaPolicy, calendar: WorkCalendar
) -> Deadline:
    """Resolve (办结) within 1 working day (general) or 5 (complex, major) of assignment."""
    return _workday_deadline(assigned_at, resolve_workdays(severity, policy), calendar)


def recounted_deadline(started_at: datetime, workdays: int, calendar: WorkCalendar) -> Deadline:
    """The same working-day deadline counted again, e.g. after the calendar changed."""
    return _workday_deadline(started_at, workdays, calendar)


def extended_deadline(approved_at: datetime, workdays: int, calendar: WorkCalendar) -> Deadline:
    """延期: a new resolve deadline counted from the officer's approval of the 书面说明.

    The original deadline is not touched; the caller keeps it in the record.
    """
    if workdays <= 0:
        raise ValueError(f"an extension needs at least one working day, got {workdays}")
    return _workday_deadline(approved_at, workdays, calendar)


def reminder_times(deadline: Deadline, fractions: Iterable[float]) -> list[tuple[float, datetime]]:
    """(fraction, when) for each reminder, ordered by fraction, duplicates dropped.

    Fractions lie in (0, 1]; 1 is the due moment itself. Every clock, including the
    working-day resolve clock, is interpolated in wall-clock time between ``started_at``
    and ``due_at`` (decision): simple and predictable for staff, at the price that a
    resolve reminder may fall on a holiday or at night when the span crosses one.
    """
    fractions = sorted(set(fractions))
    _check_fractions(fractions)
    start = deadline.started_at.astimezone(UTC)
    span = deadline.due_at.astimezone(UTC) - start
    zone = deadline.due_at.tzinfo
    return [(f, (start + span * f).astimezone(zone)) for f in fractions]


def is_overdue(deadline: Deadline, now: datetime) -> bool:
    """True once ``now`` is strictly after the due moment; at the due moment it is not yet."""
    to_local(now)  # refuse naive datetimes
    return now > deadline.due_at
