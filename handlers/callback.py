"""The customer's answer to the call-back (回访) in the chat, understood days later and
outside any conversation: 1 满意 archives the ticket; 2 不满意 reopens and escalates it, and
the next message is taken as the reason."""

from __future__ import annotations

from handlers.customer_turn import Turn
from models.core.payload import Payload
from models.core.workflow import Actor, Move, MoveRefused, Role
from models.notification import outbox as notifications
from models.ticket import timeline
from models.ticket.service import perform
from models.ticket.tables import Ticket

SATISFIED = {"1", "满意", "非常满意", "满意了"}
UNSATISFIED = {"2", "不满意", "很不满意"}

THANKS = "感谢您的评价！您的投诉（单号 {number}）已办结归档。如有其他问题，欢迎随时联系我们。"
SORRY = (
    "很抱歉处理结果未能让您满意，我们已将投诉（单号 {number}）重新交办，并由投诉负责人跟进。\n"
    "请直接回复您不满意的原因，便于我们改进。"
)
REASON_THANKS = "已收到您的意见，我们会尽快重新处理并与您联系。"


def is_answer(turn: Turn) -> bool:
    """满意/不满意 while a ticket of the customer awaits its call-back."""
    word = turn.word
    answers = word in SATISFIED or word in UNSATISFIED
    return answers and turn.awaiting_callback is not None


def answer(turn: Turn) -> str | None:
    ctx, customer, ticket = turn.ctx, turn.customer, turn.awaiting_callback
    satisfied = turn.word in SATISFIED
    actor = Actor(
        role=Role.CUSTOMER, customer_id=customer.id, name=customer.name or "客户", channel="wechat"
    )
    move = Move(kind="callback", satisfied=satisfied)
    try:
        perform(ctx.session, ticket, actor, move, ctx.now, ctx.policy)
    except MoveRefused:
        return None
    if satisfied:
        return THANKS.format(number=ticket.number)
    ctx.stores.callback_reasons.expect(customer.openid, ticket.id)
    return SORRY.format(number=ticket.number)


def take_reason(turn: Turn) -> str | None:
    """After 不满意, the next text is the reason: kept in the timeline and sent to the officer."""
    ctx, text = turn.ctx, turn.message.text.strip()
    reasons, openid = ctx.stores.callback_reasons, turn.message.openid
    ticket_id = reasons.pending(openid) if text else None
    if ticket_id is None:
        return None
    reasons.clear(openid)
    ticket = ctx.session.get(Ticket, ticket_id)
    if ticket is None:
        return None
    reason = text[:500]
    timeline.customer_note(
        ctx.session, ticket, "customer_reason", "wechat", f"客户不满意的原因：{reason}", ctx.now
    )
    payload = Payload(
        ticket_id=ticket.id, number=ticket.number, note=reason, stage="客户说明不满意原因"
    )
    notifications.notify(ctx.session, "officer", "callback_result", ticket, payload, ctx.now)
    return REASON_THANKS
