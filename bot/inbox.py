"""One inbound push, exactly once: claim its de-duplication key, handle it in one
transaction, keep the reply so that retries of the same push get the same answer.

The key lives in the database (unique constraint), so duplicates are caught across threads,
processes and hosts, and a push whose handler failed stays on record for `bihuan inbound
replay`.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.db import transaction
from bot.runtime import Runtime
from handlers import customer_texts
from handlers.context import Context
from handlers.dispatch import dispatch
from handlers.incoming import IncomingMessage
from jobs.queue import enqueue_written
from models.inbound import InboundMessage

log = logging.getLogger(__name__)
POLL_SECONDS = 0.05


class Inbox:
    def __init__(self, runtime: Runtime, clock: Callable[[], datetime] | None = None):
        self._runtime = runtime
        self._clock = clock or runtime.now

    def handle(self, message: IncomingMessage, xml: str) -> str:
        key = message.dedupe_key()
        try:
            inbound_id = self._claim(key, message, xml)
        except SQLAlchemyError:
            log.exception("cannot record push %s from %s", key, message.openid)
            return customer_texts.BUSY
        if inbound_id is None:
            return self._reply_of_first(key)
        return self.process(inbound_id, message)

    def process(self, inbound_id: int, message: IncomingMessage) -> str:
        """Handle a claimed push in one transaction; on failure keep it for replay."""
        runtime = self._runtime
        try:
            with transaction(runtime.sessions) as session:
                ctx = Context(
                    session=session,
                    settings=runtime.settings,
                    policy=runtime.policy,
                    stores=runtime.stores,
                    now=self._clock(),
                    media_link=runtime.media_links.url,
                )
                reply = dispatch(ctx, message)
                row = session.get(InboundMessage, inbound_id)
                row.status, row.reply, row.finished_at = "done", reply, ctx.now
        except Exception:  # noqa: BLE001 - every failure is logged, kept and answered
            error = traceback.format_exc()
            log.error(
                "handler failed for push %s (msg %s) from %s\n%s",
                inbound_id,
                message.msg_id or message.dedupe_key(),
                message.openid,
                error,
            )
            self._mark_failed(inbound_id, error)
            return customer_texts.BUSY
        _run_after_commit(ctx)
        enqueue_written(runtime, session)
        return reply

    def _claim(self, key: str, message: IncomingMessage, xml: str) -> int | None:
        try:
            with transaction(self._runtime.sessions) as session:
                row = InboundMessage(
                    dedupe_key=key,
                    openid=message.openid,
                    msg_type=message.event or message.kind,
                    raw_xml=xml,
                    received_at=self._clock(),
                )
                session.add(row)
                session.flush()
                return row.id
        except IntegrityError:
            return None

    def _reply_of_first(self, key: str) -> str:
        deadline = time.monotonic() + self._runtime.settings.wechat.duplicate_wait_seconds
        while True:
            with transaction(self._runtime.sessions) as session:
                status, reply = session.execute(
                    select(InboundMessage.status, InboundMessage.reply).where(
                        InboundMessage.dedupe_key == key
                    )
                ).one()
            if status == "done":
                return reply
            if status == "failed":
                return customer_texts.BUSY
            if time.monotonic() >= deadline:
                return ""
            time.sleep(POLL_SECONDS)

    def _mark_failed(self, inbound_id: int, error: str) -> None:
        try:
            with transaction(self._runtime.sessions) as session:
                row = session.get(InboundMessage, inbound_id)
                row.status, row.error = "failed", error[-8000:]
                row.reply, row.finished_at = customer_texts.BUSY, self._clock()
        except SQLAlchemyError:
            log.exception("cannot mark push %s as failed", inbound_id)


def _run_after_commit(ctx: Context) -> None:
    for action in ctx.after_commit:
        try:
            action()
        except Exception:  # noqa: BLE001 - the change is committed; log and go on
            log.exception("after-commit action failed")
