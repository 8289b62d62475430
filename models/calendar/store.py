"""The office's working-day calendar in the database: reading it for the runtime, entering a
year's schedule (by the /calendar page or `bihuan calendar import`), and what follows.

Entering or removing a year replaces that year's days, bumps the version every process checks
(`bot.policies.LivePolicy`), writes the audit entry, and counts again the running working-day
deadlines that the year touches, recording each one that moved on its ticket's timeline
(`models.ticket.clocks.recount`). Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from models.audit import log as audit
from models.calendar.tables import CalendarDay, CalendarVersion, CalendarYear
from models.core.calendar_text import ListedDay, schedules_of
from models.core.deadline_policy import DeadlinePolicy
from models.core.workcalendar import WorkCalendar, YearSchedule
from models.ticket import clocks

VERSION_ROW = 1


def version(session: Session) -> int:
    """The calendar's version (0 before the first change)."""
    return (
        session.scalar(select(CalendarVersion.version).where(CalendarVersion.id == VERSION_ROW))
        or 0
    )


def _bump(session: Session, now: datetime) -> None:
    bumped = session.execute(
        update(CalendarVersion)
        .where(CalendarVersion.id == VERSION_ROW)
        .values(version=CalendarVersion.version + 1, changed_at=now)
    )
    if bumped.rowcount == 0:
        session.add(CalendarVersion(id=VERSION_ROW, version=1, changed_at=now))
    session.flush()


def load_entered(session: Session) -> tuple[YearSchedule, ...]:
    """Every entered year's schedule (a year entered with no days is weekends only)."""
    listed = [
        ListedDay(row.day, row.kind, row.note)
        for row in session.scalars(select(CalendarDay).order_by(CalendarDay.day))
    ]
    by_year = {schedule.year: schedule for schedule in schedules_of(listed)}
    years = session.scalars(select(CalendarYear.year).order_by(CalendarYear.year))
    return tuple(by_year.get(year, YearSchedule(year)) for year in years)


def listed_days(session: Session, year: int) -> list[ListedDay]:
    rows = session.scalars(
        select(CalendarDay).where(CalendarDay.year == year).order_by(CalendarDay.day)
    )
    return [ListedDay(row.day, row.kind, row.note) for row in rows]


def entered_year(session: Session, year: int) -> CalendarYear | None:
    return session.get(CalendarYear, year)


@dataclass(frozen=True)
class Change:
    """What entering or removing years did: the years and the deadlines that moved."""

    years: tuple[int, ...]
    moved: list[clocks.Recount]


def enter_years(
    session: Session,
    days: list[ListedDay],
    who: audit.Who,
    now: datetime,
    deadlines: DeadlinePolicy,
    *,
    source: str,
    years: set[int] | None = None,
) -> Change:
    """Make `days` the whole schedule of each year they name (and of `years`, which may be
    entered with no day listed); returns what moved."""
    years = sorted(set(years or ()) | {listed.day.year for listed in days})
    for year in years:
        _replace_year(session, year, [d for d in days if d.day.year == year], who, now, source)
    summary = "；".join(_summary(year, days) for year in years)
    audit.record(session, who, "calendar_change", now, target=f"calendar:{years}", detail=summary)
    return _after_change(session, years, who, now, deadlines)


def remove_year(
    session: Session, year: int, who: audit.Who, now: datetime, deadlines: DeadlinePolicy
) -> Change:
    """Forget an entered year: config.toml, the package or the provisional rule apply again."""
    session.execute(delete(CalendarDay).where(CalendarDay.year == year))
    session.execute(delete(CalendarYear).where(CalendarYear.year == year))
    audit.record(session, who, "calendar_remove", now, target=f"calendar:{year}")
    return _after_change(session, [year], who, now, deadlines)


def _replace_year(
    session: Session, year: int, days: list[ListedDay], who: audit.Who, now: datetime, source: str
) -> None:
    session.execute(delete(CalendarDay).where(CalendarDay.year == year))
    row = session.get(CalendarYear, year)
    if row is None:
        row = CalendarYear(year=year)
        session.add(row)
    row.source, row.entered_by, row.entered_at = source, who.name, now
    session.flush()
    session.add_all(
        CalendarDay(day=listed.day, year=year, kind=listed.kind, note=listed.note)
        for listed in days
    )


def _summary(year: int, days: list[ListedDay]) -> str:
    holidays = sum(1 for d in days if d.day.year == year and d.kind == "holiday")
    workdays = sum(1 for d in days if d.day.year == year and d.kind == "workday")
    return f"{year}年：放假{holidays}天，调休上班{workdays}天"


def _after_change(
    session: Session, years: list[int], who: audit.Who, now: datetime, deadlines: DeadlinePolicy
) -> Change:
    session.flush()
    _bump(session, now)
    updated = with_entered(deadlines, load_entered(session))
    reason = f"工作日历变更（{'、'.join(f'{year}年' for year in years)}）"
    moved = clocks.recount(session, set(years), updated, who.actor(_channel(who)), reason, now)
    return Change(tuple(years), moved)


def _channel(who: audit.Who) -> str:
    return "system" if who.address in ("cli", "system") else "web"


def with_entered(deadlines: DeadlinePolicy, entered: tuple[YearSchedule, ...]) -> DeadlinePolicy:
    """The same deadline policy on a calendar with these entered years."""
    config = replace(deadlines.calendar.config, entered=entered)
    return replace(deadlines, calendar=WorkCalendar(config))


@dataclass(frozen=True)
class YearView:
    """One year as the calendar page shows it."""

    year: int
    status: str  # official | configured | provisional
    source: str  # entered | package | config | fallback
    entry: CalendarYear | None
    days: list[ListedDay]


def year_view(session: Session, calendar: WorkCalendar, year: int) -> YearView:
    return YearView(
        year=year,
        status=calendar.year_status(year),
        source=calendar.year_source(year),
        entry=entered_year(session, year),
        days=listed_days(session, year),
    )
