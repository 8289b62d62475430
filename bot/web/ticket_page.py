"""`/tickets/<单号>`: the page every push links to, its actions, attachments and printable form.

A ticket the signed-in person may not see answers exactly like one that does not exist (404),
as in the chat. Every action goes through ``perform``; a refusal shows the workflow's own text
beside the form, which keeps what was typed.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, send_file, url_for
from flask_login import login_required
from flask_wtf import FlaskForm

from bot.web import present
from bot.web.access import sees_full_phone, user
from bot.web.actions import ACTIONS, ActionContext, form_for, move_for
from bot.web.blueprint import blueprint
from bot.web.context import PageError, db, now, page, runtime
from bot.web.forms import CSRF_PROBLEM
from jobs.queue import enqueue_written
from models.core.workflow import MOVE_LABELS, Actor, MoveRefused, allowed_moves, can_view
from models.core.workflow_rules import (
    FINAL_REFUSALS,
    precondition_refusal,
    status_refusal,
    who_refusal,
)
from models.ticket import queries as ticket_queries
from models.ticket.intake import find_by_number, normalize_number
from models.ticket.service import perform, snapshot
from models.ticket.tables import Ticket

# Moves that a pending request or a missing sign-off holds up (others simply do not apply).
HELD_UP = ("resolve", "request_money", "explain")
# What the ticket waits for, shown to someone who has nothing to do on it now.
WAITING_FOR = {
    "received": "等待派单（投诉负责人、分管领导或受理部门负责人）。",
    "assigned": "等待承办人接单。",
    "processing": "承办部门正在处理。",
    "resolved": "已办结，等待回访。",
    "archived": "回访满意，已归档。",
    "invalid": "已认定为无效投诉并结案。",
}


@dataclass(frozen=True)
class Refusal:
    """A move that was refused: which form, what it held, and the workflow's reason."""

    kind: str
    form: FlaskForm | None
    reason: str


@blueprint.get("/tickets/<number>")
@login_required
def ticket(number: str):
    return render_ticket(visible_ticket(number))


@blueprint.post("/tickets/<number>/actions/<kind>")
@login_required
def act(number: str, kind: str):
    if kind not in ACTIONS:
        raise PageError(404, "没有这个操作", f"没有名为「{kind}」的工单操作。")
    session = db()
    found = ticket_queries.lock_by_number(session, normalize_number(number))
    found = _visible(found, number)
    actor = user().actor()
    context = ActionContext(kind, session, found, actor, runtime().policy.workflow)
    form = form_for(context)
    if not form.validate_on_submit():
        raise PageError(400, "页面已过期", CSRF_PROBLEM)
    try:
        outcome = perform(session, found, actor, move_for(form, context), now(), runtime().policy)
    except MoveRefused as refused:
        session.rollback()
        status = _refusal_status(found, actor, kind)
        kept = form if status != 403 else None  # what was typed stays, beside the reason
        current = _visible(find_by_number(session, number), number)
        return render_ticket(current, Refusal(kind, kept, refused.reason), status)
    session.commit()
    enqueue_written(runtime(), session)
    label = MOVE_LABELS[kind]
    flash(f"{label}成功。{outcome.event_text.removeprefix(f'{label}：')}", "success")
    return redirect(url_for("web.ticket", number=found.number), 303)


@blueprint.get("/tickets/<number>/print")
@login_required
def print_form(number: str):
    found = visible_ticket(number)
    return page(
        "web/tickets/print.html",
        ticket=found,
        events=found.events,
        printed_at=now(),
        company=runtime().settings.app.company_name,
    )


@blueprint.get("/tickets/<number>/attachments/<int:index>")
@login_required
def attachment(number: str, index: int):
    found = visible_ticket(number)
    items = found.attachments or []
    if not 0 <= index < len(items):
        raise PageError(404, "没有这个附件", f"工单 {found.number} 没有第 {index + 1} 个附件。")
    root = present.media_root(runtime().settings.web.media_dir)
    path = present.attachment_file(items[index], root)
    if path is None:
        raise PageError(404, "附件尚未保存", "该附件尚未从微信下载保存，暂时无法查看。")
    return send_file(path, mimetype=items[index].get("content_type") or None, max_age=3600)


def visible_ticket(number: str) -> Ticket:
    return _visible(find_by_number(db(), number), number)


def _visible(found: Ticket | None, number: str) -> Ticket:
    if found is None or not can_view(snapshot(found), user().actor()):
        shown = normalize_number(number)[:20]
        raise PageError(404, "未找到工单", f"未找到工单 {shown}，请核对单号。")
    return found


def _refusal_status(found: Ticket, actor, kind: str) -> int:
    """403 when the person may not make this move on this ticket, 409 when the ticket's state
    does not allow it now, 422 when the move was allowed but its arguments were refused."""
    config = runtime().policy.workflow
    current = snapshot(found)
    if current.status in FINAL_REFUSALS or kind not in allowed_moves(current, actor, config):
        return 403 if who_refusal(current, actor, kind, config) else 409
    return 422


def blocked_moves(found: Ticket, actor: Actor) -> list[tuple[str, str]]:
    """Moves the person could make in this state but for a condition not yet met (a pending
    money request, a missing sign-off…), with the workflow's reason: why 办结 is missing."""
    config, current = runtime().policy.workflow, snapshot(found)
    if current.status in FINAL_REFUSALS:
        return []
    found_reasons = []
    for kind in HELD_UP:
        if who_refusal(current, actor, kind, config) or status_refusal(current, kind):
            continue
        reason = precondition_refusal(current, kind, config)
        if reason:
            found_reasons.append((MOVE_LABELS[kind], reason))
    return found_reasons


def render_ticket(found: Ticket, refusal: Refusal | None = None, status: int = 200):
    session, actor, moment = db(), user().actor(), now()
    allowed = allowed_moves(snapshot(found), actor, runtime().policy.workflow)
    actions = []
    kept = refusal.kind if refusal is not None and refusal.form is not None else None
    for kind, row in ACTIONS.items():
        if kind not in allowed and kind != kept:
            continue
        if kind == kept:
            form = refusal.form
        else:
            form = form_for(ActionContext(kind, session, found, actor, runtime().policy.workflow))
        actions.append((kind, row, form))
    return page(
        "web/tickets/show.html",
        status,
        ticket=found,
        actions=actions,
        blocked=blocked_moves(found, actor),
        labels=MOVE_LABELS,
        refusal=refusal,
        deadlines=present.deadline_rows(found, moment),
        notifications=present.notification_rows(session, found),
        repeats=present.later_repeats(session, found),
        flags=present.flags(found),
        media_root=present.media_root(runtime().settings.web.media_dir),
        full_phone=sees_full_phone(),
        waiting_for=WAITING_FOR,
        now=moment,
    )
