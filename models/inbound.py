"""Inbound WeChat pushes, kept for de-duplication and for replay after a failure."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class InboundMessage(Base):
    """One push from WeChat. The dedupe key makes repeated pushes one row.

    status: processing → done (reply stored) or failed (error stored; `bihuan inbound replay`).
    """

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    msg_type: Mapped[str] = mapped_column(String(32))
    raw_xml: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="processing", index=True)
    reply: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
