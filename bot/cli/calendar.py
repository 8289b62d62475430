"""`bihuan calendar`: load the State Council's holiday schedule, show a year's calendar."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click


@click.group()
def calendar() -> None:
    """The working-day calendar (工作日历) entered by the office."""


@calendar.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def calendar_import(obj, path: Path) -> None:
    """Load holidays and make-up working days from a text or CSV file (each year it names
    is replaced whole); open tickets' deadlines are counted again."""
    from bot.db import transaction
    from models.audit.log import Who
    from models.calendar import store
    from models.core.calendar_text import ScheduleError, parse_schedule
    from models.ticket.clocks import describe

    try:
        _, days = parse_schedule(path.read_text(encoding="utf-8-sig"))
    except (ScheduleError, UnicodeDecodeError) as exc:
        problems = exc.problems if isinstance(exc, ScheduleError) else ["文件不是 UTF-8 编码"]
        for problem in problems:
            click.echo(f"导入失败：{problem}", err=True)
        sys.exit(1)
    runtime = obj.runtime
    now = datetime.now(UTC)
    with transaction(runtime.sessions) as session:
        change = store.enter_years(
            session,
            list(days.values()),
            Who.cli(),
            now,
            runtime.policy.deadlines,
            source="import",
        )
    runtime.refresh_policy()
    for year in change.years:
        holidays = sum(1 for d in days.values() if d.day.year == year and d.kind == "holiday")
        workdays = sum(1 for d in days.values() if d.day.year == year and d.kind == "workday")
        click.echo(f"{year}年工作日历已导入：放假{holidays}天，调休上班{workdays}天。")
    for moved in change.moved:
        click.echo(f"  {moved.ticket_number} {describe(moved, obj.settings.app.timezone)}")
    click.echo(f"重新计算的工单时限：{len(change.moved)} 个。")


@calendar.command("show")
@click.argument("year", type=int, required=False)
@click.pass_obj
def calendar_show(obj, year: int | None) -> None:
    """A year's status (official / configured / provisional) and its listed days."""
    from bot.db import transaction
    from models.calendar import store
    from models.core.calendar_text import format_schedule
    from models.core.labels import CALENDAR_SOURCE_LABELS, CALENDAR_STATUS_LABELS

    runtime = obj.runtime
    year = year or datetime.now(UTC).year
    calendar_rules = runtime.policy.deadlines.calendar
    with transaction(runtime.sessions) as session:
        view = store.year_view(session, calendar_rules, year)
    click.echo(
        f"{year}年：{CALENDAR_STATUS_LABELS[view.status]}（{CALENDAR_SOURCE_LABELS[view.source]}）"
    )
    if view.days:
        click.echo(format_schedule(view.days))
