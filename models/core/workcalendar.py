"""Working-day calendar (工作日历) for SLA deadlines.

Pure code: stdlib, ``chinese_calendar`` and ``holidays`` only.

Sources for a date, in order:

0. A schedule entered by the office for that year (``CalendarConfig.entered``, stored in the
   database): its holidays are off, its make-up days on, other days by weekday. It overrides
   everything below (decision: the office may correct even an official year, as when the
   State Council extended the 2020 Spring Festival).
1. ``chinese_calendar`` - the official calendar with 调休 (make-up working days). It raises
   ``NotImplementedError`` for years it has no data for (e.g. 2027).
2. A year listed in ``CalendarConfig.configured_years``: weekends are off, ``extra_holidays``
   are off, ``extra_workdays`` (make-up days) are on.
3. Otherwise a *provisional* fallback: weekends and ``holidays.China`` dates are off,
   ``extra_holidays`` are off, ``extra_workdays`` are on, and the answer is flagged provisional.

For an official year the config lists are ignored: the official calendar wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays

DEFAULT_TIMEZONE = "Asia/Shanghai"

OFFICIAL = "official"
CONFIGURED = "configured"
PROVISIONAL = "provisional"

# Safety bound when looking for the next working day: no real calendar has a longer break.
_MAX_DAYS_TO_NEXT_WORKDAY = 60


def to_local(moment: datetime, timezone: str = DEFAULT_TIMEZONE) -> datetime:
    """Convert an aware datetime to the utility's zone; naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"aware datetime required, got naive {moment!r}")
    return moment.astimezone(ZoneInfo(timezone))


# Where a year's rules come from (the calendar page shows it beside the status).
SOURCE_ENTERED = "entered"  # the office's schedule in the database
SOURCE_PACKAGE = "package"  # chinese_calendar
SOURCE_CONFIG = "config"  # config.toml [calendar]
SOURCE_FALLBACK = "fallback"  # weekends and statutory holidays


def _check_disjoint(holidays: frozenset[date], workdays: frozenset[date]) -> None:
    both = holidays & workdays
    if both:
        listed = ", ".join(sorted(d.isoformat() for d in both))
        raise ValueError(f"dates listed both as holiday and as workday: {listed}")


@dataclass(frozen=True)
class YearSchedule:
    """One year's holidays and make-up working days (调休) as entered by the office."""

    year: int
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        for name in ("holidays", "workdays"):
            object.__setattr__(self, name, frozenset(getattr(self, name)))
        _check_disjoint(self.holidays, self.workdays)
        strays = sorted(d for d in self.holidays | self.workdays if d.year != self.year)
        if strays:
            raise ValueError(f"dates outside {self.year}: {', '.join(map(str, strays))}")


@dataclass(frozen=True)
class CalendarConfig:
    """Calendar settings; the date sets come from ``config.toml``, ``entered`` from the
    database (one schedule per year, overriding the rest for that year)."""

    workday_start: time = time(8, 30)
    extra_holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    configured_years: frozenset[int] = frozenset()
    timezone: str = DEFAULT_TIMEZONE
    entered: tuple[YearSchedule, ...] = ()

    def __post_init__(self) -> None:
        for name in ("extra_holidays", "extra_workdays", "configured_years"):
            object.__setattr__(self, name, frozenset(getattr(self, name)))
        object.__setattr__(self, "entered", tuple(self.entered))
        _check_disjoint(self.extra_holidays, self.extra_workdays)
        ZoneInfo(self.timezone)  # fail early on an unknown zone


@dataclass(frozen=True)
class _YearRules:
    status: str
    source: str
    off_days: frozenset[date] = field(default_factory=frozenset)
    on_days: frozenset[date] = field(default_factory=frozenset)


def _chinese_calendar_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _statutory_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.China(years=year).keys())


class WorkCalendar:
    """Answers "is this a working day?" and adds working days to a moment."""

    def __init__(self, config: CalendarConfig) -> None:
        self.config = config
        self.zone = ZoneInfo(config.timezone)
        self._years: dict[int, _YearRules] = {}
        self._entered = {schedule.year: schedule for schedule in config.entered}

    def _rules(self, year: int) -> _YearRules:
        rules = self._years.get(year)
        if rules is None:
            rules = self._build_rules(year)
            self._years[year] = rules
        return rules

    def _build_rules(self, year: int) -> _YearRules:
        entered = self._entered.get(year)
        if entered is not None:
            return _YearRules(CONFIGURED, SOURCE_ENTERED, entered.holidays, entered.workdays)
        if _chinese_calendar_knows(year):
            return _YearRules(OFFICIAL, SOURCE_PACKAGE)
        config = self.config
        if year in config.configured_years:
            return _YearRules(
                CONFIGURED, SOURCE_CONFIG, config.extra_holidays, config.extra_workdays
            )
        off = config.extra_holidays | _statutory_holidays(year)
        return _YearRules(PROVISIONAL, SOURCE_FALLBACK, off, config.extra_workdays)

    def year_status(self, year: int) -> str:
        """``"official"`` | ``"configured"`` | ``"provisional"`` (for the health check)."""
        return self._rules(year).status

    def year_source(self, year: int) -> str:
        """Where the year's rules come from: entered | package | config | fallback."""
        return self._rules(year).source

    def is_provisional(self, d: date) -> bool:
        """True when the answer for ``d`` comes from the provisional fallback."""
        return self._rules(d.year).status == PROVISIONAL

    def is_workday(self, d: date) -> bool:
        rules = self._rules(d.year)
        if rules.source == SOURCE_PACKAGE:
            return chinese_calendar.is_workday(d)
        if d in rules.on_days:
            return True
        if d in rules.off_days:
            return False
        return d.weekday() < 5

    def _next_workday(self, d: date) -> tuple[date, bool]:
        """First working day strictly after ``d``; True if any day looked at was provisional."""
        provisional = False
        for step in range(1, _MAX_DAYS_TO_NEXT_WORKDAY + 1):
            candidate = d + timedelta(days=step)
            provisional = provisional or self.is_provisional(candidate)
            if self.is_workday(candidate):
                return candidate, provisional
        raise ValueError(f"no working day within {_MAX_DAYS_TO_NEXT_WORKDAY} days after {d}")

    def add_workdays(self, start: datetime, n: int) -> tuple[datetime, bool]:
        """Due moment ``n`` working days after ``start``, and whether it is provisional.

        N working days end at the same time of day on the Nth working day after the day of
        assignment. An assignment on a non-working day counts as made at ``workday_start`` of
        the next working day. ``start`` is converted to the calendar's zone first.
        """
        if n < 0:
            raise ValueError(f"working days must be >= 0, got {n}")
        local = to_local(start, self.config.timezone)
        day = local.date()
        provisional = self.is_provisional(day)
        clock_time = local.time()
        if not self.is_workday(day):
            day, looked = self._next_workday(day)
            provisional = provisional or looked
            clock_time = self.config.workday_start
        for _ in range(n):
            day, looked = self._next_workday(day)
            provisional = provisional or looked
        due = datetime.combine(day, clock_time, tzinfo=self.zone)
        return due, provisional
