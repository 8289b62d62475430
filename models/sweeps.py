"""When each periodic sweep last ran (for /healthz), one row per sweep."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, UTCDateTime


class SweepRun(Base):
    __tablename__ = "sweep_runs"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    runs: Mapped[int] = mapped_column(Integer, default=0)


def _row(session: Session, name: str) -> SweepRun:
    row = session.get(SweepRun, name)
    if row is None:
        row = SweepRun(name=name, last_error="", runs=0)
        session.add(row)
    return row


def record_finished(session: Session, name: str, started: datetime, finished: datetime) -> None:
    row = _row(session, name)
    row.started_at, row.finished_at, row.runs = started, finished, (row.runs or 0) + 1


def record_failed(session: Session, name: str, at: datetime, error: str) -> None:
    row = _row(session, name)
    row.failed_at, row.last_error = at, error[:500]


def all_runs(session: Session) -> dict[str, SweepRun]:
    return {row.name: row for row in session.scalars(select(SweepRun))}
