"""`/work`: the office's work queues (待办队列), each with the action that empties an item.

The queues and who sees them are `models.queues`; a ticket's action is the workflow move the
chat makes for it (回访, 审批, 签批, 延期, 派单), built from the ticket page's own forms and
`bot.web.actions` and applied by `perform`, so a refusal reads exactly as in the chat. The
rating call-back and the accountability review have their own appliers.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from bot.web import forms, office_present
from bot.web.access import user
from bot.web.actions import ACTIONS, ActionContext, assign_choices, move_for
from bot.web.blueprint import blueprint
from bot.web.context import PageError, db, now, page, runtime, zone
from bot.web.forms import CSRF_PROBLEM
from bot.web.office_forms import RatingCallbackForm, ReviewForm
from jobs.queue import enqueue_written
from models import queues
from models.core.labels import ROLE_LABELS, STAFF_ROLES
from models.core.workflow import MOVE_LABELS, MoveRefused, allowed_moves, can_view
from models.core.workflow_rules import who_refusal
from models.people.tables import Staff
from models.rating.callbacks import CallbackRefused, record_outcome
from models.rating.tables import RatingCallback
from models.ticket import accountability
from models.ticket import queries as ticket_queries
from models.ticket.intake import find_by_number, normalize_number
from models.ticket.service import perform, snapshot
from models.ticket.tables import Ticket


@dataclass(frozen=True)
class TicketAction:
    """The move a ticket queue's items take, and the form that fills it."""

    kind: str
    form: type[FlaskForm]
    label: str = ""  # the text field's label, when it differs from the form's own


TICKET_ACTIONS = {
    "phone_callbacks": TicketAction("callback", forms.CallbackForm),
    "money": TicketAction("decide_money", forms.DecideForm),
    "signoff": TicketAction("signoff", forms.NoteForm, "签批意见（可不填）"),
    "extensions": TicketAction("extend", forms.ExtendForm),
    "returned": TicketAction("assign", forms.AssignForm),
    "unassigned": TicketAction("assign", forms.AssignForm),
}


@dataclass(frozen=True)
class ItemView:
    item: object
    form: FlaskForm
    facts: list[tuple[str, str]]
    number: str  # the ticket it is about ("" for a rating of no ticket)


@dataclass(frozen=True)
class Problem:
    """A refused action: which item, and the reason."""

    item_id: int
    reason: str


def viewer() -> queues.Viewer:
    person = user()
    return queues.Viewer(person.role, person.staff_id, person.department_id)


@blueprint.get("/work")
@login_required
def work():
    looking = viewer()
    counts = queues.counts(db(), looking, runtime().policy.workflow)
    shown = [(queue, counts[queue.key]) for queue in queues.visible(looking)]
    return page("web/work/index.html", queues=shown, total=sum(counts.values()))


@blueprint.get("/work/<key>")
@login_required
def work_queue(key: str):
    return render_queue(key)


def _queue(key: str) -> queues.Queue:
    queue = queues.QUEUES.get(key)
    if queue is None:
        raise PageError(404, "没有这个队列", f"没有名为「{key}」的待办队列。")
    if user().role not in queue.roles:
        allowed = "、".join(ROLE_LABELS[r] for r in STAFF_ROLES if r in queue.roles)
        raise PageError(403, "无权访问", f"无权操作：{queue.title}仅限{allowed}。")
    return queue


def render_queue(key: str, problem: Problem | None = None, status: int = 200):
    queue = _queue(key)
    found = queues.items(db(), key, viewer(), runtime().policy.workflow)
    rows = [_view(key, item) for item in found.items]
    return page(
        "web/work/queue.html",
        status,
        queue=queue,
        found=found,
        rows=rows,
        problem=problem,
        button=_button(key, queue),
    )


def _button(key: str, queue: queues.Queue) -> str:
    action = TICKET_ACTIONS.get(key)
    if action is None:
        return queue.action
    return ACTIONS[action.kind].button or MOVE_LABELS[action.kind]


def _view(key: str, item) -> ItemView:
    if key == "rating_callbacks":
        number = office_present.rating_ticket_number(db(), item)
    else:
        number = item.number
    facts = office_present.queue_facts(key, item, zone())
    return ItemView(item, _item_form(key, item), facts, number)


def _item_form(key: str, item) -> FlaskForm:
    prefix = f"i{item.id}"
    if key == "rating_callbacks":
        return RatingCallbackForm(prefix=prefix)
    if key == "accountability":
        return ReviewForm(prefix=prefix)
    action = TICKET_ACTIONS[key]
    form = action.form(prefix=prefix)
    if action.label:
        form.text.label.text = action.label
    if action.kind == "assign":
        form.target.choices = assign_choices(_context(action.kind, item))
    return form


def _context(kind: str, ticket: Ticket) -> ActionContext:
    return ActionContext(kind, db(), ticket, user().actor(), runtime().policy.workflow)


@blueprint.post("/work/<key>/tickets/<number>")
@login_required
def work_ticket_action(key: str, number: str):
    """A queue item's move (回访, 审批, 签批, 延期, 派单), through `perform`."""
    _queue(key)
    if key not in TICKET_ACTIONS:
        raise PageError(404, "没有这个操作", "该队列的事项不在此办理。")
    session = db()
    ticket = ticket_queries.lock_by_number(session, normalize_number(number))
    if ticket is None or not can_view(snapshot(ticket), user().actor()):
        raise PageError(
            404, "未找到工单", f"未找到工单 {normalize_number(number)[:20]}，请核对单号。"
        )
    form = _item_form(key, ticket)
    if not form.validate_on_submit():
        raise PageError(400, "页面已过期", CSRF_PROBLEM)
    kind = TICKET_ACTIONS[key].kind
    context = _context(kind, ticket)
    try:
        outcome = perform(
            session, ticket, context.actor, move_for(form, context), now(), runtime().policy
        )
    except MoveRefused as refused:
        session.rollback()
        status = _refusal_status(number, kind)
        return render_queue(key, Problem(ticket.id, refused.reason), status)
    session.commit()
    enqueue_written(runtime(), session)
    flash(f"{ticket.number}：{outcome.event_text}", "success")
    return redirect(url_for("web.work_queue", key=key), 303)


def _refusal_status(number: str, kind: str) -> int:
    """403 for a person who may not make the move, 409 for a ticket not in a state for it,
    422 when the move itself was refused (its arguments)."""
    ticket = find_by_number(db(), number)
    current, actor, config = snapshot(ticket), user().actor(), runtime().policy.workflow
    if who_refusal(current, actor, kind, config):
        return 403
    return 422 if kind in allowed_moves(current, actor, config) else 409


@blueprint.post("/work/rating_callbacks/<int:task_id>")
@login_required
def work_rating_callback(task_id: int):
    _queue("rating_callbacks")
    session = db()
    task = session.get(RatingCallback, task_id)
    if task is None:
        raise PageError(404, "没有这项回访", "没有这项评价回访任务。")
    form = RatingCallbackForm(prefix=f"i{task_id}")
    if not form.validate_on_submit():
        raise PageError(400, "页面已过期", CSRF_PROBLEM)
    staff = session.get(Staff, user().staff_id)
    reached = {"yes": True, "no": False}.get(form.reached.data or "")
    try:
        if reached is None:
            raise CallbackRefused("请选择是否接通")
        record_outcome(session, task_id, staff, reached, form.result.data or "", now())
    except CallbackRefused as refused:
        session.rollback()
        status = 403 if "无权" in str(refused) else 422
        return render_queue("rating_callbacks", Problem(task_id, str(refused)), status)
    session.commit()
    flash("评价回访情况已记录。", "success")
    return redirect(url_for("web.work_queue", key="rating_callbacks"), 303)


@blueprint.post("/work/accountability/<number>")
@login_required
def work_review(number: str):
    _queue("accountability")
    session = db()
    ticket = session.scalar(select(Ticket).where(Ticket.number == normalize_number(number)))
    if ticket is None:
        raise PageError(
            404, "未找到工单", f"未找到工单 {normalize_number(number)[:20]}，请核对单号。"
        )
    form = ReviewForm(prefix=f"i{ticket.id}")
    if not form.validate_on_submit():
        raise PageError(400, "页面已过期", CSRF_PROBLEM)
    staff = session.get(Staff, user().staff_id)
    try:
        accountability.review(
            session, ticket, staff, form.decision.data or "", form.note.data or "", now()
        )
    except accountability.ReviewRefused as refused:
        session.rollback()
        return render_queue("accountability", Problem(ticket.id, str(refused)), 422)
    session.commit()
    flash(f"{ticket.number} 责任追究审查已记录。", "success")
    return redirect(url_for("web.work_queue", key="accountability"), 303)
