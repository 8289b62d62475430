"""Figures (统计口径): what each figure counts, written once, shown wherever it is shown.

Pure: periods, scopes, targets and the values the database layer (`models.figures`) fills in.
Every figure says its numerator, its denominator and which period a ticket counts in
(`DEFINITIONS`), so that figures can be compared with the 12345 practice.

Decisions where the issue is silent:
- A period is a half-open range [start, end) of local calendar time; "本周" starts on Monday.
- A ticket's department is its handling department (承办部门), or its receiving department
  while it has none (the same rule as the workflow's `responsible_department`).
- By person: ticket figures go to the ticket's handler (承办人); a call-back answer to the
  person who resolved the round it answers; ratings, praise and criticism to the person the
  rating was credited to when given (`ratings.staff_id`); breaches to the person recorded
  at the breach.
- Open and overdue counts are the backlog when the figures are taken, not a period's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from models.core.labels import CLOCKS

PERIOD_NAMES = ("today", "week", "month", "last_week", "last_month", "year")
PERIOD_LABELS = {
    "today": "今日",
    "week": "本周",
    "month": "本月",
    "last_week": "上周",
    "last_month": "上月",
    "year": "本年",
}
# Timeline event kinds the figures count (written by the workflow's moves).
SATISFIED_EVENT = "archived"  # 回访满意，归档
UNSATISFIED_EVENT = "reopened"  # 回访不满意，重办
RETURN_EVENT = "return"  # 退单 (the move of issue 9; aligned when merged)
OPEN_STATUSES = ("received", "assigned", "processing", "resolved")

DIMENSIONS = ("department", "appeal_type", "channel", "severity", "person")
DIMENSION_LABELS = {
    "department": "部门",
    "appeal_type": "诉求类型",
    "channel": "投诉来源",
    "severity": "严重程度",
    "person": "人员",
}


@dataclass(frozen=True)
class Definition:
    """The written definition of one figure (口径)."""

    label: str
    numerator: str
    denominator: str
    period: str


DEFINITIONS: dict[str, Definition] = {
    "received": Definition(
        "受理量", "受理的工单数（含无效）", "—", "按受理时间（工单登记时间）计入期间"
    ),
    "valid": Definition("有效投诉", "受理的工单中未被认定为无效的", "—", "按受理时间计入期间"),
    "invalid": Definition("无效投诉", "受理的工单中被认定为无效的", "—", "按受理时间计入期间"),
    "completion": Definition(
        "办结率",
        "应办结工单中已归档（回访满意、闭环）的",
        "应办结的有效工单：首轮办结时限落在期间内的工单；尚未派单的按受理时间计",
        "按首轮办结时限（经批准延期或升级后的时限）计入期间",
    ),
    "first_satisfaction": Definition(
        "首次回访满意率",
        "首次回访满意的工单",
        "首次回访已答复的工单（每件工单只计第一次回访）",
        "按第一次回访答复的时间计入期间",
    ),
    "final_satisfaction": Definition(
        "最终满意率",
        "最近一次回访满意的工单",
        "回访已答复的工单（每件工单只计最近一次回访）",
        "按最近一次回访答复的时间计入期间",
    ),
    "on_time": Definition(
        "按时率",
        "按时完成的时限（在到期前停止）",
        "到期的时限：到期时间落在期间内且已到期；因延期或升级被替代的时限不计，以新时限为准",
        "按时限的到期时间计入期间；每个时限（联系、转派、调查、办结、回访）分别计算",
    ),
    "open": Definition(
        "在办", "取数时尚未归档、未作废的工单（含待回访）", "—", "不分期间：取数时的存量"
    ),
    "overdue": Definition(
        "超期", "取数时有时限已过期仍在计时的工单", "—", "不分期间：取数时的存量"
    ),
    "returns": Definition("退单", "退单次数（一件工单可退多次）", "—", "按退单时间计入期间"),
    "repeats": Definition("重复投诉", "受理的工单中被标记为重复投诉的", "—", "按受理时间计入期间"),
    "accountability": Definition(
        "责任追究", "受理的工单中被标记为责任追究的", "—", "按受理时间计入期间"
    ),
    "stars": Definition(
        "星级评价", "各星级的评价条数；平均星级 = 星数之和 ÷ 评价条数", "—", "按评价时间计入期间"
    ),
    "praise": Definition(
        "表扬", "五星评价产生的表扬记录，记在评价时的承办人/业务负责人名下", "—", "按评价时间"
    ),
    "criticism": Definition(
        "批评", "低星评价产生的批评记录，记在评价时的承办人/业务负责人名下", "—", "按评价时间"
    ),
    "breaches": Definition(
        "超时记录", "时限超期时记在每位责任人名下的记录", "—", "按时限到期时间计入期间"
    ),
}


@dataclass(frozen=True)
class Period:
    """[start, end) in aware datetimes; `label` is what a reader sees."""

    start: datetime
    end: datetime
    label: str = ""

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a period needs aware datetimes")
        if self.end < self.start:
            raise ValueError("a period cannot end before it starts")

    def local_dates(self, timezone: str) -> tuple[date, date]:
        """The first and the last local day of the period (inclusive)."""
        zone = ZoneInfo(timezone)
        last = (self.end - timedelta(microseconds=1)).astimezone(zone).date()
        return self.start.astimezone(zone).date(), max(last, self.start.astimezone(zone).date())


def day_start(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(), tzinfo=ZoneInfo(timezone))


def between(first: date, last: date, timezone: str, label: str = "") -> Period:
    """The local days first..last, both included."""
    if last < first:
        raise ValueError("the last day is before the first")
    start, end = day_start(first, timezone), day_start(last + timedelta(days=1), timezone)
    return Period(start, end, label or f"{first:%Y-%m-%d} 至 {last:%Y-%m-%d}")


def named_period(name: str, now: datetime, timezone: str) -> Period:
    """今日 / 本周 (from Monday) / 本月 / 上周 / 上月 / 本年, up to the end of the period."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    monday = today - timedelta(days=today.weekday())
    first_of_month = today.replace(day=1)
    ranges = {
        "today": (today, today),
        "week": (monday, monday + timedelta(days=6)),
        "month": (first_of_month, _month_end(first_of_month)),
        "last_week": (monday - timedelta(days=7), monday - timedelta(days=1)),
        "last_month": (_previous_month(first_of_month), first_of_month - timedelta(days=1)),
        "year": (date(today.year, 1, 1), date(today.year, 12, 31)),
    }
    if name not in ranges:
        raise ValueError(f"unknown period {name!r}")
    first, last = ranges[name]
    return between(first, last, timezone, PERIOD_LABELS[name])


def buckets(period: Period, unit: str, timezone: str) -> list[Period]:
    """The weeks (from Monday) or months that cover the period, clipped to it: trends."""
    if unit not in ("week", "month"):
        raise ValueError(f"unknown bucket unit {unit!r}")
    first, last = period.local_dates(timezone)
    day = first - timedelta(days=first.weekday()) if unit == "week" else first.replace(day=1)
    result = []
    while day <= last:
        following = day + timedelta(days=7) if unit == "week" else _month_end(day) + timedelta(1)
        start = max(day_start(day, timezone), period.start)
        end = min(day_start(following, timezone), period.end)
        label = f"{day:%m-%d}周" if unit == "week" else f"{day:%Y-%m}"
        result.append(Period(start, end, label))
        day = following
    return result


def _month_end(first: date) -> date:
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def _previous_month(first: date) -> date:
    return (first - timedelta(days=1)).replace(day=1)


@dataclass(frozen=True)
class Scope:
    """Which tickets a figure covers: all, or one department, appeal type, source channel,
    severity or person (ids for department and person)."""

    department_id: int | None = None
    appeal_type: str | None = None
    channel: str | None = None
    severity: str | None = None
    staff_id: int | None = None

    def narrowed(self, dimension: str, value: object) -> Scope:
        """This scope with one more dimension fixed (drill-down of a breakdown row)."""
        key = {"department": "department_id", "person": "staff_id"}.get(dimension, dimension)
        if dimension not in DIMENSIONS:
            raise ValueError(f"unknown dimension {dimension!r}")
        return Scope(**{**asdict(self), key: value})


EVERYTHING = Scope()


@dataclass(frozen=True)
class Targets:
    """``[figures]`` in config.toml: the policy's targets (流程3、工作要求3)."""

    completion: float = 1.0
    satisfaction: float = 0.9
    on_time: float = 1.0

    def __post_init__(self) -> None:
        for item in fields(self):
            if not 0 < getattr(self, item.name) <= 1:
                raise ValueError(f"{item.name} target must be in (0, 1]")


def rate(part: int, whole: int) -> float | None:
    """part ÷ whole, or None when there is nothing to divide (shown as —)."""
    return part / whole if whole else None


def missed(value: float | None, target: float) -> bool:
    """A rate below its target; no data is not a miss."""
    return value is not None and value + 1e-9 < target


@dataclass(frozen=True)
class ClockFigure:
    """按时率 of one SLA clock: clocks that came due, how many were kept, how many were
    provisional (a deadline on a calendar not yet published)."""

    clock: str
    due: int = 0
    met: int = 0
    provisional: int = 0

    @property
    def rate(self) -> float | None:
        return rate(self.met, self.due)


@dataclass(frozen=True)
class Figures:
    """Every figure of one period and scope, as counts; rates are derived."""

    received: int = 0
    invalid: int = 0
    due: int = 0
    archived: int = 0
    first_answered: int = 0
    first_satisfied: int = 0
    final_answered: int = 0
    final_satisfied: int = 0
    clocks: tuple[ClockFigure, ...] = ()
    open_now: int = 0
    overdue_now: int = 0
    returns: int = 0
    repeats: int = 0
    accountability: int = 0
    stars: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)  # counts of 1★ … 5★

    @property
    def valid(self) -> int:
        return self.received - self.invalid

    @property
    def completion_rate(self) -> float | None:
        return rate(self.archived, self.due)

    @property
    def first_satisfaction_rate(self) -> float | None:
        return rate(self.first_satisfied, self.first_answered)

    @property
    def final_satisfaction_rate(self) -> float | None:
        return rate(self.final_satisfied, self.final_answered)

    @property
    def clocks_due(self) -> int:
        return sum(clock.due for clock in self.clocks)

    @property
    def clocks_met(self) -> int:
        return sum(clock.met for clock in self.clocks)

    @property
    def on_time_rate(self) -> float | None:
        """All clocks together."""
        return rate(self.clocks_met, self.clocks_due)

    @property
    def ratings(self) -> int:
        return sum(self.stars)

    @property
    def average_stars(self) -> float | None:
        total = sum(count * stars for stars, count in enumerate(self.stars, start=1))
        return rate(total, self.ratings)

    def clock(self, name: str) -> ClockFigure:
        return next((c for c in self.clocks if c.clock == name), ClockFigure(name))

    def to_json(self) -> dict:
        data = asdict(self)
        data["clocks"] = [asdict(clock) for clock in self.clocks]
        data["stars"] = list(self.stars)
        return data

    @classmethod
    def from_json(cls, data: dict) -> Figures:
        known = {item.name for item in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values["clocks"] = tuple(ClockFigure(**clock) for clock in data.get("clocks", ()))
        values["stars"] = tuple(data.get("stars", (0, 0, 0, 0, 0)))
        return cls(**values)


def combine(parts: list[Figures]) -> Figures:
    """The figures of several disjoint parts (departments of one period) added up."""
    totals: dict = {}
    clocks: dict[str, list[int]] = {}
    stars = [0, 0, 0, 0, 0]
    for part in parts:
        for item in fields(Figures):
            if item.name not in ("clocks", "stars"):
                totals[item.name] = totals.get(item.name, 0) + getattr(part, item.name)
        for clock in part.clocks:
            counts = clocks.setdefault(clock.clock, [0, 0, 0])
            for index, value in enumerate((clock.due, clock.met, clock.provisional)):
                counts[index] += value
        stars = [mine + theirs for mine, theirs in zip(stars, part.stars, strict=True)]
    order = [name for name in CLOCKS if name in clocks] + sorted(set(clocks) - set(CLOCKS))
    merged = tuple(ClockFigure(name, *clocks[name]) for name in order)
    return Figures(**totals, clocks=merged, stars=tuple(stars))


@dataclass(frozen=True)
class PersonFigures:
    """表扬、批评、超时 and ratings of one person (credited when they happened)."""

    staff_id: int
    name: str
    department: str = ""
    praise: int = 0
    criticism: int = 0
    breaches: int = 0
    ratings: int = 0
    stars_total: int = 0
    low_ratings: int = 0

    @property
    def average_stars(self) -> float | None:
        return rate(self.stars_total, self.ratings)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> PersonFigures:
        known = {item.name for item in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


@dataclass(frozen=True)
class Row:
    """One row of a breakdown: the key of the dimension, its label, its figures."""

    key: object
    label: str
    figures: Figures = field(default_factory=Figures)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"
