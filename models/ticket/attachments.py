"""A ticket's attachments (附件): the images, voice and video a customer sent while filing.

WeChat keeps temporary media for 3 days only. Each attachment is a row written with the ticket
(status "pending") and downloaded by a job after the commit (`jobs.media`); the row records the
attempts, the last error and, once stored, the file's path under the configured storage
folder. A download that keeps failing ends "failed" and stays visible: nothing is dropped.
Functions take a session and never commit.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.core.labels import ATTACHMENT_KIND_LABELS
from models.ticket.tables import Attachment, Ticket

MEDIA_KEY = "bihuan_media"
KINDS = tuple(ATTACHMENT_KIND_LABELS)


def add(session: Session, ticket: Ticket, media: dict, now: datetime) -> Attachment | None:
    """One pending attachment from a draft's media item (kind, media_id, pic_url); None for
    an item without a media id or of an unknown kind."""
    kind, media_id = str(media.get("kind", "")), str(media.get("media_id", "")).strip()
    if kind not in KINDS or not media_id:
        return None
    row = Attachment(
        ticket_id=ticket.id,
        kind=kind,
        media_id=media_id[:128],
        pic_url=str(media.get("pic_url", ""))[:500],
        status="pending",
        created_at=now,
        next_attempt_at=now,
    )
    session.add(row)
    session.info.setdefault(MEDIA_KEY, []).append(row)
    return row


def written_in(session: Session) -> list[Attachment]:
    """The attachments this session added (queued for download once committed)."""
    return list(session.info.get(MEDIA_KEY, []))


def waiting(session: Session, cutoff: datetime, limit: int) -> list[Attachment]:
    """Pending attachments last queued before ``cutoff`` (a job lost with Redis), oldest
    first, locked so that two sweeps do not queue one twice."""
    statement = (
        select(Attachment)
        .where(Attachment.status == "pending", Attachment.next_attempt_at <= cutoff)
        .order_by(Attachment.next_attempt_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    return list(session.scalars(statement))


def summary(files: list[Attachment]) -> str:
    """图片2个、视频1个 (empty for none)."""
    counts = Counter(row.kind for row in files)
    return "、".join(
        f"{label}{counts[kind]}个" for kind, label in ATTACHMENT_KIND_LABELS.items() if counts[kind]
    )
