"""The ticket workflow (投诉闭环), PRODUCT §3/§6, as pure domain code.

The database layer loads a ticket into a ``TicketSnapshot``, calls ``decide`` and applies the
returned ``Outcome`` in the same transaction: update ``changes`` (only changed columns, plus
``result``/``invalid_reason``), write one timeline event (``event_kind``/``event_text``; who,
when and channel come from the actor), write the ``notices`` and apply the ``clocks``.
``decide`` raises ``MoveRefused`` (Chinese ``reason``) and never mutates anything.

Loop: received -assign-> assigned -ack-> processing -resolve-> resolved -callback(满意)->
archived; callback(不满意) reopens to assigned; received/assigned/processing -invalid-> invalid.

Checks run in this order: final state (归档/作废), who, state, preconditions, then arguments.

Decisions where the product text is silent:
- A dept_head may assign only to their own department: on a received general ticket of their
  receiving department, or on an assigned/processing ticket of their handling department (to
  name or change the handler, 指定承办人), whatever its severity. Routing a received
  complex/major ticket and the first assignment of a government-platform ticket are not theirs.
- Reassignment (改派) returns the ticket to assigned and restarts only the investigate clock;
  the resolve deadline keeps running. Reassigning to the same department and handler is refused.
- The handling moves (接单/进展/办结/说明/申请) are open to whoever is the ticket's named handler
  (a handler, a dept_head or an officer of 综合管理部) and to the handling department's head.
  A dept_head acknowledging a ticket with no named handler becomes its handler.
- progress and resolve need the ticket acknowledged (processing); explain, request_money,
  extend, decide_money, urge and signoff work in assigned or processing.
- One written explanation and one money request may be pending at a time; resolve clears a
  pending explanation. A new money request after an approval or rejection replaces it.
- extend accepts 1..``max_extension_workdays`` working days.
- escalate must raise the severity (一般 < 复杂 < 重大) and does not touch escalation_level,
  which counts reopen rounds. Escalating a received general ticket starts the route clock.
- Resolve notifies the officer (``phone`` tells whether a phone call-back is needed now) and,
  when the ticket has a customer, the customer; delivery is the notification layer's job. A
  ticket of another channel than WeChat (or with no customer account) is called back by phone:
  resolving it puts the call-back on the officer's list (``phone_callback``).
- Reopen keeps the result column (the new resolve overwrites it) and also tells the handler.
- The first assignment of a repeat ticket marks the assignment notice ``repeat``; with an
  overdue repeat (accountability, ``repeat_flags``) it also notifies officer and leader.
- SYSTEM and CLERK make no moves; officer, leader, executive and system see every ticket;
  handlers and heads see their department's (handling or receiving) tickets; a clerk sees the
  tickets they registered (登记).
- A new ticket (any channel) tells the leaders at once when it comes from a government
  platform (they route it, 流程2) and the officer when it reports a gas leak (``initial_notices``).

Additions to the agreed interface: ``Actor.customer_id``; ``Move.department_name`` and
``Move.handler_name`` (timeline text only); ``WorkflowConfig.max_extension_workdays``;
``repeat_flags(..., earlier_recent=False)``. Notice recipients "dept_head" mean the head of
``payload["department_id"]``; "staff:<id>" a named person. Every payload has ``ticket_id`` and
``number``. The DB layer must check that a named handler belongs to the named department.
"""

from __future__ import annotations

from models.core.payload import Payload
from models.core.workflow_moves import build_outcome, normalize_amount
from models.core.workflow_rules import (
    gate_refusal,
    is_assigned_handler,
    is_owner_customer,
    repeat_flags,
)
from models.core.workflow_types import (
    GOVERNMENT_CHANNEL,
    MOVE_KINDS,
    MOVE_LABELS,
    SOURCE_CHANNELS,
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

__all__ = [
    "GOVERNMENT_CHANNEL",
    "MOVE_KINDS",
    "SOURCE_CHANNELS",
    "WECHAT_CHANNEL",
    "MOVE_LABELS",
    "Actor",
    "ClockChange",
    "Move",
    "MoveRefused",
    "Notice",
    "Outcome",
    "Role",
    "Severity",
    "Status",
    "TicketSnapshot",
    "WorkflowConfig",
    "allowed_moves",
    "can_view",
    "decide",
    "initial_clocks",
    "initial_notices",
    "normalize_amount",
    "repeat_flags",
]

SEES_EVERY_TICKET = frozenset({Role.OFFICER, Role.LEADER, Role.EXECUTIVE, Role.SYSTEM})


def decide(ticket: TicketSnapshot, actor: Actor, move: Move, config: WorkflowConfig) -> Outcome:
    """The outcome of ``move`` by ``actor`` on ``ticket``; raises ``MoveRefused``."""
    if move.kind not in MOVE_KINDS:
        raise MoveRefused(f"未知操作：{move.kind}")
    reason = gate_refusal(ticket, actor, move.kind, config)
    if reason is not None:
        raise MoveRefused(reason)
    return build_outcome(ticket, actor, move, config)


def allowed_moves(ticket: TicketSnapshot, actor: Actor, config: WorkflowConfig) -> set[str]:
    """Move kinds the actor may make now, given suitable arguments (for 帮助 and the UI)."""
    return {kind for kind in MOVE_KINDS if gate_refusal(ticket, actor, kind, config) is None}


def can_view(ticket: TicketSnapshot, actor: Actor) -> bool:
    """Customers see their own tickets; handlers and heads those of their department."""
    if actor.role in SEES_EVERY_TICKET:
        return True
    if actor.role is Role.CUSTOMER:
        return is_owner_customer(ticket, actor)
    if actor.role is Role.CLERK:
        return actor.staff_id is not None and actor.staff_id == ticket.registered_by_id
    if is_assigned_handler(ticket, actor):
        return True
    departments = {ticket.handling_department_id, ticket.receiving_department_id} - {None}
    return actor.department_id in departments


def initial_clocks(severity: Severity) -> tuple[ClockChange, ...]:
    """Clocks of a newly received ticket: complex/major must reach 综合管理部 within 30 min."""
    if severity is Severity.GENERAL:
        return ()
    return (ClockChange("start", "route"),)


def initial_notices(ticket: TicketSnapshot, urgent: bool) -> tuple[Notice, ...]:
    """Who must hear of a new ticket at once: the leaders route a government-platform ticket
    (政府投诉平台转来的投诉，统一由分管领导批转); the officer hears of a reported gas leak."""
    payload = Payload(ticket_id=ticket.id, number=ticket.number)
    notices = []
    if ticket.source_channel == GOVERNMENT_CHANNEL:
        notices.append(
            Notice("leader", "government_intake", payload.but(stage="政府平台投诉待批转"))
        )
    if urgent:
        notices.append(Notice("officer", "urgent", payload.but(stage="客户反映燃气泄漏")))
    return tuple(notices)
