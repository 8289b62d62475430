"""A rating with its consequences as JSON-ready values (`bihuan ticket show --json`)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.core.labels import STAR_LABELS
from models.rating.tables import Rating, RatingCallback, RatingNotice, RatingRecord


def rating_as_dict(session: Session, rating: Rating, zone: ZoneInfo) -> dict:
    """A rating with its consequences, JSON-ready (`bihuan ticket show --json`)."""
    records = session.scalars(
        select(RatingRecord.kind)
        .where(RatingRecord.rating_id == rating.id)
        .order_by(RatingRecord.id)
    )
    task = session.scalar(select(RatingCallback).where(RatingCallback.rating_id == rating.id))
    notice = session.scalar(select(RatingNotice).where(RatingNotice.rating_id == rating.id))
    return {
        "stars": rating.stars,
        "label": STAR_LABELS[rating.stars],
        "comment": rating.comment,
        "channel": rating.channel,
        "rated_at": rating.created_at.astimezone(zone).isoformat(),
        "commented_at": (
            rating.commented_at.astimezone(zone).isoformat() if rating.commented_at else None
        ),
        "responsible": rating.staff.name if rating.staff else None,
        "records": list(records),
        "callback": {"status": task.status, "staff_id": task.staff_id} if task else None,
        "notice": {"status": notice.status, "title": notice.title} if notice else None,
    }
