"""The working-day calendar entered by the office (节假日安排): one row per year whose
schedule was entered, one row per listed day, and a version counter that every process reads
to notice a change without a restart."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class CalendarYear(Base):
    """A year whose holidays and make-up working days (调休) were entered: its schedule here
    overrides config.toml and the chinese_calendar package for that year."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(20))  # web | import
    note: Mapped[str] = mapped_column(String(200), default="")
    entered_by: Mapped[str] = mapped_column(String(50), default="")
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CalendarDay(Base):
    """One listed day of an entered year: a day off (holiday) or a make-up working day."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("calendar_years.year"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # holiday | workday
    note: Mapped[str] = mapped_column(String(50), default="")


class CalendarVersion(Base):
    """One row (id 1): bumped by every change, so that each process reloads its calendar."""

    __tablename__ = "calendar_version"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
