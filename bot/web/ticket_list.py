"""`/tickets`: the ticket list (工单台账) with its filters and search, all in the URL, so that a
view can be bookmarked and shared; keyset paging (`after` / `before`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import request
from flask_login import login_required
from werkzeug.datastructures import MultiDict

from bot.web.access import user
from bot.web.blueprint import blueprint
from bot.web.context import db, now, page, runtime
from models.core.figures import PERIOD_LABELS, named_period
from models.core.labels import SEVERITY_LABELS, STATUS_LABELS
from models.core.workflow import SOURCE_CHANNELS
from models.ticket import filters, listing
from models.ticket import queries as ticket_queries

FLAGS = {
    "overdue": "已超期",
    "urgent": "燃气泄漏",
    "repeat": "重复投诉",
    "accountability": "责任追究",
    "callback": "待电话回访",
}
STATUSES = {filters.OPEN: "在办（未归档）", **STATUS_LABELS}
PERIODS = {name: PERIOD_LABELS[name] for name in ("today", "week", "month", "last_month")}
KEPT = (*filters.PARAMS.values(), "from", "to")


@dataclass
class ListArgs:
    """The list's URL parameters: as typed (for the form) and as the shared filter."""

    chosen: filters.TicketFilter
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
    try:
        chosen = filters.TicketFilter.from_params(values, runtime().policy.timezone)
    except filters.FilterError as problem:
        problems.append(f"{problem}；已忽略筛选条件。")
        chosen = filters.TicketFilter()
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
    first, last = named_period(period, now(), runtime().policy.timezone).local_dates(
        runtime().policy.timezone
    )
    return first.isoformat(), last.isoformat()


def _cursor(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None
