"""What a customer can say and do: events, the complaint conversation, 查询, 服务电话."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from zoneinfo import ZoneInfo

from handlers import callback, rating
from handlers import customer_texts as texts
from handlers.context import Context
from handlers.incoming import IncomingMessage
from models.core import conversation as conv
from models.core import conversation_texts as conv_texts
from models.core.words import HOTLINE_WORDS, LIST_WORDS, START_WORDS
from models.people import customers
from models.people.tables import Customer
from models.ticket import intake as tickets
from models.ticket import repeats
from models.ticket.tables import STATUS_LABELS, Ticket

QUERY_ONE = re.compile(r"^(?:查询|查看)\s*(TS\d{12})$", re.IGNORECASE)
HANDLED_KINDS = {"text", "image", "voice", "location", "event"}
SILENT_EVENTS = {"view", "location", "templatesendjobfinish", "view_miniprogram"}


def handle(ctx: Context, message: IncomingMessage) -> str:
    """The reply to one customer message ("" means say nothing)."""
    if message.kind == "event" and message.event in ("subscribe", "subscribe_scan", "scan"):
        return _subscribe(ctx, message)
    if message.kind == "event" and message.event == "unsubscribe":
        return _unsubscribe(ctx, message)
    if message.kind == "event" and message.event in SILENT_EVENTS:
        return ""
    state = ctx.conversations.get(message.openid)
    if message.kind not in HANDLED_KINDS and state is None:
        return ""  # video, link, file…: nothing to say outside a conversation
    customer = customers.get_or_create_customer(ctx.session, message.openid, ctx.now)
    customer.last_inbound_at = ctx.now
    if state is not None:
        return _continue_conversation(ctx, customer, state, message)
    pending = rating.continue_comment(ctx, customer, message)
    if pending.reply is not None:
        return pending.reply
    reply = _outside_conversation(ctx, customer, message)
    return f"{pending.note}\n{reply}" if pending.note and reply else reply


def _subscribe(ctx: Context, message: IncomingMessage) -> str:
    customer = customers.get_or_create_customer(ctx.session, message.openid, ctx.now)
    if not customer.subscribed:
        customer.subscribed, customer.subscribed_at = True, ctx.now
        customer.unsubscribed_at = None
    customer.last_inbound_at = ctx.now
    return texts.WELCOME.format(company=ctx.settings.app.company_name)


def _unsubscribe(ctx: Context, message: IncomingMessage) -> str:
    customer = customers.customer_by_openid(ctx.session, message.openid)
    if customer is not None:
        customer.subscribed, customer.unsubscribed_at = False, ctx.now
    ctx.on_commit(lambda: ctx.conversations.clear(message.openid))
    return ""


def _outside_conversation(ctx: Context, customer: Customer, message: IncomingMessage) -> str:
    word = _word(message)
    if message.is_click("COMPLAINT_NEW") or word in START_WORDS:
        return _start_conversation(ctx, message.openid)
    if message.is_click("COMPLAINT_MINE") or word in LIST_WORDS:
        return _list_tickets(ctx, customer)
    if message.is_click("HOTLINE") or word in HOTLINE_WORDS:
        return _hotline(ctx)
    stars = rating.stars_of(message)
    if stars is not None:
        return rating.tap(ctx, customer, stars)
    match = QUERY_ONE.match(word)
    if match:
        return _show_ticket(ctx, customer, match.group(1))
    reply = callback.answer(ctx, customer, word)
    if reply is None and message.kind == "text":
        reply = callback.take_reason(ctx, customer, message.text)
    return reply or texts.GUIDE


def _word(message: IncomingMessage) -> str:
    if message.kind != "text":
        return ""
    return tickets.normalize_number(message.text).replace("　", " ").strip(" 。.!！?？")


def _start_conversation(ctx: Context, openid: str) -> str:
    result = conv.start(ctx.now, conversation_config(ctx))
    state = replace(result.state, intake_key=uuid.uuid4().hex)
    ctx.on_commit(lambda: ctx.conversations.save(openid, state))
    return result.reply


def _continue_conversation(ctx: Context, customer: Customer, state, message) -> str:
    result = conv.step(state, message.as_conversation_input(), ctx.now, conversation_config(ctx))
    openid = message.openid
    if result.confirmed is not None:
        ticket = _file_ticket(ctx, customer, result.confirmed, state)
        ctx.on_commit(lambda: ctx.conversations.clear(openid))
        return conv_texts.submitted_reply(ticket.number, conversation_config(ctx))
    if result.state is None:
        ctx.on_commit(lambda: ctx.conversations.clear(openid))
    else:
        new_state = result.state
        ctx.on_commit(lambda: ctx.conversations.save(openid, new_state))
    return result.reply


def _file_ticket(ctx: Context, customer: Customer, draft, state) -> Ticket:
    """Exactly one ticket per confirmed draft, even if 确认 arrives twice."""
    intake_key = state.intake_key or uuid.uuid4().hex
    existing = tickets.find_by_intake_key(ctx.session, intake_key)
    if existing is not None:
        return existing
    customer.name, customer.phone = draft.name, draft.phone
    department = tickets.general_department(ctx.session, ctx.settings.workflow.general_department)
    ticket = tickets.create_wechat_ticket(
        ctx.session,
        customer,
        draft,
        ctx.now,
        timezone=ctx.settings.app.timezone,
        receiving_department=department,
        intake_key=intake_key,
    )
    repeats.link_repeat(ctx.session, ticket, ctx.now, ctx.settings.workflow.repeat_window_days)
    return ticket


def _list_tickets(ctx: Context, customer: Customer) -> str:
    recent = tickets.recent_for_customer(
        ctx.session, customer.id, ctx.settings.conversation.recent_tickets
    )
    if not recent:
        return texts.NO_TICKETS
    lines = [texts.TICKET_LIST_HEADER.format(count=len(recent))]
    lines += [_ticket_line(ctx, ticket) for ticket in recent]
    lines.append(texts.TICKET_LIST_FOOTER)
    return "\n".join(lines)


def _ticket_line(ctx: Context, ticket: Ticket) -> str:
    zone = ZoneInfo(ctx.settings.app.timezone)
    parts = [
        ticket.number,
        ticket.appeal_type,
        STATUS_LABELS[ticket.status],
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


def _show_ticket(ctx: Context, customer: Customer, number: str) -> str:
    ticket = tickets.find_by_number(ctx.session, number)
    if ticket is None or ticket.customer_id != customer.id:
        return texts.TICKET_NOT_FOUND.format(number=number)
    zone = ZoneInfo(ctx.settings.app.timezone)
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
    if ticket.result:
        lines.append(f"处理结果：{ticket.result}")
    return "\n".join(lines)


def _hotline(ctx: Context) -> str:
    lines = "\n".join(ctx.settings.hotline.lines) or "请拨打当地燃气服务热线"
    return texts.HOTLINE.format(company=ctx.settings.app.company_name, lines=lines)


def conversation_config(ctx: Context) -> conv.ConversationConfig:
    settings = ctx.settings.conversation
    return conv.ConversationConfig(
        appeal_types=tuple(settings.appeal_types),
        idle_minutes=settings.idle_minutes,
        max_content_chars=settings.max_content_chars,
        callback_promise=settings.callback_promise,
    )
