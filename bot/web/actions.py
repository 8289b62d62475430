"""The ticket page's actions: one row per kind of move (PRODUCT §6), keyed like the workflow.

A row says which form the move needs and how the filled form becomes the ``Move``; the page
shows the rows of the kinds ``allowed_moves`` lets the signed-in person make now, in table
order, and every submitted form goes through ``perform``. A new kind of move needs one row
here: a note (``_note``) or a required text (``_text``) row is one line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms.fields.choices import SelectChoice

from bot.web import forms
from models.core.labels import SEVERITY_LABELS
from models.core.workflow import (
    Actor,
    Move,
    MoveRefused,
    Role,
    Severity,
    WorkflowConfig,
)
from models.core.workflow_moves import SEVERITY_RANK
from models.core.workflow_types import MONEY_KINDS
from models.people.tables import Department, Staff
from models.ticket import queries as ticket_queries
from models.ticket.tables import Ticket


@dataclass(frozen=True)
class ActionContext:
    """What building an action's form and its move may look at."""

    kind: str
    session: Session
    ticket: Ticket
    actor: Actor
    config: WorkflowConfig


@dataclass(frozen=True)
class Action:
    """One row: the form (built for a ticket and a person), the move it makes, a hint."""

    form: Callable[[ActionContext], FlaskForm]
    move: Callable[[FlaskForm, ActionContext], Move]
    hint: str
    button: str = ""


def form_for(ctx: ActionContext) -> FlaskForm:
    return ACTIONS[ctx.kind].form(ctx)


def move_for(form: FlaskForm, ctx: ActionContext) -> Move:
    return ACTIONS[ctx.kind].move(form, ctx)


# --- rows that only carry a text ------------------------------------------------------------


def _note(label: str = "备注（可不填）") -> Callable[[ActionContext], FlaskForm]:
    return _text(label, required=False)


def _text(label: str, required: bool = True) -> Callable[[ActionContext], FlaskForm]:
    def build(ctx: ActionContext) -> FlaskForm:
        form = forms.NoteForm(prefix=ctx.kind)
        form.text.label.text = label
        form.text.render_kw = {"rows": 3 if required else 2, "required": required}
        return form

    return build


def _text_move(form: FlaskForm, ctx: ActionContext) -> Move:
    return Move(ctx.kind, text=form.text.data or "")


# --- 派单 ------------------------------------------------------------------------------------


def _assign_form(ctx: ActionContext) -> FlaskForm:
    form = forms.AssignForm(prefix=ctx.kind)
    form.target.choices = assign_choices(ctx)
    if form.target.data is None and ctx.ticket.handling_department_id is not None:
        form.target.data = _target_value(ctx.ticket.handling_department_id, ctx.ticket.handler_id)
    return form


def assign_choices(ctx: ActionContext) -> list[SelectChoice]:
    """Per department: the department alone (its head names the handler), then its people."""
    choices = [SelectChoice("", "— 请选择承办部门 / 承办人 —")]
    for department in ticket_queries.departments(ctx.session):
        if ctx.actor.role is Role.DEPT_HEAD and department.id != ctx.actor.department_id:
            continue
        group = department.name
        choices.append(
            SelectChoice(str(department.id), f"{group}（由部门负责人指定承办人）", optgroup=group)
        )
        for person in ticket_queries.assignable_staff(ctx.session, department.id):
            value = _target_value(department.id, person.id)
            choices.append(SelectChoice(value, f"{group} · {person.name}", optgroup=group))
    return choices


def _target_value(department_id: int, handler_id: int | None) -> str:
    return str(department_id) if handler_id is None else f"{department_id}:{handler_id}"


def _assign_move(form: FlaskForm, ctx: ActionContext) -> Move:
    department_part, _, handler_part = (form.target.data or "").partition(":")
    if not department_part.isdigit():
        return Move("assign", text=form.text.data or "")  # the workflow: 缺少承办部门
    department = ctx.session.get(Department, int(department_part))
    if department is None:
        raise MoveRefused("未找到该部门，请重新选择")
    handler = _handler(ctx, department, handler_part)
    return Move(
        "assign",
        department_id=department.id,
        handler_id=handler.id if handler else None,
        text=form.text.data or "",
        department_name=department.name,
        handler_name=handler.name if handler else "",
    )


def _handler(ctx: ActionContext, department: Department, raw: str) -> Staff | None:
    """The named handler, who must be one of the department's assignable people."""
    if not raw:
        return None
    people = ticket_queries.assignable_staff(ctx.session, department.id)
    found = next((p for p in people if raw.isdigit() and p.id == int(raw)), None)
    if found is None:
        names = "、".join(p.name for p in people) or "（该部门暂无可指定的人员）"
        raise MoveRefused(f"{department.name}没有这位承办人。可选：{names}")
    return found


# --- moves with choices ----------------------------------------------------------------------


def _escalate_form(ctx: ActionContext) -> FlaskForm:
    form = forms.EscalateForm(prefix=ctx.kind)
    current = SEVERITY_RANK[Severity(ctx.ticket.severity)]
    form.severity.choices = [
        SelectChoice(str(level), SEVERITY_LABELS[level])
        for level in (Severity.COMPLEX, Severity.MAJOR)
        if SEVERITY_RANK[level] > current
    ]
    return form


def _escalate_move(form: FlaskForm, ctx: ActionContext) -> Move:
    raw = form.severity.data or ""
    severity = Severity(raw) if raw in {s.value for s in Severity} else None
    return Move("escalate", severity=severity, text=form.text.data or "")


def _extend_form(ctx: ActionContext) -> FlaskForm:
    form = forms.ExtendForm(prefix=ctx.kind)
    form.workdays.render_kw = {**form.workdays.render_kw, "max": ctx.config.max_extension_workdays}
    return form


def _extend_move(form: FlaskForm, ctx: ActionContext) -> Move:
    raw = (form.workdays.data or "").strip()
    workdays = int(raw) if raw.isdigit() else None
    return Move("extend", workdays=workdays, text=form.text.data or "")


def _money_form(ctx: ActionContext) -> FlaskForm:
    form = forms.MoneyForm(prefix=ctx.kind)
    form.money_kind.choices = [SelectChoice(kind) for kind in MONEY_KINDS]
    return form


def _money_move(form: FlaskForm, ctx: ActionContext) -> Move:
    return Move(
        "request_money",
        money_kind=form.money_kind.data or "",
        amount=(form.amount.data or "").strip().lstrip("¥￥").removesuffix("元"),
        text=form.text.data or "",
    )


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def _decide_move(form: FlaskForm, ctx: ActionContext) -> Move:
    return Move("decide_money", approve=_yes_no(form.approve.data), text=form.text.data or "")


def _callback_move(form: FlaskForm, ctx: ActionContext) -> Move:
    return Move("callback", satisfied=_yes_no(form.satisfied.data), text=form.text.data or "")


def _plain(form_class: type[FlaskForm]) -> Callable[[ActionContext], FlaskForm]:
    return lambda ctx: form_class(prefix=ctx.kind)


# --- the table -------------------------------------------------------------------------------

ACTIONS: dict[str, Action] = {
    "assign": Action(
        _assign_form, _assign_move, "选择承办部门和承办人；只选部门则由部门负责人指定"
    ),
    "ack": Action(_note(), _text_move, "确认接单，开始调查"),
    "progress": Action(_text("进展内容"), _text_move, "记录处理进展", "记录进展"),
    "resolve": Action(_text("处理结果"), _text_move, "填写处理结果并办结，开始回访计时"),
    "callback": Action(
        _plain(forms.CallbackForm),
        _callback_move,
        "记录电话回访：满意则归档，不满意则重新交办",
        "记录回访",
    ),
    "explain": Action(
        _text("原因"), _text_move, "书面说明情况，报综合管理部备案并申请新时限", "提交书面说明"
    ),
    "request_money": Action(_money_form, _money_move, "退款、赔款、折让报分管领导审批", "提交申请"),
    "decide_money": Action(
        _plain(forms.DecideForm), _decide_move, "审批承办部门的金额申请", "提交审批意见"
    ),
    "extend": Action(_extend_form, _extend_move, "批准书面说明，给出新的办结时限", "批准延期"),
    "urge": Action(_note("催办说明（可不填）"), _text_move, "催促承办人办理"),
    "escalate": Action(_escalate_form, _escalate_move, "设为复杂或重大投诉，重新计算办结时限"),
    "signoff": Action(_note("签批意见（可不填）"), _text_move, "多轮重办后签批，准予办结"),
    "invalid": Action(
        _text("无效原因（将告知投诉人）"), _text_move, "认定为无效投诉并结案", "认定无效"
    ),
}
