"""`/dashboard` (统计看板) and `/bulletins` (定期通报): the figures of `models.figures`, each
number a link to the ticket list filtered to exactly the tickets it counts.

The period is in the URL (`period=week|month`, or `from`/`to` dates), so a view can be
bookmarked, shared and printed. Charts are SVG strings from `bot.charts`: no outside asset.
"""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from flask import request
from flask_login import login_required
from markupsafe import Markup
from sqlalchemy import select

from bot import charts
from bot.web.access import roles_required
from bot.web.blueprint import blueprint
from bot.web.context import PageError, db, now, page, runtime
from models.bulletin.tables import Bulletin
from models.core.figures import (
    DEFINITIONS,
    Figures,
    Period,
    between,
    missed,
    named_period,
    percent,
)
from models.core.labels import CLOCK_LABELS, CLOCKS
from models.figures import compute, people
from models.figures.sources import MEASURES
from models.ticket.filters import TicketFilter

# A person's 表扬/批评/超时 counts are of records; their links list the distinct tickets
# behind them: two breaches on one ticket count 2 and list the ticket once, and a praise or
# criticism without a ticket (a business rating's) is counted but not listed.
RECORD_LINK_TITLE = (
    "按记录计数；列表为这些记录涉及的工单（去重）：同一工单的多条记录只列一次，"
    "无工单的记录（如业务评价）不在列表中"
)
DASHBOARD_ROLES = frozenset({"officer", "leader", "executive"})
BULLETIN_ROLES = frozenset({"officer", "leader"})
PERIOD_CHOICES = {"week": "本周", "month": "本月"}
TREND_WEEKS = 8
TREND_MONTHS = 6
BULLETINS_SHOWN = 100


@blueprint.get("/dashboard")
@login_required
@roles_required(DASHBOARD_ROLES, "统计看板")
def dashboard():
    timezone = runtime().policy.timezone
    period, choice = chosen_period(request.args, timezone)
    moment, session = now(), db()
    board = compute.dashboard(
        session, period, weeks_before(period, timezone), moment, "week", timezone
    )
    months = compute.trend(session, months_before(period, timezone), moment, "month", timezone)
    persons = people.people(
        session, period, low_at_or_below=runtime().settings.rating.callback_at_or_below
    )
    links = Links(period, timezone)
    return page(
        "web/reports/dashboard.html",
        board=board,
        persons=persons,
        period=period,
        choice=choice,
        choices=PERIOD_CHOICES,
        dates=period.local_dates(timezone),
        targets=runtime().settings.figures,
        headline=headline(board.figures, runtime().settings.figures, links),
        clocks=[(name, board.figures.clock(name)) for name in CLOCKS],
        link=links.url,
        record_link=links.record_url,
        record_title=RECORD_LINK_TITLE,
        definitions=DEFINITIONS,
        clock_labels=CLOCK_LABELS,
        percent=percent,
        missed=missed,
        weekly_chart=Markup(trend_chart(board.trend, "按周趋势", runtime().settings.figures)),
        monthly_chart=Markup(trend_chart(months, "按月趋势", runtime().settings.figures)),
        department_chart=Markup(department_chart(board.departments, runtime().settings.figures)),
        stars_chart=Markup(charts.stars_chart(board.figures.stars)),
        export_query=urlencode(links.params()),
    )


def chosen_period(args, timezone: str) -> tuple[Period, str]:
    """本周 / 本月 (`period=`) or custom dates (`from`, `to`); a 400 naming a bad one."""
    first, last = args.get("from", "").strip(), args.get("to", "").strip()
    if first or last:
        try:
            start = date.fromisoformat(first or last)
            end = date.fromisoformat(last or first)
        except ValueError as exc:
            raise PageError(400, "日期有误", "参数 from / to 须为日期，如 2026-11-01。") from exc
        if end < start:
            raise PageError(400, "日期有误", "参数 to 早于 from。")
        if (end - start).days > 366:
            raise PageError(400, "期间过长", "自定义期间最长一年。")
        return between(start, end, timezone), "custom"
    choice = args.get("period", "week")
    if choice not in PERIOD_CHOICES:
        raise PageError(400, "期间有误", "参数 period 只能是 week（本周）或 month（本月）。")
    return named_period(choice, now(), timezone), choice


def weeks_before(period: Period, timezone: str) -> Period:
    """The trend's weeks: the last `TREND_WEEKS` weeks up to the end of the period."""
    last = period.local_dates(timezone)[1]
    monday = last - timedelta(days=last.weekday())
    return between(monday - timedelta(weeks=TREND_WEEKS - 1), last, timezone)


def months_before(period: Period, timezone: str) -> Period:
    last = period.local_dates(timezone)[1]
    first = last.replace(day=1)
    for _ in range(TREND_MONTHS - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    return between(first, last, timezone)


class Links:
    """The ticket list's URL behind one number: the same filter the list and export use."""

    def __init__(self, period: Period, timezone: str) -> None:
        self.period, self.timezone = period, timezone

    def params(self, **fields) -> dict[str, str]:
        return TicketFilter(period=self.period, **fields).to_params(self.timezone)

    def url(self, measure: str, **fields) -> str:
        return "/tickets?" + urlencode(self.params(measure=measure, **fields))

    def record_url(self, kind: str, staff_id: int) -> str:
        """The tickets behind one person's praise, criticism or breach count. The count is of
        records, the list of the distinct tickets behind them (`RECORD_LINK_TITLE`)."""
        return "/tickets?" + urlencode(self.params(person_record=kind, staff_id=staff_id))


def headline(figures: Figures, targets, links: Links) -> list[dict]:
    """The rates against their targets, each with its parts linked."""
    rows = [
        ("completion", figures.completion_rate, targets.completion, "archived", "due"),
        (
            "first_satisfaction",
            figures.first_satisfaction_rate,
            targets.satisfaction,
            "first_satisfied",
            "first_answered",
        ),
        (
            "final_satisfaction",
            figures.final_satisfaction_rate,
            None,
            "final_satisfied",
            "final_answered",
        ),
        ("on_time", figures.on_time_rate, targets.on_time, "clocks_met", "clocks_due"),
    ]
    return [
        {
            "key": key,
            "rate": value,
            "target": target,
            "missed": target is not None and missed(value, target),
            "part": getattr(figures, part),
            "whole": getattr(figures, whole),
            # no measure lists the clocks kept (the late ones are linked in the clocks table)
            "part_link": links.url(part) if part in MEASURES else "",
            "whole_link": links.url(whole),
        }
        for key, value, target, part, whole in rows
    ]


def trend_chart(trend: list[tuple[Period, Figures]], title: str, targets) -> str:
    labels = [part.label for part, _ in trend]
    series = {
        "办结率": [values.completion_rate for _, values in trend],
        "首次回访满意率": [values.first_satisfaction_rate for _, values in trend],
        "最终满意率": [values.final_satisfaction_rate for _, values in trend],
    }
    return charts.line_chart(labels, series, title=title, target=targets.satisfaction, width=600)


def department_chart(rows, targets) -> str:
    items = [(row.label, row.figures.completion_rate) for row in rows]
    return charts.bar_chart(items, title="各部门办结率", target=targets.completion, width=640)


# --- bulletins ------------------------------------------------------------------------------


@blueprint.get("/bulletins")
@login_required
@roles_required(BULLETIN_ROLES, "定期通报")
def bulletin_list():
    found = db().scalars(
        select(Bulletin)
        .order_by(Bulletin.period_start.desc(), Bulletin.id.desc())
        .limit(BULLETINS_SHOWN)
    )
    return page("web/reports/bulletins.html", bulletins=list(found))


@blueprint.get("/bulletins/<int:bulletin_id>")
@login_required
@roles_required(BULLETIN_ROLES, "定期通报")
def bulletin_page(bulletin_id: int):
    bulletin = db().get(Bulletin, bulletin_id)
    if bulletin is None:
        raise PageError(404, "通报不存在", f"没有编号为 {bulletin_id} 的通报。")
    content = bulletin.content or {}
    figures = Figures.from_json(content.get("figures", {}))
    return page(
        "web/reports/bulletin.html",
        bulletin=bulletin,
        content=content,
        figures=figures,
        clocks=[(name, figures.clock(name)) for name in CLOCKS],
        definitions=DEFINITIONS,
        clock_labels=CLOCK_LABELS,
        percent=percent,
        stars_chart=Markup(charts.stars_chart(figures.stars)),
    )
