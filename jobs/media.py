"""Downloading a ticket's attachments from WeChat (media/get) into our own storage.

One job per attachment, queued after the commit that wrote it; a transient failure is retried
by rq with backoff (`media.retry_seconds`), and the sweep queues again a download whose job was
lost. The row ends "stored" (with its path under `web.media_dir`) or "failed" (with the
error): a failed download shows as failed, it is never silently dropped. The ticket's own list
of media (`tickets.attachments`, what the back office's page shows) gets the same file and
state. Running twice is harmless: a row that is no longer pending is left alone.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from pathlib import Path

from bot.db import transaction
from bot.runtime import Runtime
from bot.settings import Settings
from bot.wechat_api import ApiError, Media
from models.ticket.tables import Attachment

log = logging.getLogger(__name__)
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "audio/amr": ".amr",
    "audio/mpeg": ".mp3",
    "audio/speex": ".speex",
    "video/mp4": ".mp4",
}


class RetryLater(Exception):
    """A transient failure: rq retries the job with backoff (the row stays pending)."""


def download_attachment(attachment_id: int) -> str:
    """The rq job."""
    from jobs.runtime import current

    runtime = current()
    outcome = fetch(runtime, attachment_id, runtime.now())
    if outcome == "retry":
        raise RetryLater(f"attachment {attachment_id} will be retried")
    return outcome


def fetch(runtime: Runtime, attachment_id: int, now: datetime) -> str:
    """stored | failed | retry | done-before."""
    with transaction(runtime.sessions) as session:
        row = session.get(Attachment, attachment_id, with_for_update=True)
        if row is None or row.status != "pending":
            return "done-before"
        row.attempts += 1
        try:
            media = runtime.wechat_api().get_media(row.media_id, runtime.settings.media.max_bytes)
        except ApiError as error:
            return _failed_attempt(runtime.settings, row, error, now)
        _store(runtime.settings, row, media, now)
        return "stored"


def _store(settings: Settings, row: Attachment, media: Media, now: datetime) -> None:
    kind = media.content_type.split(";")[0].strip().lower()
    relative = Path(row.ticket.number) / f"{row.id}-{row.kind}{EXTENSIONS.get(kind, '.bin')}"
    target = settings.media_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(media.content)
    os.replace(partial, target)  # a reader never sees half a file
    row.status, row.path, row.content_type = "stored", relative.as_posix(), kind
    row.size, row.stored_at, row.last_error = len(media.content), now, ""
    _mirror(row, file=row.path, content_type=kind, status="stored")
    log.info("attachment %s of %s stored (%s bytes)", row.id, row.ticket.number, row.size)


def _failed_attempt(settings: Settings, row: Attachment, error: ApiError, now: datetime) -> str:
    row.last_error = str(error)[:500]
    delays = settings.media.retry_seconds
    if error.retry_later and row.attempts <= len(delays):
        row.next_attempt_at = now + timedelta(seconds=delays[row.attempts - 1])
        return "retry"
    row.status = "failed"
    _mirror(row, status="failed")
    log.warning("attachment %s failed after %s attempts: %s", row.id, row.attempts, error)
    return "failed"


def _mirror(row: Attachment, **values: str) -> None:
    """The ticket's media item of this attachment gets its file and state (a new list: the
    JSON column sees only assignments)."""
    ticket = row.ticket
    ticket.attachments = [
        {**item, **values} if item.get("media_id") == row.media_id else item
        for item in ticket.attachments or []
    ]
