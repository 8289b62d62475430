"""The ticket (《客户投诉处理闭环管理单》), its timeline and its deadlines."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, utcnow
from models.people.tables import Department, Staff

OPEN_STATUSES = ("received", "assigned", "processing", "resolved")


def _received_at(context) -> datetime:
    """A new ticket is due to be completed, for the figures, from when it was received."""
    return context.get_current_parameters().get("created_at") or utcnow()


class Ticket(Base):
    """One complaint. Every field of the policy's form is a column."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # TS202611280001
    # The conversation draft that created it: a repeated 确认 finds this ticket again.
    intake_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="received")
    severity: Mapped[str] = mapped_column(String(10), default="general")
    # 受理部门 / 诉求类型 / 服务对象 / 联系电话 / 投诉来源 / 投诉时间 / 单位/地址
    receiving_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    appeal_type: Mapped[str] = mapped_column(String(20))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    customer_name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(32))
    source_channel: Mapped[str] = mapped_column(String(20))
    complained_at: Mapped[datetime] = mapped_column(UTCDateTime)
    address: Mapped[str] = mapped_column(String(200), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # 诉求事项 (short) / 受理内容 (full text) / the media as received (MediaId/PicUrl; the
    # download job adds each stored file and its state); the files kept are `Attachment` rows.
    matter: Mapped[str] = mapped_column(String(100), default="")
    content: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list] = mapped_column(JSON, default=list)
    # 处理结果 with 承办部门 / 负责人 / date
    handling_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    result: Mapped[str] = mapped_column(Text, default="")
    responsible_person: Mapped[str] = mapped_column(String(50), default="")
    resolved_on: Mapped[date | None] = mapped_column(Date)
    # Outside references
    external_number: Mapped[str] = mapped_column(String(64), default="")  # government platform
    gas_account: Mapped[str] = mapped_column(String(32), default="")  # 户号
    # Validity, money, repeats, escalation
    invalid_reason: Mapped[str] = mapped_column(Text, default="")
    money_status: Mapped[str] = mapped_column(String(10), default="none")
    money_kind: Mapped[str] = mapped_column(String(10), default="")
    money_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    repeat_of_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    repeat_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    accountability_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    rounds: Mapped[int] = mapped_column(Integer, default=0)
    returns: Mapped[int] = mapped_column(Integer, default=0)  # 退单: times sent back
    leader_signed_off: Mapped[bool] = mapped_column(Boolean, default=False)
    explanation_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    # A phone call-back (电话回访) is on the officer's list: no answer in the chat in time, an
    # unsubscribed customer, or a customer of another channel.
    phone_callback: Mapped[bool] = mapped_column(Boolean, default=False)
    # A reported gas leak or smell of gas (燃气安全): safety advice given to the customer,
    # the officer told at once, first in 待办 and in the back office.
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who registered it in the back office (登记人); None for WeChat complaints.
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # For the figures (models.figures), kept by the clocks and `perform` so that a year of
    # tickets is counted from this table alone. 应办结时间: when the ticket is due to be
    # completed, i.e. the first round's resolve deadline (as extended or escalated), or the
    # time it was received while it has none.
    completion_due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_received_at)
    # The first and the latest call-back answer: when, whether satisfied, who had resolved
    # the round it answered (the person it is credited to).
    first_callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_callback_satisfied: Mapped[bool | None] = mapped_column(Boolean)
    first_callback_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    last_callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_callback_satisfied: Mapped[bool | None] = mapped_column(Boolean)
    last_callback_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    handling_department: Mapped[Department | None] = relationship(
        foreign_keys=[handling_department_id]
    )
    receiving_department: Mapped[Department | None] = relationship(
        foreign_keys=[receiving_department_id]
    )
    handler: Mapped[Staff | None] = relationship(foreign_keys=[handler_id])
    repeat_of: Mapped[Ticket | None] = relationship(remote_side=[id])
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id"
    )
    deadlines: Mapped[list[Deadline]] = relationship(
        back_populates="ticket", order_by="Deadline.id"
    )
    files: Mapped[list[Attachment]] = relationship(
        back_populates="ticket", order_by="Attachment.id"
    )

    __table_args__ = (
        Index("ix_tickets_customer_created", "customer_id", "created_at"),
        Index("ix_tickets_phone", "phone"),  # repeat complaints by the same phone
        # The back office's list: a department's or a clerk's tickets, search by 户号 and the
        # government platform's number.
        Index("ix_tickets_handling_department", "handling_department_id", "id"),
        Index("ix_tickets_receiving_department", "receiving_department_id", "id"),
        Index("ix_tickets_registered_by", "registered_by_id", "id"),
        Index("ix_tickets_gas_account", "gas_account"),
        Index("ix_tickets_external_number", "external_number"),
        Index("ix_tickets_updated_at_id", "updated_at", "id"),  # the API's change feed
        # Figures: each period column with what its figures count, so that a year's trend is
        # an index-only scan on PostgreSQL (INCLUDE is ignored elsewhere).
        Index(
            "ix_tickets_created_at_figures",
            "created_at",
            postgresql_include=["status", "repeat_flag", "accountability_flag"],
        ),
        Index("ix_tickets_completion_due_at", "completion_due_at", postgresql_include=["status"]),
        Index(
            "ix_tickets_first_callback_at",
            "first_callback_at",
            postgresql_include=["first_callback_satisfied"],
        ),
        Index(
            "ix_tickets_last_callback_at",
            "last_callback_at",
            postgresql_include=["last_callback_satisfied"],
        ),
        # By status (the lists' tabs; the figures' open tickets and invalid ones), with what
        # the figures per department read: an index-only scan on PostgreSQL.
        Index(
            "ix_tickets_status_figures",
            "status",
            "id",
            postgresql_include=["handling_department_id", "receiving_department_id"],
        ),
    )


class TicketEvent(Base):
    """One line of the timeline: who did what, when, from which channel, and why."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    actor_role: Mapped[str] = mapped_column(String(20))
    actor_name: Mapped[str] = mapped_column(String(50), default="")
    actor_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    channel: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    from_status: Mapped[str] = mapped_column(String(20), default="")
    to_status: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="events")

    __table_args__ = (Index("ix_ticket_events_kind_created", "kind", "created_at"),)


class Deadline(Base):
    """One SLA clock of a ticket (route, investigate, resolve, callback).

    A clock that is extended (延期) is superseded by a new row; the old one stays on record.
    """

    __tablename__ = "deadlines"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    clock: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    # Working days counted (the resolve clock and its extensions), so that a calendar change
    # can count them again; None for wall-clock clocks.
    workdays: Mapped[int | None] = mapped_column(Integer)
    # running | met (stopped in time) | late (stopped after due) | superseded (extended, restarted)
    state: Mapped[str] = mapped_column(String(12), default="running")
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the next reminder or breach alert of this clock is due (None: nothing left).
    next_alert_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship(back_populates="deadlines")

    __table_args__ = (
        Index("ix_deadlines_state_due", "state", "due_at"),
        Index("ix_deadlines_state_next_alert", "state", "next_alert_at"),
        # Figures: the clocks that came due in a period, read from the index alone.
        Index(
            "ix_deadlines_due_at_figures",
            "due_at",
            postgresql_include=["ticket_id", "clock", "state", "provisional"],
        ),
        # The running clocks of a ticket (is it overdue now?): small, whatever the history.
        Index(
            "ix_deadlines_running_ticket",
            "ticket_id",
            "due_at",
            postgresql_where=text("state = 'running'"),
            sqlite_where=text("state = 'running'"),
        ),
    )


class DeadlineAlert(Base):
    """One reminder or breach stage of a clock, handled once (the unique key guarantees it
    even when two sweeps run at the same time)."""

    __tablename__ = "deadline_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("deadlines.id"))
    stage: Mapped[str] = mapped_column(String(20))  # remind:0.5, remind:0.8, breach, escalate
    sent: Mapped[bool] = mapped_column(Boolean, default=True)  # False: passed over (stale)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("deadline_id", "stage"),)


class SlaBreach(Base):
    """A breached clock, recorded against each person responsible (for performance reviews)."""

    __tablename__ = "sla_breaches"

    id: Mapped[int] = mapped_column(primary_key=True)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("deadlines.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    clock: Mapped[str] = mapped_column(String(20))
    breached_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("deadline_id", "staff_id"),)


class Attachment(Base):
    """An image, voice or video sent while filing, downloaded from WeChat (which deletes
    temporary media after 3 days) into our own storage by a job."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # image | voice | video
    media_id: Mapped[str] = mapped_column(String(128))
    pic_url: Mapped[str] = mapped_column(String(500), default="")
    # pending (waiting for its download) → stored | failed (gave up; kept to be seen)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    path: Mapped[str] = mapped_column(String(300), default="")  # under web.media_dir
    content_type: Mapped[str] = mapped_column(String(100), default="")
    size: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    stored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the download was last queued, or when its retry is due.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship(back_populates="files")

    __table_args__ = (Index("ix_attachments_status_next", "status", "next_attempt_at"),)


class TicketSequence(Base):
    """The last ticket number used on one day (Asia/Shanghai)."""

    __tablename__ = "ticket_sequences"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)  # YYYYMMDD
    last: Mapped[int] = mapped_column(Integer, default=0)


class AccountabilityReview(Base):
    """The officer's or a leader's review of a ticket flagged for accountability (责任追究):
    pursue it (追责) or clear it (不予追责), with a note. The flag itself stays."""

    __tablename__ = "accountability_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    decision: Mapped[str] = mapped_column(String(10))  # pursue | clear
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerExport(Base):
    """One ledger (台账) export: what it selects, how far the worker got, where the file is.

    queued → running → done | failed; the back office polls the row for progress."""

    __tablename__ = "ledger_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)  # TicketFilter.to_params()
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    filename: Mapped[str] = mapped_column(String(200), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
