"""What a customer can say and do (PRODUCT §5): one table of routes, tried in order.

Each route names what it answers, a test on the message and a function that answers it. A
function may return None to let the next route try (a 1 that answers no call-back, a text that
is no reason). The first answer wins; 「引导」 at the end offers the menu.

「燃气安全」 comes first and never answers alone: a message reporting a leak or a smell of gas
puts the safety advice before whatever the other routes answer, inside a conversation or not.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from handlers import callback, rating
from handlers import customer_texts as texts
from handlers.context import Context
from handlers.customer_turn import Turn
from handlers.incoming import IncomingMessage
from models.core import conversation as conv
from models.core import conversation_texts as conv_texts
from models.core import replies, safety
from models.core.labels import STATUS_LABELS
from models.core.words import HOTLINE_WORDS, LIST_WORDS, START_WORDS
from models.people import customers
from models.ticket import intake as tickets
from models.ticket.tables import Ticket

QUERY_ONE = re.compile(r"^(?:查询|查看)\s*(TS\d{12})$", re.IGNORECASE)
CONVERSATION_KINDS = {"text", "image", "voice", "location", "event"}
SUBSCRIBE_EVENTS = {"subscribe", "subscribe_scan", "scan"}
SILENT_EVENTS = {"view", "location", "templatesendjobfinish", "view_miniprogram"}


@dataclass(frozen=True)
class Route:
    name: str
    matches: Callable[[Turn], bool]
    answer: Callable[[Turn], str | None]


def handle(ctx: Context, message: IncomingMessage) -> str:
    """The reply to one customer message ("" means say nothing)."""
    turn = Turn(ctx, message)
    for route in ROUTES:
        if route.matches(turn):
            reply = route.answer(turn)
            if reply is not None:
                return turn.with_note(reply)
    return turn.with_note("")


# --- gas safety ----------------------------------------------------------------------------


def _reports_leak(turn: Turn) -> bool:
    return safety.reports_leak(turn.text, turn.ctx.policy.safety)


def _safety_first(turn: Turn) -> None:
    turn.add_note(safety.advice(turn.ctx.policy.safety))
    return None


# --- events --------------------------------------------------------------------------------


def _is_event(*names: str) -> Callable[[Turn], bool]:
    return lambda turn: turn.message.kind == "event" and turn.message.event in names


def _subscribe(turn: Turn) -> str:
    customer = turn.customer
    if not customer.subscribed:
        customer.subscribed, customer.subscribed_at = True, turn.ctx.now
        customer.unsubscribed_at = None
    return texts.WELCOME.format(company=turn.ctx.settings.app.company_name)


def _unsubscribe(turn: Turn) -> str:
    ctx, openid = turn.ctx, turn.message.openid
    customer = customers.customer_by_openid(ctx.session, openid)
    if customer is not None:
        customer.subscribed, customer.unsubscribed_at = False, ctx.now
    ctx.conversations.clear(openid)
    return ""


# --- the complaint conversation ------------------------------------------------------------


def _start_conversation(turn: Turn) -> str:
    ctx, openid = turn.ctx, turn.message.openid
    result = conv.start(ctx.now, ctx.policy.conversation)
    state = replace(result.state, intake_key=uuid.uuid4().hex)
    ctx.conversations.save(openid, state)
    return result.reply


def _continue_conversation(turn: Turn) -> str:
    ctx, message, state = turn.ctx, turn.message, turn.conversation
    config = ctx.policy.conversation
    result = conv.step(state, message.as_conversation_input(), ctx.now, config)
    openid = message.openid
    if result.confirmed is not None:
        ticket = _file_ticket(turn, result.confirmed, state)
        ctx.conversations.clear(openid)
        return conv_texts.submitted_reply(ticket.number, config)
    if result.state is None:
        ctx.conversations.clear(openid)
    else:
        ctx.conversations.save(openid, result.state)
    return result.reply


def _file_ticket(turn: Turn, draft, state) -> Ticket:
    """Exactly one ticket per confirmed draft, even if 确认 arrives twice."""
    ctx, customer = turn.ctx, turn.customer
    intake_key = state.intake_key or uuid.uuid4().hex
    existing = tickets.find_by_intake_key(ctx.session, intake_key)
    if existing is not None:
        return existing
    customer.name, customer.phone = draft.name, draft.phone
    workflow = ctx.policy.workflow
    department = tickets.general_department(ctx.session, workflow.general_department)
    return tickets.create_wechat_ticket(
        ctx.session,
        customer,
        draft,
        ctx.now,
        policy=ctx.policy,
        receiving_department=department,
        intake_key=intake_key,
    )


# --- 我的投诉 / 查询 / 服务电话 --------------------------------------------------------------


def _list_tickets(turn: Turn) -> str:
    ctx = turn.ctx
    limit = ctx.settings.conversation.recent_tickets
    recent = tickets.recent_for_customer(ctx.session, turn.customer.id, limit)
    if not recent:
        return texts.NO_TICKETS
    lines = [texts.TICKET_LIST_HEADER.format(count=len(recent))]
    lines += [_ticket_line(ctx, ticket) for ticket in recent]
    lines.append(texts.TICKET_LIST_FOOTER)
    return "\n".join(lines)


def _ticket_line(ctx: Context, ticket: Ticket) -> str:
    zone = ctx.zone
    status = STATUS_LABELS[ticket.status]
    if ticket.rounds and ticket.status in ("assigned", "processing"):
        status += "（重新处理中）"
    parts = [
        ticket.number,
        ticket.appeal_type,
        status,
        f"{ticket.created_at.astimezone(zone):%m-%d %H:%M}提交",
    ]
    if ticket.handling_department is not None:
        parts.append(ticket.handling_department.name)
    due = _resolve_due(ticket)
    if due is not None:
        parts.append(f"预计{due.astimezone(zone):%m-%d %H:%M}前办结")
    return "｜".join(parts)


def _resolve_due(ticket: Ticket):
    """When the ticket should be resolved (the running resolve clock), for the customer."""
    running = [d for d in ticket.deadlines if d.clock == "resolve" and d.state == "running"]
    return running[-1].due_at if running else None


def _show_ticket(turn: Turn) -> str:
    ctx = turn.ctx
    number = QUERY_ONE.match(turn.word).group(1)
    ticket = tickets.find_by_number(ctx.session, number)
    if ticket is None or ticket.customer_id != turn.customer.id:
        return texts.TICKET_NOT_FOUND.format(number=number)
    zone = ctx.zone
    lines = [
        f"单号：{ticket.number}",
        f"状态：{STATUS_LABELS[ticket.status]}",
        f"诉求类型：{ticket.appeal_type}",
        f"投诉时间：{ticket.complained_at.astimezone(zone):%Y-%m-%d %H:%M}",
        f"诉求事项：{ticket.matter}",
    ]
    if ticket.handling_department_id and ticket.handling_department:
        lines.append(f"承办部门：{ticket.handling_department.name}")
    due = _resolve_due(ticket)
    if due is not None:
        lines.append(f"预计办结：{due.astimezone(zone):%Y-%m-%d %H:%M}前")
    lines += _where_it_stands(ctx, ticket)
    return replies.fit_lines("\n".join(lines))


def _where_it_stands(ctx: Context, ticket: Ticket) -> list[str]:
    """The current state in the customer's words: the result only while it stands, the
    reason of an invalid ticket, a reopened ticket's round, the latest progress."""
    if ticket.status == "invalid":
        return [f"无效原因：{ticket.invalid_reason}"] if ticket.invalid_reason else []
    if ticket.status in ("resolved", "archived"):
        lines = [f"处理结果：{ticket.result}"] if ticket.result else []
        if ticket.status == "resolved":
            lines.append(texts.AWAITING_ANSWER.format(number=ticket.number))
        return lines
    lines = []
    if ticket.rounds:
        lines.append(texts.REHANDLING.format(round=ticket.rounds))
    progress = _latest_progress(ticket)
    if progress is not None:
        when = progress.created_at.astimezone(ctx.zone)
        lines.append(f"最新进展（{when:%m-%d %H:%M}）：{progress.text.removeprefix('进展：')}")
    return lines


def _latest_progress(ticket: Ticket):
    """The latest progress note since the ticket was last reopened."""
    for event in reversed(ticket.events):
        if event.kind == "progress":
            return event
        if event.kind == "reopened":
            return None
    return None


def _hotline(turn: Turn) -> str:
    settings = turn.ctx.settings
    lines = "\n".join(settings.hotline.lines) or "请拨打当地燃气服务热线"
    return texts.HOTLINE.format(company=settings.app.company_name, lines=lines)


# --- the table -----------------------------------------------------------------------------


def _clicked_or_typed(key: str, words: frozenset[str]) -> Callable[[Turn], bool]:
    return lambda turn: turn.message.is_click(key) or turn.word in words


ROUTES: tuple[Route, ...] = (
    Route("燃气安全", _reports_leak, _safety_first),
    Route("关注", _is_event(*SUBSCRIBE_EVENTS), _subscribe),
    Route("取消关注", _is_event("unsubscribe"), _unsubscribe),
    Route("无需回复的事件", _is_event(*SILENT_EVENTS), lambda turn: ""),
    Route("投诉填写中", lambda turn: turn.conversation is not None, _continue_conversation),
    Route("其他消息类型", lambda turn: turn.message.kind not in CONVERSATION_KINDS, lambda t: ""),
    Route("回访选择", lambda turn: turn.callback_choice is not None, callback.choose),
    Route("评价留言", lambda turn: turn.comment_step is not None, rating.continue_comment),
    Route("我要投诉", _clicked_or_typed("COMPLAINT_NEW", START_WORDS), _start_conversation),
    Route("我的投诉", _clicked_or_typed("COMPLAINT_MINE", LIST_WORDS), _list_tickets),
    Route("服务电话", _clicked_or_typed("HOTLINE", HOTLINE_WORDS), _hotline),
    Route("星级评价", lambda turn: rating.stars_of(turn.message) is not None, rating.tap),
    Route("查询单号", lambda turn: QUERY_ONE.match(turn.word) is not None, _show_ticket),
    Route("回访答复", callback.is_answer, callback.answer),
    Route("不满意原因", lambda turn: turn.message.kind == "text", callback.take_reason),
    Route("引导", lambda turn: True, lambda turn: texts.GUIDE),
)
