"""Periodic sweeps (run by `bihuan cron`): they read the database, not Redis, so losing
Redis or a worker loses neither a notification, a reminder nor an attachment.

Each takes an explicit `now` (the runtime's clock): `bihuan sweep --at` runs them at any
moment to see reminders, breaches, call-back timeouts and digests without waiting."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.db import transaction
from bot.runtime import Runtime
from jobs.queue import enqueue_downloads, enqueue_notifications, enqueue_written
from models.notification import digests
from models.notification.tables import Notification
from models.ticket import alerts, attachments

log = logging.getLogger(__name__)


def sweep_outbox() -> int:
    """rq job: queue again the notifications and downloads still pending."""
    from jobs.runtime import current

    runtime = current()
    return requeue_pending(runtime, runtime.now()) + requeue_downloads(runtime, runtime.now())


def sweep_deadlines() -> int:
    """rq job: send the reminders and breach alerts that are due, and the daily digest."""
    from jobs.runtime import current

    runtime = current()
    return send_due_alerts(runtime, runtime.now()) + send_digest(runtime, runtime.now())


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


def requeue_downloads(runtime: Runtime, now: datetime) -> int:
    """Pending attachments last queued more than media.resend_after_seconds ago."""
    config = runtime.settings.media
    cutoff = now - timedelta(seconds=config.resend_after_seconds)
    with transaction(runtime.sessions) as session:
        rows = attachments.waiting(session, cutoff, runtime.settings.outbox.batch)
        for row in rows:
            row.next_attempt_at = now
        ids = [row.id for row in rows]
    if ids:
        log.info("media sweep: queueing %s pending downloads again", len(ids))
    return enqueue_downloads(runtime, ids)


def send_digest(runtime: Runtime, now: datetime) -> int:
    """The leaders' daily digest of resolutions (workflow.leader_reports = "daily"), once a
    day after workflow.leader_digest_time."""
    workflow = runtime.policy.workflow
    if workflow.leader_reports != "daily":
        return 0
    with transaction(runtime.sessions) as session:
        sent = digests.send_resolutions(session, now, workflow.leader_digest_time, runtime.policy)
    enqueue_written(runtime, session)
    return sent


def send_due_alerts(runtime: Runtime, now: datetime) -> int:
    with transaction(runtime.sessions) as session:
        sent = alerts.sweep(session, now, runtime.deadline_policy(), runtime.settings.outbox.batch)
    enqueue_written(runtime, session)
    return sent


def run_all(runtime: Runtime, now: datetime) -> dict[str, int]:
    """Every sweep once at ``now`` (`bihuan sweep --at`, the dev server's /_dev/sweep)."""
    return {
        "alerts": send_due_alerts(runtime, now),
        "digests": send_digest(runtime, now),
        "requeued": requeue_pending(runtime, now),
        "downloads": requeue_downloads(runtime, now),
    }
