"""The optional comment after a star tap (服务评价), as a pure state machine.

After a rating the customer may write one comment; 0 skips. `step` applies one inbound
message to a `CommentState` and says what happened. Standard library only: the caller keeps
the state (`to_dict`/`from_dict`), stores the comment and sends the reply.

Outcomes:
- "comment": `comment` holds the text to attach to the rating; the step is over.
- "skipped": 0 (or 跳过, 不用了…); the step is over.
- "retry": not usable as a comment (a sticker, a picture, too long): `reply` asks again.
- "pass": not meant as a comment (a menu click, 投诉, 查询…): the step is over and the caller
  handles the message as usual.
- "expired": idle longer than `minutes`: the step is over and the caller handles the message
  as usual, telling the customer the comment time is past.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from models.core.conversation import Inbound, text_of
from models.core.words import MENU_WORDS

SKIP_WORDS = frozenset({"0", "跳过", "不用", "不用了", "无", "没有", "算了", "取消", "不了"})
PASS_WORDS = MENU_WORDS  # typed menu words leave the comment step
_QUERY = re.compile(r"(查询|查看)\s*TS\d+", re.IGNORECASE)
# WeChat's sticker placeholder and emoji codes: not a comment.
_NOISE = re.compile(r"(?:【[^】]*】|\[[^\[\]\s]{1,6}\]|/:[^\s/]{1,6}|\s)+")

ASK = "如愿意，请直接回复一句留言，告诉我们您的意见或建议（{minutes}分钟内有效）；回复0跳过。"
THANKS = "已收到您的留言，感谢您的宝贵意见！"
SKIPPED = "好的，感谢您的评价！"
NOT_TEXT = "请用文字（或语音）留言；回复0跳过。"
TOO_LONG = "留言请在{limit}字以内（您发送了{length}字），请精简后重新发送；回复0跳过。"
EXPIRED = "留言时间（{minutes}分钟）已过，您的星级评价已保存。"


@dataclass(frozen=True)
class CommentConfig:
    minutes: int = 30
    max_chars: int = 500


@dataclass(frozen=True)
class CommentState:
    rating_id: int
    updated_at: datetime  # aware

    def to_dict(self) -> dict:
        return {"rating_id": self.rating_id, "updated_at": self.updated_at.isoformat()}

    @classmethod
    def from_dict(cls, data: dict) -> CommentState:
        """Raises ValueError, KeyError or TypeError for a malformed or naive-time payload."""
        updated_at = datetime.fromisoformat(data["updated_at"])
        if updated_at.tzinfo is None:
            raise ValueError("updated_at must carry a time zone")
        return cls(rating_id=int(data["rating_id"]), updated_at=updated_at)


@dataclass(frozen=True)
class CommentResult:
    outcome: str  # comment | skipped | retry | pass | expired
    reply: str = ""  # empty for "pass" and "expired": the caller answers
    comment: str = ""
    state: CommentState | None = None  # set only for "retry"


def start(rating_id: int, now: datetime) -> CommentState:
    return CommentState(rating_id=rating_id, updated_at=now)


def ask(config: CommentConfig) -> str:
    return ASK.format(minutes=config.minutes)


def expired_note(config: CommentConfig) -> str:
    return EXPIRED.format(minutes=config.minutes)


def step(
    state: CommentState, inbound: Inbound, now: datetime, config: CommentConfig
) -> CommentResult:
    """Apply one inbound message to the comment step."""
    if now - state.updated_at > timedelta(minutes=config.minutes):
        return CommentResult("expired")
    text = text_of(inbound)
    if text is None:
        if inbound.kind in ("click", "event"):
            return CommentResult("pass")
        return CommentResult("retry", NOT_TEXT, state=replace(state, updated_at=now))
    key = _key(text)
    if key in SKIP_WORDS:
        return CommentResult("skipped", SKIPPED)
    if key in PASS_WORDS or _QUERY.fullmatch(key):
        return CommentResult("pass")
    comment = text.strip()
    if not key or _NOISE.fullmatch(comment):
        return CommentResult("retry", NOT_TEXT, state=replace(state, updated_at=now))
    if len(comment) > config.max_chars:
        reply = TOO_LONG.format(limit=config.max_chars, length=len(comment))
        return CommentResult("retry", reply, state=replace(state, updated_at=now))
    return CommentResult("comment", THANKS, comment=comment)


def _key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().strip("。.!！?？，,~～ ")
