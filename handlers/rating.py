"""The customer's star taps (服务评价 → RATE_1…RATE_5) and the optional comment after them.

A tap rates what `models.rating.service.choose_for_customer` picks; the reply says what was
rated and with how many stars, then asks for a comment. The comment step lives in Redis (one key per
openid, like the complaint conversation) and expires after `rating.comment_minutes`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from handlers import callback
from handlers.context import Context
from handlers.incoming import IncomingMessage
from models.core import comment as flow
from models.core.phones import normalize_phone
from models.people.tables import Customer
from models.rating import service as ratings
from models.rating.tables import STAR_LABELS, Rating

CLICK_KEY = re.compile(r"^RATE_([1-5])$")
KEY = "bihuan:rating-comment:{openid}"
GRACE_SECONDS = 24 * 3600
PHONE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d(?:[\s-]?\d){8}|0\d{2,3}[\s-]?\d{7,8})(?!\d)")

RATED = "感谢您的评价！\n评价对象：{label}\n评分：{stars}"
SORRY_WITH_PHONE = "很抱歉让您不满意，我们将安排专人电话回访，了解您遇到的问题。"
SORRY_NO_PHONE = "很抱歉让您不满意。如需我们电话回访，请在留言中留下您的联系电话。"
ALREADY = "您已于{when}对{label}评价过：{stars}。每项服务只能评价一次，感谢您的支持！"
ALREADY_COMMENT = "如需补充留言，请直接回复；回复0跳过。"


@dataclass(frozen=True)
class CommentOutcome:
    reply: str | None = None  # the answer, when the message belonged to the comment step
    note: str = ""  # to put before the usual answer (the comment time is past)


def stars_of(message: IncomingMessage) -> int | None:
    """1–5 for a click on RATE_1…RATE_5, else None."""
    match = CLICK_KEY.match(message.event_key) if message.is_click() else None
    return int(match.group(1)) if match else None


def tap(ctx: Context, customer: Customer, stars: int) -> str:
    """Rate what the tap is about and ask for a comment (or say it was rated already)."""
    choice = ratings.choose_for_customer(ctx.session, customer, ctx.now, ctx.settings)
    if choice.target is None:
        return _already(ctx, customer, choice.previous)
    try:
        rating = ratings.rate(
            ctx.session,
            choice.target,
            stars,
            ctx.now,
            ctx.settings,
            channel="wechat",
            customer_id=customer.id,
        )
    except ratings.AlreadyRated as exc:
        return _already(ctx, customer, exc.rating)
    lines = [RATED.format(label=choice.target.label, stars=star_text(stars))]
    if stars <= ctx.settings.rating.callback_at_or_below:
        lines.append(SORRY_WITH_PHONE if rating.phone else SORRY_NO_PHONE)
    if _open_comment_step(ctx, customer.openid, rating.id):
        lines.append(flow.ask(comment_config(ctx)))
    return "\n".join(lines)


def _already(ctx: Context, customer: Customer, previous: Rating) -> str:
    zone = ZoneInfo(ctx.settings.app.timezone)
    target = ratings.target_of(ctx.session, previous, zone)
    when = previous.created_at.astimezone(zone)
    reply = ALREADY.format(
        when=f"{when.month}月{when.day}日 {when:%H:%M}",
        label=target.label,
        stars=star_text(previous.stars),
    )
    if not previous.comment and _open_comment_step(ctx, customer.openid, previous.id):
        reply += "\n" + ALREADY_COMMENT
    return reply


def star_text(stars: int) -> str:
    """★★★★☆ 4星（满意）"""
    return f"{'★' * stars}{'☆' * (5 - stars)} {stars}星（{STAR_LABELS[stars]}）"


def continue_comment(ctx: Context, customer: Customer, message: IncomingMessage) -> CommentOutcome:
    """Apply a message to an open comment step; an empty outcome means "not for us"."""
    state = _load(ctx, customer.openid)
    if state is None:
        return CommentOutcome()
    if _answers_callback(ctx, customer, message):
        _clear(ctx, customer.openid)
        return CommentOutcome()
    config = comment_config(ctx)
    result = flow.step(state, message.as_conversation_input(), ctx.now, config)
    if result.outcome == "retry":
        _save(ctx, customer.openid, result.state)
        return CommentOutcome(reply=result.reply)
    _clear(ctx, customer.openid)
    if result.outcome == "comment":
        phone = _phone_in(result.comment)
        ratings.add_comment(ctx.session, state.rating_id, result.comment, ctx.now, phone=phone)
        return CommentOutcome(reply=result.reply)
    if result.outcome == "skipped":
        return CommentOutcome(reply=result.reply)
    expired = result.outcome == "expired" and message.kind in ("text", "voice")
    return CommentOutcome(note=flow.expired_note(config) if expired else "")


def _answers_callback(ctx: Context, customer: Customer, message: IncomingMessage) -> bool:
    """1/满意 or 2/不满意 while a resolved ticket awaits its call-back answer goes there."""
    word = message.text.strip() if message.kind == "text" else ""
    if word not in callback.SATISFIED and word not in callback.UNSATISFIED:
        return False
    return callback.awaiting_callback(ctx, customer) is not None


def _phone_in(text: str) -> str:
    match = PHONE_IN_TEXT.search(text)
    return (normalize_phone(match.group(1)) or "") if match else ""


def comment_config(ctx: Context) -> flow.CommentConfig:
    config = ctx.settings.rating
    return flow.CommentConfig(minutes=config.comment_minutes, max_chars=config.comment_max_chars)


# --- the comment step in Redis, written after the commit ------------------------------------


def _open_comment_step(ctx: Context, openid: str, rating_id: int) -> bool:
    if ctx.services is None:
        return False
    _save(ctx, openid, flow.start(rating_id, ctx.now))
    return True


def _load(ctx: Context, openid: str) -> flow.CommentState | None:
    if ctx.services is None:
        return None
    raw = ctx.services.redis.get(KEY.format(openid=openid))
    if raw is None:
        return None
    try:
        return flow.CommentState.from_dict(json.loads(raw))
    except (ValueError, KeyError, TypeError):
        _clear(ctx, openid)
        return None


def _save(ctx: Context, openid: str, state: flow.CommentState) -> None:
    ttl = ctx.settings.rating.comment_minutes * 60 + GRACE_SECONDS
    payload = json.dumps(state.to_dict())
    redis = ctx.services.redis
    ctx.on_commit(lambda: redis.set(KEY.format(openid=openid), payload, ex=ttl))


def _clear(ctx: Context, openid: str) -> None:
    redis = ctx.services.redis
    ctx.on_commit(lambda: redis.delete(KEY.format(openid=openid)))
