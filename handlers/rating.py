"""The customer's star taps (服务评价 → RATE_1…RATE_5) and the optional comment after them.

A tap rates what `models.rating.service.choose_for_customer` picks; the reply says what was
rated and with how many stars, then asks for a comment. The comment step is kept per openid
(`bot.stores.CommentSteps`) and expires after `rating.comment_minutes`.
"""

from __future__ import annotations

import re

from handlers import callback
from handlers.context import Context
from handlers.customer_turn import Turn
from handlers.incoming import IncomingMessage
from models.core import comment as flow
from models.core import rating_policy
from models.core.labels import STAR_LABELS
from models.core.phones import normalize_phone
from models.people.tables import Customer
from models.rating import service as ratings
from models.rating.tables import Rating

CLICK_KEY = re.compile(r"^RATE_([1-5])$")
PHONE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d(?:[\s-]?\d){8}|0\d{2,3}[\s-]?\d{7,8})(?!\d)")

RATED = "感谢您的评价！\n评价对象：{label}\n评分：{stars}"
SORRY_WITH_PHONE = "很抱歉让您不满意，我们将安排专人电话回访，了解您遇到的问题。"
SORRY_NO_PHONE = "很抱歉让您不满意。如需我们电话回访，请在留言中留下您的联系电话。"
HEARD_WITH_PHONE = "我们会安排专人电话回访，听取您的意见和建议，把服务做得更好。"
HEARD_NO_PHONE = "如愿意在留言中留下联系电话，我们会电话回访，听取您的意见和建议。"
ALREADY = "您已于{when}对{label}评价过：{stars}。每项服务只能评价一次，感谢您的支持！"
ALREADY_COMMENT = "如需补充留言，请直接回复；回复0跳过。"


def stars_of(message: IncomingMessage) -> int | None:
    """1–5 for a click on RATE_1…RATE_5, else None."""
    match = CLICK_KEY.match(message.event_key) if message.is_click() else None
    return int(match.group(1)) if match else None


def tap(turn: Turn) -> str:
    """Rate what the tap is about and ask for a comment (or say it was rated already)."""
    ctx, customer, stars = turn.ctx, turn.customer, stars_of(turn.message)
    policy = ctx.policy.rating
    choice = ratings.choose_for_customer(ctx.session, customer, ctx.now, policy, ctx.zone)
    if choice.target is None:
        return _already(ctx, customer, choice.previous)
    try:
        rating = ratings.rate(
            ctx.session,
            choice.target,
            stars,
            ctx.now,
            policy,
            ctx.zone,
            channel="wechat",
            customer_id=customer.id,
        )
    except ratings.AlreadyRated as exc:
        return _already(ctx, customer, exc.rating)
    lines = [RATED.format(label=choice.target.label, stars=star_text(stars))]
    lines += _follow_up(stars, bool(rating.phone), policy)
    _open_comment_step(ctx, customer.openid, rating.id)
    lines.append(flow.ask(ctx.policy.comment))
    return "\n".join(lines)


def _follow_up(stars: int, has_phone: bool, policy: rating_policy.RatingPolicy) -> list[str]:
    """An apology for ★★ and ★; for ★★★ (一般) only word of the call-back, no apology."""
    tone = rating_policy.tone(stars)
    if tone == "unhappy":
        return [SORRY_WITH_PHONE if has_phone else SORRY_NO_PHONE]
    if stars <= policy.callback_at_or_below:
        return [HEARD_WITH_PHONE if has_phone else HEARD_NO_PHONE]
    return []


def _already(ctx: Context, customer: Customer, previous: Rating) -> str:
    zone = ctx.zone
    target = ratings.target_of(ctx.session, previous, zone)
    when = previous.created_at.astimezone(zone)
    reply = ALREADY.format(
        when=f"{when.month}月{when.day}日 {when:%H:%M}",
        label=target.label,
        stars=star_text(previous.stars),
    )
    if not previous.comment:
        _open_comment_step(ctx, customer.openid, previous.id)
        reply += "\n" + ALREADY_COMMENT
    return reply


def star_text(stars: int) -> str:
    """★★★★☆ 4星（满意）"""
    return f"{'★' * stars}{'☆' * (5 - stars)} {stars}星（{STAR_LABELS[stars]}）"


def continue_comment(turn: Turn) -> str | None:
    """Apply a message to the open comment step; None lets the other routes answer it (after a
    note when the comment time is past)."""
    ctx, message, state = turn.ctx, turn.message, turn.comment_step
    openid = message.openid
    if callback.is_bare_answer(turn):  # 1/满意, 2/不满意 or 2 TS… answer the call-back first
        _clear(ctx, openid)
        return None
    config = ctx.policy.comment
    result = flow.step(state, message.as_conversation_input(), ctx.now, config)
    if result.outcome == "retry":
        _save(ctx, openid, result.state)
        return result.reply
    _clear(ctx, openid)
    if result.outcome == "comment":
        phone = _phone_in(result.comment)
        ratings.add_comment(ctx.session, state.rating_id, result.comment, ctx.now, phone=phone)
        return result.reply
    if result.outcome == "skipped":
        return result.reply
    if result.outcome == "expired" and message.kind in ("text", "voice"):
        turn.add_note(flow.expired_note(config))
    return None


def _phone_in(text: str) -> str:
    match = PHONE_IN_TEXT.search(text)
    return (normalize_phone(match.group(1)) or "") if match else ""


# --- the comment step, saved with the push ---------------------------------------------


def _open_comment_step(ctx: Context, openid: str, rating_id: int) -> None:
    _save(ctx, openid, flow.start(rating_id, ctx.now))


def _save(ctx: Context, openid: str, state: flow.CommentState) -> None:
    ctx.stores.comments.save(openid, state)


def _clear(ctx: Context, openid: str) -> None:
    ctx.stores.comments.clear(openid)
