"""Queueing jobs on rq, always after the commit of the change that made them necessary.

Redis is a queue here, never the only copy: a row that could not be queued is queued again
by the outbox sweep. After Redis failed, this process does not try again for
`PAUSE_SECONDS`, so that a push is not held up by one connection timeout after another.
"""

from __future__ import annotations

import logging
import time

from redis.exceptions import RedisError
from rq import Queue, Retry

from bot.runtime import Runtime
from models.notification.outbox import written_in
from models.ticket import attachments

log = logging.getLogger(__name__)
# By name, so that this module and the job it queues do not import each other.
SEND_NOTIFICATION = "jobs.delivery.send_notification"
DOWNLOAD_ATTACHMENT = "jobs.media.download_attachment"
PAUSE_SECONDS = 10.0


def make_queue(runtime: Runtime) -> Queue:
    return Queue(runtime.settings.redis.queue_name, connection=runtime.redis)


def enqueue_notifications(runtime: Runtime, ids: list[int], *, sweeping: bool = False) -> int:
    """Queue a send job per notification id. A Redis failure is logged, not raised: the rows
    are in the database and the outbox sweep queues them again. The sweep itself
    (`sweeping`) is told: it raises, so that its run is recorded as failed."""
    if not ids:
        return 0
    if not sweeping and time.monotonic() < runtime.queue_paused_until:
        log.info("not queueing notifications %s: Redis failed moments ago; the sweep will", ids)
        return 0
    queue = make_queue(runtime)
    outbox = runtime.settings.outbox
    try:
        for notification_id in ids:
            queue.enqueue(
                SEND_NOTIFICATION,
                notification_id,
                job_id=f"notification-{notification_id}",
                description=f"send notification {notification_id}",
                retry=Retry(max=len(outbox.retry_seconds), interval=outbox.retry_seconds),
                job_timeout=outbox.job_timeout_seconds,
            )
    except RedisError as error:
        runtime.queue_paused_until = time.monotonic() + PAUSE_SECONDS
        if sweeping:
            raise
        log.warning("could not queue notifications %s (%s); the sweep will", ids, error)
        return 0
    runtime.queue_paused_until = 0.0
    return len(ids)


def enqueue_downloads(runtime: Runtime, ids: list[int]) -> int:
    """Queue a download job per attachment id; a Redis failure is logged (the sweep queues
    the pending rows again)."""
    if not ids:
        return 0
    queue = make_queue(runtime)
    delays = runtime.settings.media.retry_seconds
    try:
        for attachment_id in ids:
            queue.enqueue(
                DOWNLOAD_ATTACHMENT,
                attachment_id,
                job_id=f"attachment-{attachment_id}",
                description=f"download attachment {attachment_id}",
                retry=Retry(max=len(delays), interval=delays),
                job_timeout=max(60, int(runtime.settings.media.download_timeout_seconds * 3)),
            )
    except RedisError:
        log.exception("could not queue downloads %s; the sweep will", ids)
        return 0
    return len(ids)


def enqueue_written(runtime: Runtime, session) -> int:
    """Queue the notifications and attachment downloads a committed session wrote."""
    enqueue_downloads(runtime, [row.id for row in attachments.written_in(session)])
    return enqueue_notifications(runtime, [row.id for row in written_in(session)])
