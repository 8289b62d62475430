"""The State Council's holiday schedule (国务院办公厅关于部分节假日安排的通知) in a simple text or
CSV form, read into one `YearSchedule` per year. Pure.

One day or a range per line; `#` starts a comment; blank lines are skipped:

    2027-01-01 休 元旦
    2027-02-06~2027-02-12 休 春节
    2027-02-14 班 春节调休

CSV is the same with commas (``date,kind,note``; a header line ``date,…`` or ``日期,…`` is
skipped). A range is ``A~B``, ``A-B`` with full dates, or ``A至B``. The kind is 休/放假/假/
holiday/off for a day off and 班/上班/补班/workday/work for a make-up working day. Every year
named in the file is read whole: what the file lists is that year's schedule.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta

from models.core.workcalendar import YearSchedule

HOLIDAY = "holiday"
WORKDAY = "workday"
KIND_WORDS = {
    "休": HOLIDAY,
    "放假": HOLIDAY,
    "假": HOLIDAY,
    "holiday": HOLIDAY,
    "off": HOLIDAY,
    "班": WORKDAY,
    "上班": WORKDAY,
    "补班": WORKDAY,
    "workday": WORKDAY,
    "work": WORKDAY,
}
KIND_LABELS = {HOLIDAY: "休", WORKDAY: "班"}
DATE = r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"
RANGE = re.compile(rf"^({DATE})(?:\s*(?:~|～|至|--|—|-)\s*({DATE}))?$")
SPACED_RANGE = re.compile(rf"({DATE})\s*(?:~|～|至|--|—|-)\s*({DATE})")
HEADERS = ("date", "日期")
LONGEST_RANGE_DAYS = 31


class ScheduleError(ValueError):
    """The file cannot be read; `problems` are Chinese lines naming the line numbers."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("；".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ListedDay:
    day: date
    kind: str  # holiday | workday
    note: str = ""


def parse_schedule(text: str) -> tuple[list[YearSchedule], dict[date, ListedDay]]:
    """The schedules of the years the text names, and every listed day with its note."""
    days: dict[date, ListedDay] = {}
    problems: list[str] = []
    for number, fields in _lines(text):
        try:
            for listed in _listed_days(fields):
                _add(days, listed, number)
        except ValueError as exc:
            problems.append(f"第{number}行：{exc}")
    if not problems and not days:
        problems.append("文件中没有任何日期")
    if problems:
        raise ScheduleError(problems)
    return schedules_of(days.values()), days


def schedules_of(days) -> list[YearSchedule]:
    by_year: dict[int, tuple[set[date], set[date]]] = {}
    for listed in days:
        holidays, workdays = by_year.setdefault(listed.day.year, (set(), set()))
        (holidays if listed.kind == HOLIDAY else workdays).add(listed.day)
    return [
        YearSchedule(year, frozenset(holidays), frozenset(workdays))
        for year, (holidays, workdays) in sorted(by_year.items())
    ]


def _lines(text: str):
    """(line number, [date, kind, note]) for each line that says something."""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip().lstrip("\ufeff")
        if not line:
            continue
        line = SPACED_RANGE.sub(r"\1~\2", line)
        if "," in line or "，" in line:
            fields = next(csv.reader(io.StringIO(line.replace("，", ","))))
        else:
            fields = line.split(None, 2)
        fields = [field.strip() for field in fields]
        if fields[0].lower() in HEADERS:
            continue
        yield number, fields


def _listed_days(fields: list[str]) -> list[ListedDay]:
    if len(fields) < 2:
        raise ValueError("每行应为：日期 休/班 [说明]")
    kind = KIND_WORDS.get(fields[1].lower())
    if kind is None:
        raise ValueError(f"无法识别「{fields[1]}」，应为 休 或 班")
    note = fields[2][:50] if len(fields) > 2 else ""
    return [ListedDay(day, kind, note) for day in _dates(fields[0])]


def _dates(text: str) -> list[date]:
    match = RANGE.match(text.replace(" ", ""))
    if match is None:
        raise ValueError(f"日期格式不正确：{text}（应为 2027-01-01 或 2027-02-06~2027-02-12）")
    first = _date(match.group(1))
    last = _date(match.group(2)) if match.group(2) else first
    if last < first:
        raise ValueError(f"日期范围颠倒：{text}")
    if (last - first).days >= LONGEST_RANGE_DAYS:
        raise ValueError(f"日期范围超过{LONGEST_RANGE_DAYS}天：{text}")
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def _date(text: str) -> date:
    year, month, day = (int(part) for part in re.split(r"[-/.]", text))
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"不存在的日期：{text}") from exc


def _add(days: dict[date, ListedDay], listed: ListedDay, number: int) -> None:
    earlier = days.get(listed.day)
    if earlier is not None and earlier.kind != listed.kind:
        raise ValueError(f"{listed.day} 同时被列为放假和上班")
    if earlier is None or not earlier.note:
        days[listed.day] = listed


def format_schedule(days: list[ListedDay]) -> str:
    """The text form of listed days, one per line (what the calendar page edits)."""
    return "\n".join(
        f"{listed.day.isoformat()} {KIND_LABELS[listed.kind]}"
        + (f" {listed.note}" if listed.note else "")
        for listed in sorted(days, key=lambda item: item.day)
    )
