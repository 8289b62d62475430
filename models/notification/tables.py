"""Notifications: the outbox of everything someone must hear about.

A row is written in the same transaction as the change it reports; sending it (template or
customer-service message through rq) happens after the commit, at least once, and a row that
was sent is never sent again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # assignment, urge, reminder, breach...
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    # pending → sending (the attempt is on record before anything leaves) → sent | failed
    # (permanent error) | skipped (nobody to send to: phone path) | unsure (a send that may have
    # happened and cannot be repeated safely: for a person to check) | pending (retry later)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    channel: Mapped[str] = mapped_column(String(10), default="")  # template | custom
    # The channel of an attempt whose outcome is unknown (timeout, crash): "custom" is never
    # sent again (its template follows), "template" only with the same client_msg_id.
    in_doubt: Mapped[str] = mapped_column(String(10), default="")
    attempt_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text, default="")
    wechat_msgid: Mapped[str] = mapped_column(String(32), default="", index=True)
    delivery: Mapped[str] = mapped_column(String(40), default="")  # TEMPLATESENDJOBFINISH
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the row was last queued, or when its retry is due after a transient error. The
    # outbox sweep queues a still-pending row again once outbox.resend_after_seconds have
    # passed since then (a job lost with Redis, a worker that died mid-job).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_notifications_status_next", "status", "next_attempt_at"),)


class Digest(Base):
    """A periodic digest (the leaders' daily resolutions), claimed once per day: the unique
    key keeps two cron processes from sending it twice."""

    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # resolutions
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD, local
    count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("kind", "day"),)
