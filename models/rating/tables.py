"""Star ratings (五星评价) and what they lead to, and the business records they can be about.

A rating is about a ticket, a business record pushed by the gas business system (燃气业务管理
系统), or the service in general. Its consequences are rows of their own, each naming the
person concerned, so that per-person figures can be counted from them: praise and criticism
records, a phone call-back task for the designated staff member, a draft company-wide notice
(通报批评) for the officer. Nothing is ever deleted.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, utcnow
from models.people.tables import Staff


class BusinessRecord(Base):
    """One completed business (报装、安装、点火、维修…) with the staff member responsible."""

    __tablename__ = "business_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # 报装, 设计, 安装, 点火, 维修
    order_no: Mapped[str] = mapped_column(String(64), unique=True)
    phone: Mapped[str] = mapped_column(String(32), default="", index=True)
    openid: Mapped[str | None] = mapped_column(String(64), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    staff_name: Mapped[str] = mapped_column(String(50), default="")
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    staff: Mapped[Staff | None] = relationship()


class Rating(Base):
    """One rating: 1–5 stars and an optional comment, from WeChat or the portal's page."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(10))  # ticket | business | general
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    business_record_id: Mapped[int | None] = mapped_column(
        ForeignKey("business_records.id"), index=True
    )
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    # The responsible person when rated: the ticket's handler, the business record's staff.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    stars: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(10))  # wechat | web
    phone: Mapped[str] = mapped_column(String(32), default="")  # for the call-back
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    commented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The /rate form it came from: each form is submitted once.
    form_nonce: Mapped[str | None] = mapped_column(String(40), unique=True)
    # Rated or commented last: the API's change feed reads ratings in this order.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    staff: Mapped[Staff | None] = relationship(foreign_keys=[staff_id])
    business_record: Mapped[BusinessRecord | None] = relationship()

    __table_args__ = (
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),
        Index("ix_ratings_created_at", "created_at"),
        Index("ix_ratings_updated_at_id", "updated_at", "id"),
    )


class RatingRecord(Base):
    """Praise (表扬) or criticism (批评) of one person, from one rating."""

    __tablename__ = "rating_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("ratings.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # praise | criticism
    stars: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("rating_id", "staff_id", "kind"),)


class RatingCallback(Base):
    """A phone call-back (电话回访) of a low rating, on the designated staff member's list."""

    __tablename__ = "rating_callbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("ratings.id"), unique=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    phone: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | done
    # What the customer said on the phone (回访 PJ…): satisfied | unsatisfied.
    outcome: Mapped[str] = mapped_column(String(12), default="")
    note: Mapped[str] = mapped_column(Text, default="")  # the customer's comment
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The outcome of the call: reached the customer or not, and what was said.
    reached: Mapped[bool | None] = mapped_column(Boolean)
    result: Mapped[str] = mapped_column(Text, default="")
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    rating: Mapped[Rating] = relationship()


class RatingNotice(Base):
    """A company-wide notice (通报): criticism (通报批评) drafted by a ≤2★ rating, or praise
    (通报表扬) drafted from a 5★ praise record. A draft is edited and published by the officer,
    which gives it a number and a date; a notice can be withdrawn (撤回), and it is never
    deleted. The row names the person concerned: it is that person's record of the notice."""

    __tablename__ = "rating_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("ratings.id"), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="criticism")  # criticism | praise
    status: Mapped[str] = mapped_column(String(10), default="draft")  # draft|published|withdrawn
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # 通报编号: a series per year, never reused (a withdrawn notice keeps its number).
    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    number_year: Mapped[int | None] = mapped_column(Integer)
    number_seq: Mapped[int | None] = mapped_column(Integer)
    published_on: Mapped[date | None] = mapped_column(Date)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    withdraw_reason: Mapped[str] = mapped_column(Text, default="")

    staff: Mapped[Staff] = relationship(foreign_keys=[staff_id])
    rating: Mapped[Rating] = relationship()

    __table_args__ = (
        UniqueConstraint("number_year", "number_seq"),
        Index("ix_rating_notices_status_published", "status", "published_at"),
    )
