"""The customer's answer to the call-back (回访) in the chat, understood days later and
outside any conversation: 满意 archives the ticket; 不满意 reopens and escalates it, and the
next message is taken as the reason (unless the answer already gave one).

An answer lands on the ticket it answers, never silently on another:
- ``2 TS…`` / ``满意 TS…`` answer that ticket (a ticket not awaiting its call-back says so);
- a bare answer with one ticket awaiting answers it;
- a bare answer with several awaiting lists them by number (序号) and the next message picks
  one (`bot.stores.CallbackChoices`); anything else lets the choice lapse.
"""

from __future__ import annotations

from handlers import customer_texts as texts
from handlers.customer_turn import Turn
from models.core.callback_answer import CallbackAnswer, PendingChoice
from models.core.labels import STATUS_LABELS
from models.core.payload import Payload
from models.core.workflow import Actor, Move, MoveRefused, Role
from models.notification import outbox as notifications
from models.ticket import intake as tickets
from models.ticket import timeline
from models.ticket.queries import lock_by_id
from models.ticket.service import perform
from models.ticket.tables import Ticket

THANKS = "感谢您的评价！您的投诉（单号 {number}）已办结归档。如有其他问题，欢迎随时联系我们。"
SORRY = (
    "很抱歉处理结果未能让您满意，我们已将投诉（单号 {number}）重新交办，并由投诉负责人跟进。\n"
    "请直接回复您不满意的原因，便于我们改进。"
)
SORRY_WITH_REASON = (
    "很抱歉处理结果未能让您满意，我们已将投诉（单号 {number}）重新交办，"
    "您说的原因已转给投诉负责人跟进，我们会尽快与您联系。"
)
REASON_THANKS = "已收到您的意见，我们会尽快重新处理并与您联系。"
WHICH = "您有 {count} 件投诉正在等待您对处理结果的评价。您的「{answer}」是对哪一件？请回复序号："
WHICH_FOOTER = "也可以回复「{digit} 单号」直接评价某一件。"
NOT_AWAITING = "您的投诉（单号 {number}）目前{status}，不在等待回访，无需评价。"
GONE = "您选择的投诉已不在等待回访，无需评价。回复「查询」可查看您的投诉。"
REFUSED = "暂时无法记录您对投诉（单号 {number}）的评价：{reason}"
RESULT_CHARS = 16


def is_answer(turn: Turn) -> bool:
    """满意/不满意 while a ticket of the customer awaits its call-back, or naming a ticket."""
    answer = turn.callback_answer
    if answer is None:
        return False
    return bool(answer.number) or bool(turn.awaiting_callbacks)


def is_bare_answer(turn: Turn) -> bool:
    """An answer and nothing else (or one naming its ticket): during the comment step after a
    star tap, 「不满意，师傅来晚了」 is a comment, a bare 「2」 answers a pending call-back."""
    said = turn.callback_answer
    return is_answer(turn) and (bool(said.number) or not said.note)


def answer(turn: Turn) -> str:
    said = turn.callback_answer
    awaiting = turn.awaiting_callbacks
    if said.number:
        ticket = next((t for t in awaiting if t.number == said.number), None)
        return _apply(turn, ticket, said) if ticket else _not_awaiting(turn, said.number)
    if len(awaiting) == 1:
        return _apply(turn, awaiting[0], said)
    return _ask_which(turn, said, awaiting)


def choose(turn: Turn) -> str | None:
    """The 序号 after the list of tickets; anything else lets the choice lapse (None)."""
    ctx, choice, openid = turn.ctx, turn.callback_choice, turn.message.openid
    choices = ctx.stores.callback_choices
    choices.clear(openid)
    ticket_id = choice.pick(turn.word)
    if ticket_id is None:
        return None
    ticket = lock_by_id(ctx.session, ticket_id)
    if ticket is None or ticket.customer_id != turn.customer.id or ticket.status != "resolved":
        return GONE
    return _apply(turn, ticket, CallbackAnswer(choice.satisfied, ticket.number, choice.note))


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
    payload = Payload(ticket_id=ticket.id, number=ticket.number, note=reason, satisfied=False)
    notifications.notify(ctx.session, "officer", "callback_result", ticket, payload, ctx.now)
    return REASON_THANKS


# --- helpers -------------------------------------------------------------------------------


def _apply(turn: Turn, ticket: Ticket, reply: CallbackAnswer) -> str:
    ctx, customer = turn.ctx, turn.customer
    actor = Actor(
        role=Role.CUSTOMER, customer_id=customer.id, name=customer.name or "客户", channel="wechat"
    )
    move = Move(kind="callback", satisfied=reply.satisfied, text=reply.note)
    try:
        perform(ctx.session, ticket, actor, move, ctx.now, ctx.policy)
    except MoveRefused as refused:
        return REFUSED.format(number=ticket.number, reason=refused.reason)
    if reply.satisfied:
        return THANKS.format(number=ticket.number)
    if reply.note:
        return SORRY_WITH_REASON.format(number=ticket.number)
    reasons, openid, ticket_id = ctx.stores.callback_reasons, customer.openid, ticket.id
    reasons.expect(openid, ticket_id)
    return SORRY.format(number=ticket.number)


def _ask_which(turn: Turn, reply: CallbackAnswer, awaiting: list[Ticket]) -> str:
    ctx, openid = turn.ctx, turn.message.openid
    choice = PendingChoice(reply.satisfied, tuple(t.id for t in awaiting), reply.note)
    choices = ctx.stores.callback_choices
    choices.save(openid, choice)
    word = "满意" if reply.satisfied else "不满意"
    lines = [WHICH.format(count=len(awaiting), answer=word)]
    lines += [f"{index}. {_line(ticket)}" for index, ticket in enumerate(awaiting, start=1)]
    lines.append(WHICH_FOOTER.format(digit=1 if reply.satisfied else 2))
    return "\n".join(lines)


def _line(ticket: Ticket) -> str:
    result = " ".join(ticket.result.split())
    if len(result) > RESULT_CHARS:
        result = result[: RESULT_CHARS - 1] + "…"
    return f"{ticket.number}（{ticket.appeal_type}）处理结果：{result}"


def _not_awaiting(turn: Turn, number: str) -> str:
    ticket = tickets.find_by_number(turn.ctx.session, number)
    if ticket is None or ticket.customer_id != turn.customer.id:
        return texts.TICKET_NOT_FOUND.format(number=number)
    status = STATUS_LABELS[ticket.status]
    return NOT_AWAITING.format(number=number, status=f"「{status}」")
