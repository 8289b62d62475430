"""Events WeChat itself sends about our outbound messages (not user input)."""

from __future__ import annotations

from sqlalchemy import select

from handlers.context import Context
from handlers.incoming import IncomingMessage
from models.notification.tables import Notification


def is_platform_event(message: IncomingMessage) -> bool:
    return message.kind == "event" and message.event == "templatesendjobfinish"


def record_delivery(ctx: Context, message: IncomingMessage) -> str:
    """TEMPLATESENDJOBFINISH: the final delivery result (success, failed:user block…)."""
    if message.msg_id:
        row = ctx.session.scalar(
            select(Notification).where(Notification.wechat_msgid == message.msg_id)
        )
        if row is not None:
            row.delivery = message.status[:40]
    return ""
