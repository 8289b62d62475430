"""The office's work queues (/work): what waits for someone, filtered to who is looking, the most
urgent or oldest first, with counts for the home page.

Each queue is a row of `QUEUES`: its key, its Chinese title, the roles that see it, and one
query giving the items and their number. An item is emptied by the action its queue names,
through the same appliers as the chat (`perform` for 回访, 审批, 签批, 延期, 派单;
`models.rating.callbacks` and `models.ticket.accountability` for the rest). Nothing here writes.

Decisions where the issue is silent:
- 电话回访: resolved tickets on the officer's phone list, or whose customer cannot answer in
  WeChat (another channel, no follower), soonest call-back deadline first.
- 评价回访: the officer sees every open task; the designated call-back person sees their own.
- 金额审批: leaders and executives see every pending request, oldest request first.
- 待派单: officers see every new ticket; leaders those from the government platforms (which
  only they may route); a department head the general ones received by their department.
  Tickets with a running route clock (complex, major) come first, by that deadline.
- 退单: new tickets that were returned (退单) at least once, oldest return first.
- 责任追究: flagged tickets without a review yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from models.core.figures import RETURN_EVENT
from models.core.workflow import GOVERNMENT_CHANNEL, WECHAT_CHANNEL, WorkflowConfig
from models.people.tables import Customer
from models.rating.tables import RatingCallback
from models.ticket.tables import AccountabilityReview, Deadline, Ticket, TicketEvent

OPEN_HANDLING = ("assigned", "processing")
# The timeline kind a 退单 (return to the officer) is recorded with (as the figures count it).
RETURN_KINDS = (RETURN_EVENT,)
LIMIT = 50


@dataclass(frozen=True)
class Viewer:
    """Who is looking at the queues."""

    role: str
    staff_id: int | None = None
    department_id: int | None = None


@dataclass(frozen=True)
class QueuePage:
    key: str
    title: str
    items: list[Any]
    total: int


Query = Callable[[Viewer, WorkflowConfig], tuple[Select, ColumnElement | None]]


@dataclass(frozen=True)
class Queue:
    key: str
    title: str
    action: str  # what empties an item, in Chinese
    roles: frozenset[str]
    model: type
    query: Query  # (statement filtered to the viewer, ordering key or None)


# --- tickets -------------------------------------------------------------------------------


def _due(clock: str):
    """The due moment of a ticket's running clock (NULL when it has none)."""
    return (
        select(func.min(Deadline.due_at))
        .where(
            Deadline.ticket_id == Ticket.id, Deadline.clock == clock, Deadline.state == "running"
        )
        .scalar_subquery()
    )


def _latest_event(kinds: tuple[str, ...]):
    return (
        select(func.max(TicketEvent.created_at))
        .where(TicketEvent.ticket_id == Ticket.id, TicketEvent.kind.in_(kinds))
        .scalar_subquery()
    )


def _returned() -> ColumnElement[bool]:
    return exists().where(TicketEvent.ticket_id == Ticket.id, TicketEvent.kind.in_(RETURN_KINDS))


def phone_callbacks(viewer: Viewer, config: WorkflowConfig):
    not_in_wechat = or_(
        Ticket.customer_id.is_(None),
        Ticket.source_channel != WECHAT_CHANNEL,
        exists().where(
            Customer.id == Ticket.customer_id,
            or_(Customer.subscribed.is_(False), Customer.opted_out.is_(True)),
        ),
    )
    where = and_(Ticket.status == "resolved", or_(Ticket.phone_callback.is_(True), not_in_wechat))
    return select(Ticket).where(where), _due("callback")


def money(viewer: Viewer, config: WorkflowConfig):
    where = and_(Ticket.money_status == "pending", Ticket.status.in_(OPEN_HANDLING))
    return select(Ticket).where(where), _latest_event(("request_money",))


def signoff(viewer: Viewer, config: WorkflowConfig):
    where = and_(
        Ticket.status.in_(OPEN_HANDLING),
        Ticket.rounds >= config.max_rounds,
        Ticket.leader_signed_off.is_(False),
    )
    return select(Ticket).where(where), _latest_event(("reopened",))


def extensions(viewer: Viewer, config: WorkflowConfig):
    where = and_(Ticket.explanation_pending.is_(True), Ticket.status.in_(OPEN_HANDLING))
    return select(Ticket).where(where), _latest_event(("explain",))


def returned(viewer: Viewer, config: WorkflowConfig):
    where = and_(Ticket.status == "received", _returned())
    return select(Ticket).where(where), _latest_event(RETURN_KINDS)


def unassigned(viewer: Viewer, config: WorkflowConfig):
    where = and_(Ticket.status == "received", ~_returned())
    if viewer.role == "leader":
        where = and_(where, Ticket.source_channel == GOVERNMENT_CHANNEL)
    elif viewer.role == "dept_head":
        where = and_(
            where,
            Ticket.receiving_department_id == viewer.department_id,
            Ticket.severity == "general",
            Ticket.source_channel != GOVERNMENT_CHANNEL,
        )
    return select(Ticket).where(where), _due("route")


def accountability(viewer: Viewer, config: WorkflowConfig):
    reviewed = exists().where(AccountabilityReview.ticket_id == Ticket.id)
    where = and_(Ticket.accountability_flag.is_(True), ~reviewed)
    return select(Ticket).where(where), None


# --- rating call-backs ---------------------------------------------------------------------


def rating_callbacks(viewer: Viewer, config: WorkflowConfig):
    statement = select(RatingCallback).where(RatingCallback.status == "open")
    if viewer.role != "officer":
        statement = statement.where(RatingCallback.staff_id == viewer.staff_id)
    return statement, None


OFFICE = frozenset({"officer"})
SUPERVISORS = frozenset({"officer", "leader"})
QUEUES: dict[str, Queue] = {
    queue.key: queue
    for queue in (
        Queue("phone_callbacks", "电话回访待记录", "记录回访结果", OFFICE, Ticket, phone_callbacks),
        Queue(
            "rating_callbacks",
            "低星评价回访",
            "记录回访情况",
            frozenset({"officer", "handler", "dept_head", "clerk"}),
            RatingCallback,
            rating_callbacks,
        ),
        Queue("money", "金额审批", "同意或驳回", frozenset({"leader", "executive"}), Ticket, money),
        Queue("signoff", "重办签批", "签批", frozenset({"leader"}), Ticket, signoff),
        Queue("extensions", "书面说明待延期", "批准延期", SUPERVISORS, Ticket, extensions),
        Queue("returned", "退单待重派", "重新派单", SUPERVISORS, Ticket, returned),
        Queue(
            "unassigned",
            "新投诉待派单",
            "派单",
            frozenset({"officer", "leader", "dept_head"}),
            Ticket,
            unassigned,
        ),
        Queue("accountability", "责任追究待审查", "审查", SUPERVISORS, Ticket, accountability),
    )
}


def visible(viewer: Viewer) -> list[Queue]:
    """The queues this viewer's role sees, in table order."""
    return [queue for queue in QUEUES.values() if viewer.role in queue.roles]


def counts(session: Session, viewer: Viewer, config: WorkflowConfig) -> dict[str, int]:
    """How many items wait in each visible queue (one count query per queue)."""
    result = {}
    for queue in visible(viewer):
        statement, _ = queue.query(viewer, config)
        result[queue.key] = (
            session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        )
    return result


def items(
    session: Session, key: str, viewer: Viewer, config: WorkflowConfig, limit: int = LIMIT
) -> QueuePage:
    """The first items of one queue, most urgent (or oldest) first; KeyError for an unknown
    key, PermissionError for a queue the viewer's role does not see."""
    queue = QUEUES[key]
    if viewer.role not in queue.roles:
        raise PermissionError(key)
    statement, urgency = queue.query(viewer, config)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    statement = statement.order_by(*_order(queue.model, urgency)).limit(limit)
    if queue.model is Ticket:
        statement = statement.options(selectinload(Ticket.deadlines))
    else:
        statement = statement.options(selectinload(RatingCallback.rating))
    return QueuePage(key, queue.title, list(session.scalars(statement)), total)


def _order(model: type, urgency) -> list:
    ordering = [] if urgency is None else [urgency.is_(None), urgency]
    return [*ordering, model.created_at, model.id]
