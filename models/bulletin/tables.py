"""A periodic bulletin (定期通报) with its figures frozen when it was issued."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class Bulletin(Base):
    """One bulletin of one period. `content` is the snapshot taken at `issued_at`: a later
    change to a ticket (a reopen, a late call-back) shows in the next bulletin, never here."""

    __tablename__ = "bulletins"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # weekly | monthly
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    title: Mapped[str] = mapped_column(String(100))
    content: Mapped[dict] = mapped_column(JSON, default=dict)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("kind", "period_start"),)
