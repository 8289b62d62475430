"""Figures computed by SQL aggregates in the database; no ticket is loaded into Python.

One query per source (`models.figures.sources`), each counting its rows with FILTER clauses,
grouped by nothing (one set of figures), by a dimension (a breakdown: per department,
appeal type, channel, severity or person) or by weeks/months (a trend). The `统计` command,
the dashboard, the bulletins, the ledger's summary and the API all call this module.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import ColumnElement, func, literal, literal_column, select, text, union_all
from sqlalchemy.orm import Session

from models.core.figures import (
    EVERYTHING,
    ClockFigure,
    Figures,
    Period,
    Row,
    Scope,
    buckets,
    combine,
)
from models.core.labels import CLOCKS, SEVERITY_LABELS
from models.figures import sources
from models.people.tables import Department, Staff

NONE_LABEL = "（未指定）"


@dataclass(frozen=True)
class Grouping:
    """Nothing (one set of figures), one dimension, or consecutive periods (a trend)."""

    dimension: str | None = None
    periods: tuple[Period, ...] = ()

    def key(self, rows) -> ColumnElement:
        """The key of a dimension's or of no grouping (a trend's parts: `_per_part`)."""
        if self.dimension:
            return rows.c[self.dimension]
        return literal_column("0")

    def span(self, period: Period) -> Period:
        if not self.periods:
            return period
        return Period(self.periods[0].start, self.periods[-1].end, period.label)

    def columns(self, key) -> tuple:
        """What to GROUP BY besides a source's own columns (a constant key is not)."""
        return (key,) if self.grouped else ()

    @property
    def grouped(self) -> bool:
        return bool(self.periods or self.dimension)


def figures(session: Session, period: Period, now: datetime, scope: Scope = EVERYTHING) -> Figures:
    """Every figure of one period and scope."""
    return grouped_figures(session, period, now, scope, Grouping()).get(0, Figures())


def breakdown(
    session: Session, period: Period, now: datetime, dimension: str, scope: Scope = EVERYTHING
) -> list[Row]:
    """The figures per department / appeal type / channel / severity / person, largest first."""
    table = grouped_figures(session, period, now, scope, Grouping(dimension=dimension))
    labels = key_labels(session, dimension, table.keys())
    rows = [Row(key, labels[key], values) for key, values in table.items()]
    return sorted(rows, key=lambda row: (-row.figures.received, -row.figures.due, row.label))


def trend(
    session: Session,
    period: Period,
    now: datetime,
    unit: str,
    timezone: str,
    scope: Scope = EVERYTHING,
    counts: tuple | None = None,
) -> list[tuple[Period, Figures]]:
    """The figures of each week or month of the period, in order. By default the headline
    figures only (`TREND_COUNTS`: received, completion, call-back satisfaction, stars), each
    one pass over its table; `counts=COUNTS` adds the clocks and returns."""
    parts = tuple(buckets(period, unit, timezone))
    grouping = Grouping(periods=parts)
    table = grouped_figures(session, period, now, scope, grouping, counts or TREND_COUNTS)
    return [(part, table.get(index, Figures())) for index, part in enumerate(parts)]


@dataclass(frozen=True)
class Dashboard:
    """What the dashboard shows: the period's figures, per department, and the trend."""

    figures: Figures
    departments: list[Row]
    trend: list[tuple[Period, Figures]]


def dashboard(
    session: Session, period: Period, trend_period: Period, now: datetime, unit: str, timezone: str
) -> Dashboard:
    """The period per department (all but the clocks, which are counted for the whole from
    their index), the whole as the sum of its departments (every ticket has exactly one
    department key), and the trend of the headline figures."""
    table = grouped_figures(
        session, period, now, EVERYTHING, Grouping(dimension="department"), DEPARTMENT_COUNTS
    )
    labels = key_labels(session, "department", table.keys())
    departments = sorted(
        (Row(key, labels[key], values) for key, values in table.items()),
        key=lambda row: (-row.figures.received, -row.figures.due, row.label),
    )
    clocks = _clocks(session, period, now, EVERYTHING, Grouping()).get(0, {}).get("clocks", {})
    total = combine([row.figures for row in departments])
    total = replace(total, clocks=_assemble({"clocks": clocks}).clocks)
    return Dashboard(total, departments, trend(session, trend_period, now, unit, timezone))


def grouped_figures(
    session: Session,
    period: Period,
    now: datetime,
    scope: Scope,
    grouping: Grouping,
    counts: tuple | None = None,
) -> dict[object, Figures]:
    span = grouping.span(period)
    _without_jit(session)
    found: dict[object, dict] = defaultdict(dict)
    for count in counts or COUNTS:
        if grouping.periods and count is _backlog:
            continue  # the backlog is a snapshot, not a period's
        for key, values in count(session, span, now, scope, grouping).items():
            found[key].update(values)
    result = {key: _assemble(values) for key, values in found.items()}
    if not grouping.grouped and 0 not in result:
        result[0] = Figures()
    return result


def _without_jit(session: Session) -> None:
    """PostgreSQL's JIT compiles each of these short aggregates for longer than it saves
    (≈150 ms a query at a million rows): off for this transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def _assemble(values: dict) -> Figures:
    figures = Figures(**{k: v for k, v in values.items() if k not in ("clocks", "stars")})
    clocks = values.get("clocks", {})
    ordered = [name for name in CLOCKS if name in clocks] + sorted(set(clocks) - set(CLOCKS))
    stars = values.get("stars", {})
    return replace(
        figures,
        clocks=tuple(clocks[name] for name in ordered),
        stars=tuple(stars.get(level, 0) for level in range(1, 6)),
    )


# --- one aggregate per source --------------------------------------------------------------


def _counted(session, source, period, now, scope, grouping, **aggregates) -> dict[object, dict]:
    def statement(part: Period, key):
        rows = source(part, scope, now).subquery()
        columns = [aggregate(rows).label(name) for name, aggregate in aggregates.items()]
        return rows, [key(rows).label("key"), *columns]

    result = {}
    for row in session.execute(_per_part(statement, period, grouping)):
        values = row._mapping
        result[values["key"]] = {name: values[name] or 0 for name in aggregates}
    return result


def _per_part(statement, period: Period, grouping: Grouping, *extra_keys: str):
    """One SELECT of a source's aggregates. A trend is a UNION ALL of one plain aggregate per
    part, each over its own range of the source's index (a PostgreSQL range scan in index
    order instead of a CASE and a hash per row over the whole span: about four times faster
    at a million rows); otherwise one query grouped by the dimension, or by nothing.
    `statement(part, key)` gives the source's rows and its columns with `key(rows)` first;
    `extra_keys` are the rows' own columns to group by as well."""
    if grouping.periods:
        selects = []
        for index, part in enumerate(grouping.periods):
            rows, columns = statement(part, lambda rows, index=index: literal(index))
            group = [rows.c[name] for name in extra_keys]
            selects.append(select(*columns).group_by(*group) if group else select(*columns))
        return union_all(*selects) if len(selects) > 1 else selects[0]
    rows, columns = statement(period, grouping.key)
    key = columns[0]
    return select(*columns).group_by(*grouping.columns(key), *(rows.c[n] for n in extra_keys))


def _count(condition=None):
    def aggregate(rows):
        counted = func.count()
        return counted.filter(condition(rows.c)) if condition is not None else counted

    return aggregate


def _intake(session, period, now, scope, grouping) -> dict[object, dict]:
    return _counted(
        session,
        sources.intake,
        period,
        now,
        scope,
        grouping,
        received=_count(),
        invalid=_count(lambda c: c.invalid),
        repeats=_count(lambda c: c.repeat),
        accountability=_count(lambda c: c.accountability),
    )


def _due(session, period, now, scope, grouping) -> dict[object, dict]:
    return _counted(
        session,
        sources.due,
        period,
        now,
        scope,
        grouping,
        due=_count(),
        archived=_count(lambda c: c.archived),
    )


def _first_callbacks(session, period, now, scope, grouping) -> dict[object, dict]:
    return _counted(
        session,
        sources.first_callbacks,
        period,
        now,
        scope,
        grouping,
        first_answered=_count(),
        first_satisfied=_count(lambda c: c.satisfied),
    )


def _last_callbacks(session, period, now, scope, grouping) -> dict[object, dict]:
    return _counted(
        session,
        sources.last_callbacks,
        period,
        now,
        scope,
        grouping,
        final_answered=_count(),
        final_satisfied=_count(lambda c: c.satisfied),
    )


def _backlog(session, period, now, scope, grouping) -> dict[object, dict]:
    return _counted(
        session,
        sources.backlog,
        period,
        now,
        scope,
        grouping,
        open_now=_count(),
        overdue_now=_count(lambda c: c.overdue),
    )


def _returns(session, period, now, scope, grouping) -> dict[object, dict]:
    return _counted(session, sources.returns, period, now, scope, grouping, returns=_count())


def _clocks(session, period, now, scope, grouping) -> dict[object, dict]:
    by_ticket = grouping.dimension is not None

    def statement(part: Period, key):
        rows = sources.clocks(part, scope, now, by_ticket=by_ticket).subquery()
        return rows, [
            key(rows).label("key"),
            rows.c.clock,
            func.count().label("due"),
            func.count().filter(rows.c.met).label("met"),
            func.count().filter(rows.c.provisional).label("provisional"),
        ]

    result: dict[object, dict] = defaultdict(lambda: {"clocks": {}})
    for group, clock, due, met, provisional in session.execute(
        _per_part(statement, period, grouping, "clock")
    ):
        result[group]["clocks"][clock] = ClockFigure(clock, due, met, provisional)
    return result


def _stars(session, period, now, scope, grouping) -> dict[object, dict]:
    def statement(part: Period, key):
        rows = sources.ratings(part, scope, now).subquery()
        return rows, [key(rows).label("key"), rows.c.stars, func.count().label("count")]

    result: dict[object, dict] = defaultdict(lambda: {"stars": {}})
    for group, stars, count in session.execute(_per_part(statement, period, grouping, "stars")):
        result[group]["stars"][stars] = count
    return result


TREND_COUNTS = (_intake, _due, _first_callbacks, _last_callbacks, _stars)
DEPARTMENT_COUNTS = (*TREND_COUNTS, _backlog, _returns)
COUNTS = (
    _intake,
    _due,
    _first_callbacks,
    _last_callbacks,
    _clocks,
    _backlog,
    _returns,
    _stars,
)


# --- labels of breakdown keys --------------------------------------------------------------


def key_labels(session: Session, dimension: str, keys) -> dict[object, str]:
    """What a reader sees for each key of a breakdown."""
    keys = list(keys)
    if dimension == "department":
        names = _names(session, Department, keys)
    elif dimension == "person":
        names = _names(session, Staff, keys)
    elif dimension == "severity":
        names = SEVERITY_LABELS
    else:
        names = {}
    return {key: names.get(key, str(key)) if key is not None else NONE_LABEL for key in keys}


def _names(session: Session, table, keys) -> dict[object, str]:
    ids = [key for key in keys if key is not None]
    if not ids:
        return {}
    return dict(session.execute(select(table.id, table.name).where(table.id.in_(ids))).all())
