"""The customer's answer to the call-back (回访) in the chat, understood days later and
outside any conversation: 1 满意 archives the ticket; 2 不满意 reopens and escalates it, and
the next message is taken as the reason."""

from __future__ import annotations

from sqlalchemy import select

from handlers.context import Context
from handlers.policy import domain_policy
from models.core.workflow import Actor, Move, MoveRefused, Role
from models.notification import outbox as notifications
from models.people.tables import Customer
from models.ticket.service import perform
from models.ticket.tables import Ticket, TicketEvent

SATISFIED = {"1", "满意", "非常满意", "满意了"}
UNSATISFIED = {"2", "不满意", "很不满意"}
REASON_KEY = "bihuan:callback-reason:{openid}"
REASON_TTL_SECONDS = 24 * 3600

THANKS = "感谢您的评价！您的投诉（单号 {number}）已办结归档。如有其他问题，欢迎随时联系我们。"
SORRY = (
    "很抱歉处理结果未能让您满意，我们已将投诉（单号 {number}）重新交办，并由投诉负责人跟进。\n"
    "请直接回复您不满意的原因，便于我们改进。"
)
REASON_THANKS = "已收到您的意见，我们会尽快重新处理并与您联系。"


def answer(ctx: Context, customer: Customer, word: str) -> str | None:
    """The reply when `word` answers a pending call-back; None when it does not."""
    if word not in SATISFIED and word not in UNSATISFIED:
        return None
    ticket = awaiting_callback(ctx, customer)
    if ticket is None:
        return None
    satisfied = word in SATISFIED
    actor = Actor(
        role=Role.CUSTOMER, customer_id=customer.id, name=customer.name or "客户", channel="wechat"
    )
    try:
        perform(
            ctx.session,
            ticket,
            actor,
            Move(kind="callback", satisfied=satisfied),
            ctx.now,
            domain_policy(ctx),
        )
    except MoveRefused:
        return None
    if satisfied:
        return THANKS.format(number=ticket.number)
    key = REASON_KEY.format(openid=customer.openid)
    ctx.on_commit(lambda: ctx.services.redis.set(key, ticket.id, ex=REASON_TTL_SECONDS))
    return SORRY.format(number=ticket.number)


def awaiting_callback(ctx: Context, customer: Customer) -> Ticket | None:
    statement = (
        select(Ticket)
        .where(Ticket.customer_id == customer.id, Ticket.status == "resolved")
        .order_by(Ticket.updated_at.desc())
        .limit(1)
        .with_for_update()
    )
    return ctx.session.scalar(statement)


def take_reason(ctx: Context, customer: Customer, text: str) -> str | None:
    """After 不满意, the next text is the reason: kept in the timeline and sent to the officer."""
    if ctx.services is None or not text.strip():
        return None
    key = REASON_KEY.format(openid=customer.openid)
    ticket_id = ctx.services.redis.get(key)
    if ticket_id is None:
        return None
    ticket = ctx.session.get(Ticket, int(ticket_id))
    ctx.on_commit(lambda: ctx.services.redis.delete(key))
    if ticket is None:
        return None
    reason = text.strip()[:500]
    ctx.session.add(
        TicketEvent(
            ticket_id=ticket.id,
            kind="customer_reason",
            actor_role="customer",
            actor_name=customer.name or "客户",
            channel="wechat",
            text=f"客户不满意的原因：{reason}",
            from_status=ticket.status,
            to_status=ticket.status,
            created_at=ctx.now,
        )
    )
    payload = {
        "ticket_id": ticket.id,
        "number": ticket.number,
        "note": reason,
        "stage": "客户说明不满意原因",
    }
    notifications.notify(ctx.session, "officer", "callback_result", ticket, payload, ctx.now)
    return REASON_THANKS
