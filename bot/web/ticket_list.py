"""`/tickets`: the ticket list (工单台账) with its filters and search, all in the URL, so that a
view can be bookmarked and shared; keyset paging (`after` / `before`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from flask import request
from flask_login import login_required
from werkzeug.datastructures import MultiDict

from bot.web.access import user
from bot.web.blueprint import blueprint
from bot.web.context import db, now, page, runtime, zone
from models.core.labels import SEVERITY_LABELS, STATUS_LABELS
from models.core.workflow import SOURCE_CHANNELS
from models.ticket import listing
from models.ticket import queries as ticket_queries

FLAGS = {
    "overdue": "已超期",
    "urgent": "燃气泄漏",
    "repeat": "重复投诉",
    "accountability": "责任追究",
    "callback": "待电话回访",
}
STATUSES = {listing.OPEN: "在办（未归档）", **STATUS_LABELS}
PERIODS = {"today": "今日", "week": "本周", "month": "本月"}
KEPT = ("status", "dept", "type", "channel", "severity", *FLAGS, "from", "to", "q")


@dataclass
class ListArgs:
    """The list's URL parameters, read and checked."""

    chosen: listing.TicketFilter
    values: dict[str, str]
    after: int | None = None
    before: int | None = None
    problems: list[str] = field(default_factory=list)


@blueprint.get("/tickets")
@login_required
def ticket_list():
    args = read_args(request.args)
    size = runtime().settings.web.page_size
    found = listing.page(
        db(), user().actor(), args.chosen, now(), size, after=args.after, before=args.before
    )
    return page(
        "web/tickets/list.html",
        found=found,
        count_cap=listing.COUNT_CAP,
        args=args,
        link=lambda **changes: list_url(args.values, **changes),
        departments=ticket_queries.departments(db()),
        appeal_types=runtime().settings.conversation.appeal_types,
        statuses=STATUSES,
        channels=SOURCE_CHANNELS,
        severities=SEVERITY_LABELS,
        flags=FLAGS,
        periods={key: period_range(key) for key in PERIODS},
        period_labels=PERIODS,
        now=now(),
    )


def read_args(source: MultiDict) -> ListArgs:
    values = {key: source.get(key, "").strip() for key in KEPT if source.get(key, "").strip()}
    problems: list[str] = []
    since = _day(values.get("from"), problems, "开始日期")
    until = _day(values.get("to"), problems, "结束日期")
    department = values.get("dept", "")
    chosen = listing.TicketFilter(
        status=values.get("status", "") if values.get("status") in STATUSES else "",
        department_id=int(department) if department.isdigit() else None,
        appeal_type=values.get("type", ""),
        channel=values.get("channel", ""),
        severity=values.get("severity", "") if values.get("severity") in SEVERITY_LABELS else "",
        since=_start_of(since),
        until=_start_of(until + timedelta(days=1)) if until else None,
        search=values.get("q", "")[:64],
        **{flag: values.get(flag) == "1" for flag in FLAGS},
    )
    return ListArgs(
        chosen=chosen,
        values=values,
        after=_cursor(source.get("after")),
        before=_cursor(source.get("before")),
        problems=problems,
    )


def list_url(values: dict[str, str], **changes: str | int | None) -> str:
    """The list's URL with some parameters changed (None removes one); paging restarts."""
    merged = {key: value for key, value in values.items() if key not in ("after", "before")}
    for key, value in changes.items():
        if value in (None, ""):
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    query = urlencode(merged)
    return f"/tickets?{query}" if query else "/tickets"


def period_range(period: str) -> tuple[str, str]:
    """今日 / 本周 / 本月 as the list's from/to dates."""
    start, end = ticket_queries.period_bounds(period, now(), runtime().policy.timezone)
    return start.astimezone(zone()).date().isoformat(), end.astimezone(zone()).date().isoformat()


def _day(raw: str | None, problems: list[str], label: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append(f"{label}「{raw}」不是有效日期（格式：2026-11-28），已忽略。")
        return None


def _start_of(day: date | None) -> datetime | None:
    return datetime.combine(day, time(0), tzinfo=zone()) if day else None


def _cursor(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None
