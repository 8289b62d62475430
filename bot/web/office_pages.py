"""`/messages`, `/calendar` and `/audit`: the message log, the working-day calendar and the
audit log. The officer acts; leaders (and executives, for the audit log) read."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import flash, redirect, request, url_for
from flask_login import login_required

from bot.web.access import roles_required, user
from bot.web.auditing import who
from bot.web.blueprint import blueprint
from bot.web.context import PageError, db, now, page, runtime, zone
from bot.web.forms import CSRF_PROBLEM
from bot.web.office_forms import CalendarForm, CsrfOnlyForm
from jobs.queue import enqueue_written
from models.audit import log as audit
from models.calendar import store as calendar_store
from models.core.calendar_text import ScheduleError, format_schedule, parse_schedule
from models.core.labels import (
    CALENDAR_SOURCE_LABELS,
    CALENDAR_STATUS_LABELS,
    CLOCK_LABELS,
    PUSH_KIND_LABELS,
    ROLE_LABELS,
)
from models.notification import log as message_log
from models.people.staff import all_staff
from models.ticket import clocks

OFFICER = frozenset({"officer"})
OFFICE_READERS = frozenset({"officer", "leader"})
AUDIT_READERS = frozenset({"officer", "leader", "executive"})
MESSAGE_STATES = {"pending": "待发送", "sent": "已发送", "failed": "发送失败", "skipped": "未发送"}
YEARS_AHEAD = 5


def _checked(form) -> None:
    if not form.validate_on_submit():
        raise PageError(400, "页面已过期", CSRF_PROBLEM)


def _older(endpoint: str, last_id: int | None) -> str | None:
    """The next (older) page: the same filters, before the last id shown."""
    if last_id is None:
        return None
    args = {key: value for key, value in request.args.items() if key != "before"}
    return url_for(endpoint, **args, before=last_id)


def _before() -> int | None:
    raw = request.args.get("before", "")
    return int(raw) if raw.isdigit() else None


# --- the message log -----------------------------------------------------------------------


@blueprint.get("/messages")
@login_required
@roles_required(OFFICE_READERS, "消息记录")
def message_list():
    status = request.args.get("status", "")
    if status and status not in MESSAGE_STATES:
        raise PageError(400, "筛选条件无效", f"没有「{status[:10]}」这种发送状态。")
    where = message_log.LogFilter(
        status=status or None,
        kind=request.args.get("kind") or None,
        ticket_number=request.args.get("number") or None,
    )
    size = runtime().settings.web.page_size
    rows = message_log.page(db(), where, before_id=_before(), limit=size)
    return page(
        "web/messages.html",
        rows=rows,
        counts=message_log.status_counts(db()),
        states=MESSAGE_STATES,
        kinds=PUSH_KIND_LABELS,
        args=request.args,
        next_url=_older(
            "web.message_list", rows[-1].notification.id if len(rows) == size else None
        ),
        resend_form=CsrfOnlyForm(),
        resends=user().role in OFFICER,
    )


@blueprint.post("/messages/<int:notification_id>/resend")
@login_required
@roles_required(OFFICER, "重发消息")
def message_resend(notification_id: int):
    _checked(CsrfOnlyForm())
    session = db()
    try:
        message_log.resend(session, notification_id, who(), now())
    except message_log.ResendRefused as refused:
        session.rollback()
        raise PageError(409, "不能重发", str(refused)) from None
    session.commit()
    enqueue_written(runtime(), session)
    flash(f"消息 #{notification_id} 已重新排队发送。", "success")
    return redirect(url_for("web.message_list", status="pending"), 303)


# --- the calendar --------------------------------------------------------------------------


def _years() -> tuple[int, int]:
    this_year = now().astimezone(zone()).year
    return this_year, this_year + 1


@blueprint.get("/calendar")
@login_required
@roles_required(OFFICE_READERS, "工作日历")
def calendar_page():
    session = db()
    calendar = runtime().policy.deadlines.calendar
    views = [calendar_store.year_view(session, calendar, year) for year in _years()]
    return page(
        "web/calendar/index.html",
        views=views,
        provisional=clocks.provisional_running(session),
        statuses=CALENDAR_STATUS_LABELS,
        sources=CALENDAR_SOURCE_LABELS,
        clock_labels=CLOCK_LABELS,
        edits=user().role in OFFICER,
        other_years=sorted({y.year for y in _entered_years()} - set(_years())),
    )


def _entered_years():
    return calendar_store.load_entered(db())


def _year(year: int) -> int:
    this_year = now().astimezone(zone()).year
    if not this_year - 1 <= year <= this_year + YEARS_AHEAD:
        raise PageError(
            404, "年份超出范围", f"只能编辑 {this_year - 1} 至 {this_year + YEARS_AHEAD} 年的日历。"
        )
    return year


@blueprint.get("/calendar/<int:year>")
@login_required
@roles_required(OFFICER, "编辑工作日历")
def calendar_edit(year: int):
    return render_calendar_edit(_year(year))


def render_calendar_edit(year: int, form: CalendarForm | None = None, problems=(), status=200):
    session = db()
    if form is None:
        form = CalendarForm(
            data={"days": format_schedule(calendar_store.listed_days(session, year))}
        )
    calendar = runtime().policy.deadlines.calendar
    return page(
        "web/calendar/edit.html",
        status,
        view=calendar_store.year_view(session, calendar, year),
        form=form,
        remove_form=CsrfOnlyForm(prefix="remove"),
        problems=problems,
        statuses=CALENDAR_STATUS_LABELS,
        sources=CALENDAR_SOURCE_LABELS,
    )


@blueprint.post("/calendar/<int:year>")
@login_required
@roles_required(OFFICER, "编辑工作日历")
def calendar_save(year: int):
    year, form = _year(year), CalendarForm()
    _checked(form)
    text = form.days.data or ""
    if not text.strip():
        problems = ["请填写放假与调休安排；如要恢复按配置或暂定规则计算，请点「删除录入的日历」。"]
        return render_calendar_edit(year, form, problems, 422)
    try:
        days = list(parse_schedule(text)[1].values())
    except ScheduleError as refused:
        return render_calendar_edit(year, form, refused.problems, 422)
    strays = sorted({d.day.year for d in days} - {year})
    if strays:
        problems = [f"只能填写 {year} 年的日期（发现 {'、'.join(map(str, strays))} 年）"]
        return render_calendar_edit(year, form, problems, 422)
    session = db()
    change = calendar_store.enter_years(
        session, days, who(), now(), runtime().policy.deadlines, source="web", years={year}
    )
    session.commit()
    runtime().refresh_policy()
    flash(f"{year}年工作日历已保存，{len(change.moved)} 个工单的时限已重新计算。", "success")
    return redirect(url_for("web.calendar_page"), 303)


@blueprint.post("/calendar/<int:year>/remove")
@login_required
@roles_required(OFFICER, "编辑工作日历")
def calendar_remove(year: int):
    year = _year(year)
    _checked(CsrfOnlyForm(prefix="remove"))
    session = db()
    if calendar_store.entered_year(session, year) is None:
        raise PageError(409, "无需删除", f"{year}年没有录入的日历。")
    change = calendar_store.remove_year(session, year, who(), now(), runtime().policy.deadlines)
    session.commit()
    runtime().refresh_policy()
    flash(f"已删除{year}年录入的日历，{len(change.moved)} 个工单的时限已重新计算。", "success")
    return redirect(url_for("web.calendar_page"), 303)


# --- the audit log -------------------------------------------------------------------------


@blueprint.get("/audit")
@login_required
@roles_required(AUDIT_READERS, "审计日志")
def audit_page():
    action = request.args.get("action", "")
    if action and action not in audit.ACTIONS:
        raise PageError(400, "筛选条件无效", "没有这种操作类型。")
    staff_raw = request.args.get("staff", "")
    since = _day(request.args.get("from", ""))
    until = _day(request.args.get("to", ""))
    where = audit.AuditFilter(
        action=action or None,
        staff_id=int(staff_raw) if staff_raw.isdigit() else None,
        since=since,
        until=until + timedelta(days=1) if until else None,
    )
    size = runtime().settings.web.page_size
    entries = audit.entries(db(), where, before_id=_before(), limit=size)
    return page(
        "web/audit.html",
        entries=entries,
        actions=audit.ACTIONS,
        roles=ROLE_LABELS,
        people=all_staff(db()),
        args=request.args,
        next_url=_older("web.audit_page", entries[-1].id if len(entries) == size else None),
    )


def _day(raw: str) -> datetime | None:
    try:
        return datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=zone()) if raw else None
    except ValueError:
        raise PageError(400, "日期格式不正确", f"日期应为 2026-11-30 的格式：{raw[:20]}") from None
