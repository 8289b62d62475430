"""Periodic bulletins (定期通报), issued by `bihuan cron` (`bot.cron.PERIODIC`).

Each run issues the bulletin of the last complete week or month unless it exists already, so
a cron that was down issues it at its next run and two crons issue it once. The push to the
officer and leaders is queued after the commit, like every notification.
"""

from __future__ import annotations

from datetime import datetime

from bot.db import transaction
from bot.runtime import Runtime
from bot.settings import Settings
from jobs.queue import enqueue_written
from models.bulletin.service import BulletinConfig, issue


def issue_bulletin(runtime: Runtime, kind: str, now: datetime) -> int | None:
    """The bulletin's id when it was issued now, None when it existed already."""
    with transaction(runtime.sessions) as session:
        bulletin, issued = issue(session, kind, now, bulletin_config(runtime.settings))
        bulletin_id = bulletin.id
    enqueue_written(runtime, session)
    return bulletin_id if issued else None


def bulletin_config(settings: Settings) -> BulletinConfig:
    return BulletinConfig(
        timezone=settings.app.timezone,
        targets=settings.figures,
        recipients=tuple(settings.bulletin.recipients),
        list_limit=settings.bulletin.list_limit,
        low_at_or_below=settings.rating.callback_at_or_below,
    )
