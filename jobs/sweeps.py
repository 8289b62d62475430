"""Periodic sweeps (run by `bihuan cron`): they read the database, not Redis, so losing
Redis or a worker loses neither a notification nor a reminder."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.db import transaction
from bot.runtime import Runtime
from jobs.queue import enqueue_notifications, enqueue_written
from models.notification.tables import Notification
from models.ticket import alerts

log = logging.getLogger(__name__)


def sweep_outbox() -> int:
    """rq job: queue again the notifications still pending."""
    from jobs.runtime import current

    return requeue_pending(current(), datetime.now(UTC))


def sweep_deadlines() -> int:
    """rq job: send the reminders and breach alerts that are due."""
    from jobs.runtime import current

    return send_due_alerts(current(), datetime.now(UTC))


def requeue_pending(runtime: Runtime, now: datetime) -> int:
    """Pending rows last queued more than outbox.resend_after_seconds ago (indexed)."""
    config = runtime.settings.outbox
    cutoff = now - timedelta(seconds=config.resend_after_seconds)
    with transaction(runtime.sessions) as session:
        statement = (
            select(Notification)
            .where(Notification.status == "pending", Notification.next_attempt_at <= cutoff)
            .order_by(Notification.next_attempt_at)
            .limit(config.batch)
        )
        if session.get_bind().dialect.name == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        rows = list(session.scalars(statement))
        for row in rows:
            row.next_attempt_at = now
        ids = [row.id for row in rows]
    if ids:
        log.info("outbox sweep: queueing %s pending notifications again", len(ids))
    return enqueue_notifications(runtime, ids)


def send_due_alerts(runtime: Runtime, now: datetime) -> int:
    with transaction(runtime.sessions) as session:
        sent = alerts.sweep(session, now, runtime.deadline_policy(), runtime.settings.outbox.batch)
    enqueue_written(runtime, session)
    return sent
