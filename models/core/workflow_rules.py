"""Gates of the ticket workflow: who may make which move, in which state (谁、何时可以操作).

Every gate returns ``None`` when the move may go ahead, else the Chinese reason for refusing.
Gates look only at the ticket and the actor, never at the move's arguments; argument checks
live in ``models.core.workflow_moves``.
"""

from __future__ import annotations

from models.core.labels import SEVERITY_LABELS
from models.core.workflow_types import (
    GOVERNMENT_CHANNEL,
    MOVE_LABELS,
    Actor,
    Role,
    Severity,
    Status,
    TicketSnapshot,
    WorkflowConfig,
)

HANDLING_MOVES = frozenset({"ack", "progress", "resolve", "explain", "request_money"})
HANDLERS = frozenset({Role.HANDLER, Role.DEPT_HEAD})
SUPERVISORS = frozenset({Role.OFFICER, Role.LEADER})
ACTIVE = frozenset({Status.RECEIVED, Status.ASSIGNED, Status.PROCESSING})
OPEN = frozenset({Status.ASSIGNED, Status.PROCESSING})

MOVE_ROLES: dict[str, frozenset[Role]] = {
    "assign": frozenset({Role.OFFICER, Role.LEADER, Role.DEPT_HEAD}),
    **{kind: frozenset({Role.HANDLER, Role.DEPT_HEAD, Role.OFFICER}) for kind in HANDLING_MOVES},
    "extend": SUPERVISORS,
    "decide_money": frozenset({Role.LEADER, Role.EXECUTIVE}),
    "invalid": frozenset({Role.OFFICER, Role.DEPT_HEAD}),
    "escalate": SUPERVISORS,
    "urge": SUPERVISORS,
    "callback": frozenset({Role.OFFICER, Role.CUSTOMER}),
    "signoff": frozenset({Role.LEADER}),
    "contact": frozenset({Role.HANDLER, Role.DEPT_HEAD, Role.OFFICER}),
    "return": HANDLERS,
}

WHO_HINTS = {
    "assign": "投诉负责人、分管领导或本部门负责人",
    **{kind: "本工单承办人或承办部门负责人" for kind in HANDLING_MOVES},
    "extend": "投诉负责人或分管领导",
    "decide_money": "分管领导或总经理、董事长",
    "invalid": "投诉负责人或本部门负责人",
    "escalate": "投诉负责人或分管领导",
    "urge": "投诉负责人或分管领导",
    "callback": "投诉负责人或投诉人本人",
    "signoff": "分管领导",
    "contact": "投诉负责人、部门负责人或本工单承办人",
    "return": "本工单承办人或承办部门负责人",
}

MOVE_STATUSES: dict[str, frozenset[Status]] = {
    "assign": ACTIVE,
    "ack": frozenset({Status.ASSIGNED}),
    "progress": frozenset({Status.PROCESSING}),
    "resolve": frozenset({Status.PROCESSING}),
    "explain": OPEN,
    "extend": OPEN,
    "request_money": OPEN,
    "decide_money": OPEN,
    "invalid": ACTIVE,
    "escalate": ACTIVE,
    "urge": OPEN,
    "callback": frozenset({Status.RESOLVED}),
    "signoff": OPEN,
    "contact": ACTIVE,
    "return": OPEN,
}

FINAL_REFUSALS = {Status.ARCHIVED: "该工单已归档", Status.INVALID: "该工单已作废"}
STATUS_REFUSALS = {
    Status.RECEIVED: "该工单尚未派单",
    Status.ASSIGNED: "该工单尚未接单，请先接单",
    Status.PROCESSING: "该工单已接单，正在处理中",
    Status.RESOLVED: "该工单已办结",
}
MONEY_BLOCKS_RESOLVE = "涉及退款/赔款/折让，需分管领导审批同意后才能办结"
NOT_OWN_DEPARTMENT = "无权操作：只能处理本部门的工单"


def responsible_department(ticket: TicketSnapshot) -> int | None:
    """The handling department, or the receiving one while nobody handles the ticket yet."""
    if ticket.handling_department_id is not None:
        return ticket.handling_department_id
    return ticket.receiving_department_id


def owns_department(ticket: TicketSnapshot, actor: Actor) -> bool:
    """True when the actor belongs to the ticket's responsible department."""
    department = responsible_department(ticket)
    return department is not None and actor.department_id == department


def is_assigned_handler(ticket: TicketSnapshot, actor: Actor) -> bool:
    return actor.staff_id is not None and actor.staff_id == ticket.handler_id


def is_owner_customer(ticket: TicketSnapshot, actor: Actor) -> bool:
    return (
        actor.role is Role.CUSTOMER
        and actor.customer_id is not None
        and actor.customer_id == ticket.customer_id
    )


def gate_refusal(
    ticket: TicketSnapshot, actor: Actor, kind: str, config: WorkflowConfig
) -> str | None:
    """All argument-free checks in order: final state, who, state, preconditions."""
    if ticket.status in FINAL_REFUSALS:
        return FINAL_REFUSALS[ticket.status]
    return (
        who_refusal(ticket, actor, kind, config)
        or status_refusal(ticket, kind)
        or precondition_refusal(ticket, kind, config)
    )


def who_refusal(
    ticket: TicketSnapshot, actor: Actor, kind: str, config: WorkflowConfig
) -> str | None:
    if actor.role not in MOVE_ROLES[kind]:
        return f"无权操作：{MOVE_LABELS[kind]}仅限{WHO_HINTS[kind]}"
    if kind in HANDLING_MOVES or kind == "return":
        return _handling_refusal(ticket, actor)
    if kind == "contact" and actor.role is not Role.OFFICER:
        return _handling_refusal(ticket, actor)
    if kind == "assign":
        return _assign_refusal(ticket, actor, config)
    if kind == "invalid" and actor.role is Role.DEPT_HEAD and not owns_department(ticket, actor):
        return NOT_OWN_DEPARTMENT
    if kind == "callback" and actor.role is Role.CUSTOMER and not is_owner_customer(ticket, actor):
        return "无权操作：只能回访本人的投诉"
    return None


def _handling_refusal(ticket: TicketSnapshot, actor: Actor) -> str | None:
    if is_assigned_handler(ticket, actor):
        return None
    if actor.role is Role.DEPT_HEAD:
        return None if owns_department(ticket, actor) else NOT_OWN_DEPARTMENT
    return "无权操作：该工单不是由您承办"


def _assign_refusal(ticket: TicketSnapshot, actor: Actor, config: WorkflowConfig) -> str | None:
    first = ticket.status is Status.RECEIVED
    government = ticket.source_channel == GOVERNMENT_CHANNEL
    # The first routing of a government-platform ticket is the leader's; after 退单 the
    # officer routes it again.
    if first and government and ticket.returns == 0 and actor.role is not Role.LEADER:
        return "政府投诉平台转来的投诉须由分管领导批转"
    if actor.role is not Role.DEPT_HEAD:
        return None
    if first and ticket.severity is not Severity.GENERAL:
        return f"复杂、重大投诉须报{config.general_department}，由投诉负责人或分管领导转派"
    return None if owns_department(ticket, actor) else NOT_OWN_DEPARTMENT


def status_refusal(ticket: TicketSnapshot, kind: str) -> str | None:
    if ticket.status in MOVE_STATUSES[kind]:
        return None
    if kind == "callback":
        return "该工单尚未办结，无法回访"
    return STATUS_REFUSALS[ticket.status]


def precondition_refusal(ticket: TicketSnapshot, kind: str, config: WorkflowConfig) -> str | None:
    if kind == "resolve":
        return _resolve_refusal(ticket, config)
    if kind == "explain" and ticket.explanation_pending:
        return "已有书面说明等待审批"
    if kind == "extend" and not ticket.explanation_pending:
        return "没有待审批的书面说明，无法延期"
    if kind == "request_money" and ticket.money_status == "pending":
        return "已有金额申请等待审批"
    if kind == "decide_money" and ticket.money_status != "pending":
        return "没有待审批的金额申请"
    if kind == "escalate" and ticket.severity is Severity.MAJOR:
        return f"该工单已是{SEVERITY_LABELS[Severity.MAJOR]}投诉，无法再升级"
    if kind == "signoff":
        return _signoff_refusal(ticket, config)
    return None


def _resolve_refusal(ticket: TicketSnapshot, config: WorkflowConfig) -> str | None:
    if ticket.money_status == "pending":
        return MONEY_BLOCKS_RESOLVE
    if needs_signoff(ticket, config):
        return f"已重办 {ticket.rounds} 轮，需分管领导签批后才能办结"
    return None


def _signoff_refusal(ticket: TicketSnapshot, config: WorkflowConfig) -> str | None:
    if ticket.rounds < config.max_rounds:
        return f"重办未满 {config.max_rounds} 轮，无需签批"
    if ticket.leader_signed_off:
        return "本轮已签批"
    return None


def needs_signoff(ticket: TicketSnapshot, config: WorkflowConfig) -> bool:
    """After ``max_rounds`` reopen rounds a leader must sign off before resolving."""
    return ticket.rounds >= config.max_rounds and not ticket.leader_signed_off


def repeat_flags(
    earlier_open: bool,
    earlier_overdue: bool,
    unresolved_repeats: int,
    *,
    earlier_recent: bool = False,
) -> tuple[bool, bool]:
    """(repeat_flag, accountability_flag) for a new ticket (重复投诉 / 责任追究), PRODUCT §3.

    - ``earlier_open``: an earlier ticket of the same customer and appeal type is still open.
    - ``earlier_recent``: such a ticket was closed within the repeat window (default 30 days;
      the caller compares dates).
    - ``earlier_overdue``: a ticket in that repeat chain breached a deadline.
    - ``unresolved_repeats``: earlier repeats in the chain still unresolved.

    A repeat with an unresolved repeat before it (i.e. the second unresolved repeat) or with
    any overdue ticket in its chain is flagged for accountability.
    """
    if unresolved_repeats < 0:
        raise ValueError("unresolved_repeats must not be negative")
    repeat = earlier_open or earlier_recent
    accountability = repeat and (earlier_overdue or unresolved_repeats >= 1)
    return repeat, accountability
