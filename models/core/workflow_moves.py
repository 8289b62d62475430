"""Outcome builders of the ticket workflow: one function per move (派单、接单、办结…).

Called only after ``models.core.workflow_rules.gate_refusal`` let the move through; each builder
checks the move's own arguments (raising ``MoveRefused``) and returns the ``Outcome``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from models.core.labels import CLOCKS, SEVERITY_LABELS
from models.core.payload import Payload
from models.core.workflow_rules import OPEN, repeat_flags
from models.core.workflow_types import (
    MONEY_KINDS,
    WECHAT_CHANNEL,
    Actor,
    ClockChange,
    Move,
    MoveRefused,
    Notice,
    Outcome,
    Role,
    Severity,
    Status,
    TicketSnapshot,
    WorkflowConfig,
)

EXTRA_COLUMNS = frozenset({"result", "invalid_reason"})
AMOUNT_PATTERN = re.compile(r"\d{1,10}(\.\d{1,2})?")
SEVERITY_RANK = {Severity.GENERAL: 0, Severity.COMPLEX: 1, Severity.MAJOR: 2}

Builder = Callable[[TicketSnapshot, Actor, Move, WorkflowConfig], Outcome]


def build_outcome(
    ticket: TicketSnapshot, actor: Actor, move: Move, config: WorkflowConfig
) -> Outcome:
    return BUILDERS[move.kind](ticket, actor, move, config)


# --- helpers -------------------------------------------------------------------------------


def _changes(ticket: TicketSnapshot, **values: object) -> dict:
    """Only the columns whose value actually changes (plus the free-text extra columns)."""
    return {
        column: value
        for column, value in values.items()
        if column in EXTRA_COLUMNS or getattr(ticket, column) != value
    }


def _required_text(move: Move, missing: str) -> str:
    text = move.text.strip()
    if not text:
        raise MoveRefused(missing)
    return text


def _with_note(text: str, note: str, label: str = "") -> str:
    note = note.strip()
    return f"{text}（{label}{note}）" if note else text


def _payload(ticket: TicketSnapshot, **extra: object) -> Payload:
    return Payload(ticket_id=ticket.id, number=ticket.number, **extra)


def _handler_notice(ticket: TicketSnapshot, kind: str, **extra: object) -> Notice:
    """To the handler, or to the handling department's head while no handler is named."""
    if ticket.handler_id is not None:
        return Notice(f"staff:{ticket.handler_id}", kind, _payload(ticket, **extra))
    department = ticket.handling_department_id
    return Notice("dept_head", kind, _payload(ticket, department_id=department, **extra))


def _clocks(*pairs: tuple[str, str]) -> tuple[ClockChange, ...]:
    return tuple(ClockChange(action, clock) for action, clock in pairs)


# --- routing -------------------------------------------------------------------------------


def _assign(ticket: TicketSnapshot, actor: Actor, move: Move, config: WorkflowConfig) -> Outcome:
    if move.department_id is None:
        raise MoveRefused("缺少承办部门")
    if actor.role is Role.DEPT_HEAD and move.department_id != actor.department_id:
        raise MoveRefused("无权操作：部门负责人只能派给本部门")
    first = ticket.status is Status.RECEIVED
    target = (move.department_id, move.handler_id)
    if not first and target == (ticket.handling_department_id, ticket.handler_id):
        raise MoveRefused("该工单已由该部门和承办人办理，无需改派")
    changes = _changes(
        ticket,
        status=Status.ASSIGNED,
        handling_department_id=move.department_id,
        handler_id=move.handler_id,
    )
    verb = "派单" if first else "改派"
    text = _with_note(f"{verb}至 {_target_label(move)}", move.text, "说明：")
    clocks = (
        _clocks(("stop", "route"), ("start", "investigate"), ("start", "resolve"))
        if first
        else _clocks(("restart", "investigate"))
    )
    return Outcome(changes, "assign", text, _assign_notices(ticket, move, first), clocks)


def _target_label(move: Move) -> str:
    department = move.department_name or f"部门#{move.department_id}"
    if move.handler_id is None:
        return f"{department}（待部门负责人指定承办人）"
    return f"{department}（承办人 {move.handler_name or f'#{move.handler_id}'}）"


def _assign_notices(ticket: TicketSnapshot, move: Move, first: bool) -> tuple[Notice, ...]:
    extra = {"department_id": move.department_id, "repeat": ticket.has_open_repeat}
    if move.handler_id is not None:
        notices = [Notice(f"staff:{move.handler_id}", "assignment", _payload(ticket, **extra))]
    else:
        notices = [Notice("dept_head", "assignment", _payload(ticket, **extra))]
    _, accountability = repeat_flags(ticket.has_open_repeat, ticket.repeat_overdue, 0)
    if first and accountability:
        for recipient in ("officer", "leader"):
            notices.append(Notice(recipient, "accountability", _payload(ticket)))
    return tuple(notices)


def _escalate(ticket: TicketSnapshot, actor: Actor, move: Move, config: WorkflowConfig) -> Outcome:
    new = move.severity
    if new is None:
        raise MoveRefused("缺少严重程度（复杂/重大）")
    if new is Severity.GENERAL:
        raise MoveRefused("升级只能设为复杂或重大")
    if SEVERITY_RANK[new] <= SEVERITY_RANK[ticket.severity]:
        raise MoveRefused(f"该工单已是{SEVERITY_LABELS[ticket.severity]}投诉，升级须高于当前程度")
    text = _with_note(
        f"升级为 {SEVERITY_LABELS[new]}（原 {SEVERITY_LABELS[ticket.severity]}）", move.text
    )
    clocks: tuple[ClockChange, ...] = ()
    if ticket.status is Status.RECEIVED and ticket.severity is Severity.GENERAL:
        clocks = _clocks(("start", "route"))
    notices: list[Notice] = []
    if ticket.status in OPEN:
        clocks = _clocks(("restart", "resolve"))
        notices.append(_handler_notice(ticket, "escalated", severity=str(new)))
    if new is Severity.MAJOR:
        notices.append(Notice("executive", "escalated", _payload(ticket, severity=str(new))))
    changes = _changes(ticket, severity=new)
    return Outcome(changes, "escalate", text, tuple(notices), clocks)


def _urge(ticket: TicketSnapshot, actor: Actor, move: Move, config: WorkflowConfig) -> Outcome:
    note = move.text.strip()
    notice = _handler_notice(ticket, "urge", note=note, by=actor.name)
    return Outcome({}, "urge", _with_note("催办", note), (notice,))


def _invalid(ticket: TicketSnapshot, actor: Actor, move: Move, config: WorkflowConfig) -> Outcome:
    reason = _required_text(move, "缺少无效原因")
    changes = _changes(ticket, status=Status.INVALID, invalid_reason=reason)
    notice = Notice("customer", "invalid_reason", _payload(ticket, reason=reason))
    clocks = tuple(ClockChange("stop", clock) for clock in CLOCKS)
    return Outcome(changes, "invalid", f"无效投诉：{reason}", (notice,), clocks)


# --- handling ------------------------------------------------------------------------------


def _ack(ticket: TicketSnapshot, actor: Actor, move: Move, config: WorkflowConfig) -> Outcome:
    handler = ticket.handler_id
    if handler is None and actor.role is Role.DEPT_HEAD:
        handler = actor.staff_id  # the head takes the ticket personally (明确责任人)
    changes = _changes(ticket, status=Status.PROCESSING, handler_id=handler)
    text = _with_note("接单，开始调查", move.text)
    return Outcome(changes, "ack", text, (), _clocks(("stop", "investigate")))


def _progress(ticket: TicketSnapshot, actor: Actor, move: Move, config: WorkflowConfig) -> Outcome:
    note = _required_text(move, "缺少进展内容")
    return Outcome({}, "progress", f"进展：{note}")


def _resolve(ticket: TicketSnapshot, actor: Actor, move: Move, config: WorkflowConfig) -> Outcome:
    result = _required_text(move, "缺少处理结果")
    phone = ticket.customer_id is None or ticket.source_channel != WECHAT_CHANNEL
    changes = _changes(
        ticket,
        status=Status.RESOLVED,
        result=result,
        explanation_pending=False,
        phone_callback=ticket.phone_callback or phone,
    )
    notices = [Notice("officer", "callback_request", _payload(ticket, result=result, phone=phone))]
    if ticket.customer_id is not None:
        notices.append(Notice("customer", "callback_request", _payload(ticket, result=result)))
    clocks = _clocks(("stop", "resolve"), ("start", "callback"))
    return Outcome(changes, "resolve", f"办结：{result}", tuple(notices), clocks)


def _explain(ticket: TicketSnapshot, actor: Actor, move: Move, config: WorkflowConfig) -> Outcome:
    reason = _required_text(move, "缺少说明原因")
    changes = _changes(ticket, explanation_pending=True)
    notice = Notice("officer", "explanation", _payload(ticket, reason=reason))
    text = f"书面说明：{reason}（报{config.general_department}备案）"
    return Outcome(changes, "explain", text, (notice,))


def _extend(ticket: TicketSnapshot, actor: Actor, move: Move, config: WorkflowConfig) -> Outcome:
    days = move.workdays
    if days is None:
        raise MoveRefused("缺少延期工作日数")
    if not 1 <= days <= config.max_extension_workdays:
        raise MoveRefused(f"延期工作日数须在 1 到 {config.max_extension_workdays} 之间")
    changes = _changes(ticket, explanation_pending=False)
    notice = _handler_notice(ticket, "explanation", approved=True, workdays=days)
    text = _with_note(f"批准书面说明，延期 {days} 个工作日", move.text)
    clocks = (ClockChange("extend", "resolve", days),)
    return Outcome(changes, "extend", text, (notice,), clocks)


# --- money ---------------------------------------------------------------------------------


def normalize_amount(raw: str) -> str:
    """A positive amount in yuan with at most two decimals, as a two-decimal string."""
    text = raw.strip()
    if not text:
        raise MoveRefused("缺少金额")
    if not AMOUNT_PATTERN.fullmatch(text) or Decimal(text) <= 0:
        raise MoveRefused("金额须为大于 0 的数字，最多两位小数")
    return str(Decimal(text).quantize(Decimal("0.01")))


def _request_money(
    ticket: TicketSnapshot, actor: Actor, move: Move, config: WorkflowConfig
) -> Outcome:
    if move.money_kind not in MONEY_KINDS:
        raise MoveRefused(f"申请类型须为{'、'.join(MONEY_KINDS)}之一")
    amount = normalize_amount(move.amount)
    changes = _changes(
        ticket, money_status="pending", money_kind=move.money_kind, money_amount=amount
    )
    payload = _payload(ticket, money_kind=move.money_kind, amount=amount, note=move.text.strip())
    notices = [Notice("leader", "approval_request", payload)]
    if ticket.severity is Severity.MAJOR:
        notices.append(Notice("executive", "approval_request", payload))
    text = _with_note(f"申请{move.money_kind} {amount} 元", move.text, "说明：")
    return Outcome(changes, "request_money", text, tuple(notices))


def _decide_money(
    ticket: TicketSnapshot, actor: Actor, move: Move, config: WorkflowConfig
) -> Outcome:
    if move.approve is None:
        raise MoveRefused("请选择同意或驳回")
    decision = "approved" if move.approve else "rejected"
    changes = _changes(ticket, money_status=decision)
    verb = "同意" if move.approve else "驳回"
    text = _with_note(
        f"审批{verb}：{ticket.money_kind} {ticket.money_amount} 元", move.text, "意见："
    )
    notice = _handler_notice(
        ticket, "approval_result", approved=move.approve, note=move.text.strip()
    )
    return Outcome(changes, "decide_money", text, (notice,))


# --- call-back and re-handling -------------------------------------------------------------


def _callback(ticket: TicketSnapshot, actor: Actor, move: Move, config: WorkflowConfig) -> Outcome:
    if move.satisfied is None:
        raise MoveRefused("请选择满意或不满意")
    if move.satisfied:
        return _archive(ticket, actor, move)
    return _reopen(ticket, move, config)


def _archive(ticket: TicketSnapshot, actor: Actor, move: Move) -> Outcome:
    note = move.text.strip()
    notices = [_handler_notice(ticket, "callback_result", satisfied=True, note=note)]
    if actor.role is Role.CUSTOMER:
        notices.append(Notice("officer", "callback_result", _payload(ticket, satisfied=True)))
    changes = _changes(ticket, status=Status.ARCHIVED)
    text = _with_note("回访满意，归档", note, "备注：")
    return Outcome(changes, "archived", text, tuple(notices), _clocks(("stop", "callback")))


def _reopen(ticket: TicketSnapshot, move: Move, config: WorkflowConfig) -> Outcome:
    note = move.text.strip()
    rounds = ticket.rounds + 1
    changes = _changes(
        ticket,
        status=Status.ASSIGNED,
        rounds=rounds,
        escalation_level=ticket.escalation_level + 1,
        leader_signed_off=False,
    )
    extra = {"round": rounds, "note": note}
    notices = (
        Notice("officer", "reopened", _payload(ticket, **extra)),
        Notice("leader", "reopened", _payload(ticket, **extra)),
        _handler_notice(ticket, "reopened", **extra),
    )
    text = _with_note(f"回访不满意，第 {rounds} 轮重办", note, "原因：")
    if rounds >= config.max_rounds:
        text += f"；已重办 {rounds} 轮，办结前需分管领导签批"
    clocks = _clocks(("stop", "callback"), ("restart", "investigate"), ("restart", "resolve"))
    return Outcome(changes, "reopened", text, notices, clocks)


def _signoff(ticket: TicketSnapshot, actor: Actor, move: Move, config: WorkflowConfig) -> Outcome:
    changes = _changes(ticket, leader_signed_off=True)
    notice = _handler_notice(ticket, "approval_result", signoff=True, note=move.text.strip())
    text = _with_note(f"分管领导签批：第 {ticket.rounds} 轮重办可办结", move.text, "意见：")
    return Outcome(changes, "signoff", text, (notice,))


BUILDERS: dict[str, Builder] = {
    "assign": _assign,
    "ack": _ack,
    "progress": _progress,
    "resolve": _resolve,
    "explain": _explain,
    "extend": _extend,
    "request_money": _request_money,
    "decide_money": _decide_money,
    "invalid": _invalid,
    "escalate": _escalate,
    "urge": _urge,
    "callback": _callback,
    "signoff": _signoff,
}
