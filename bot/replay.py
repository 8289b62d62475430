"""Replaying pushes whose handler failed (`bihuan inbound replay`)."""

from __future__ import annotations

from sqlalchemy import select

from bot import wechat
from bot.db import transaction
from bot.inbox import Inbox
from bot.runtime import Runtime
from handlers.incoming import IncomingMessage
from models.inbound import InboundMessage


def replay_failed(runtime: Runtime) -> tuple[int, int]:
    inbox = Inbox(runtime)
    with transaction(runtime.sessions) as session:
        rows = session.execute(
            select(InboundMessage.id, InboundMessage.raw_xml)
            .where(InboundMessage.status == "failed")
            .order_by(InboundMessage.id)
        ).all()
    done = failed = 0
    for inbound_id, raw_xml in rows:
        message = IncomingMessage.from_fields(wechat.parse(raw_xml))
        inbox.process(inbound_id, message)
        with transaction(runtime.sessions) as session:
            status = session.get(InboundMessage, inbound_id).status
        done, failed = (done + 1, failed) if status == "done" else (done, failed + 1)
    return done, failed
