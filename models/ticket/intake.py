"""Ticket creation (受理) for every channel, and the lookups it needs, as functions taking a
session. They never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models.core.labels import SEVERITY_LABELS
from models.core.policy import DomainPolicy
from models.core.safety import reports_gas_leak
from models.core.workflow import (
    WECHAT_CHANNEL,
    Actor,
    Role,
    Severity,
    initial_clocks,
    initial_notices,
)
from models.notification import outbox as notifications
from models.people.tables import Customer, Department
from models.ticket import repeats, timeline
from models.ticket.service import apply_clock, snapshot
from models.ticket.tables import Ticket, TicketSequence

MATTER_CHARS = 30
NO_TEXT = "（客户未提供文字说明，见附件）"


def next_ticket_number(session: Session, now: datetime, timezone: str) -> str:
    """TS + local date + 4-digit daily sequence; atomic under concurrent creation."""
    day = now.astimezone(ZoneInfo(timezone)).strftime("%Y%m%d")
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(TicketSequence)
        .values(day=day, last=1)
        .on_conflict_do_update(index_elements=["day"], set_={"last": TicketSequence.last + 1})
        .returning(TicketSequence.last)
    )
    sequence = session.execute(statement).scalar_one()
    return f"TS{day}{sequence:04d}"


def find_by_number(session: Session, number: str) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.number == normalize_number(number)))


def normalize_number(raw: str) -> str:
    """Accepts lower case and full-width characters: ｔｓ２０２６… → TS2026…"""
    import unicodedata

    return unicodedata.normalize("NFKC", raw).strip().upper()


def find_by_intake_key(session: Session, intake_key: str) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.intake_key == intake_key))


def recent_for_customer(session: Session, customer_id: int, limit: int) -> list[Ticket]:
    statement = (
        select(Ticket)
        .where(Ticket.customer_id == customer_id)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(limit)
    )
    return list(session.scalars(statement))


def general_department(session: Session, name: str) -> Department | None:
    return session.scalar(select(Department).where(Department.name == name))


@dataclass(frozen=True)
class NewTicket:
    """What a new ticket is made of, whatever its channel (投诉来源): the policy form's fields
    as received, plus the references known at intake."""

    source_channel: str
    appeal_type: str
    customer_name: str
    phone: str
    address: str
    content: str
    complained_at: datetime
    matter: str = ""
    attachments: tuple[dict, ...] = ()
    latitude: float | None = None
    longitude: float | None = None
    severity: Severity = Severity.GENERAL
    receiving_department_id: int | None = None
    external_number: str = ""  # the government platform's number (12345…)
    gas_account: str = ""  # 户号
    customer_id: int | None = None
    intake_key: str | None = None


def create_ticket(
    session: Session, new: NewTicket, actor: Actor, now: datetime, policy: DomainPolicy
) -> Ticket:
    """The one way a ticket comes to be, for every channel: numbered, its receipt on the
    timeline, linked to the customer's earlier ticket (重复投诉), flagged urgent when it reports
    a gas leak, its first clocks started and whoever must act at once told."""
    ticket = Ticket(
        number=next_ticket_number(session, now, policy.timezone),
        intake_key=new.intake_key,
        status="received",
        severity=str(new.severity),
        receiving_department_id=new.receiving_department_id,
        appeal_type=new.appeal_type,
        customer_id=new.customer_id,
        customer_name=new.customer_name,
        phone=new.phone,
        source_channel=new.source_channel,
        complained_at=new.complained_at,
        address=new.address,
        latitude=new.latitude,
        longitude=new.longitude,
        matter=new.matter or summarize(new.content) or NO_TEXT,
        content=new.content or NO_TEXT,
        attachments=list(new.attachments),
        external_number=new.external_number,
        gas_account=new.gas_account,
        urgent=reports_gas_leak((new.matter, new.content), policy.safety.leak_words),
        registered_by_id=actor.staff_id,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.flush()
    timeline.record(session, ticket, "received", actor, receipt_text(new, actor), now)
    repeats.link_repeat(session, ticket, now, policy.workflow.repeat_window_days)
    for change in initial_clocks(new.severity):
        apply_clock(session, ticket, change, now, policy.deadlines)
    for notice in initial_notices(snapshot(ticket), ticket.urgent):
        notifications.notify(session, notice.recipient, notice.kind, ticket, notice.payload, now)
    return ticket


def receipt_text(new: NewTicket, actor: Actor) -> str:
    """The first line of the timeline: how the complaint came in."""
    if actor.role is Role.CUSTOMER:
        return f"客户通过{new.source_channel}提交投诉（{new.appeal_type}）"
    text = f"登记{new.source_channel}投诉（{new.appeal_type}）"
    if new.external_number:
        text += f"，平台编号 {new.external_number}"
    if new.severity is not Severity.GENERAL:
        text += f"，{SEVERITY_LABELS[new.severity]}投诉"
    return text


def create_wechat_ticket(
    session: Session,
    customer: Customer,
    draft,
    now: datetime,
    *,
    policy: DomainPolicy,
    receiving_department: Department | None,
    intake_key: str,
) -> Ticket:
    """The ticket for a confirmed WeChat complaint."""
    new = NewTicket(
        source_channel=WECHAT_CHANNEL,
        appeal_type=draft.appeal_type,
        customer_name=draft.name,
        phone=draft.phone,
        address=draft.address,
        content=draft.content,
        complained_at=now,
        attachments=tuple(draft.attachments),
        latitude=draft.latitude,
        longitude=draft.longitude,
        receiving_department_id=receiving_department.id if receiving_department else None,
        customer_id=customer.id,
        intake_key=intake_key,
    )
    customer_actor = Actor(role=Role.CUSTOMER, name=draft.name, channel="wechat")
    return create_ticket(session, new, customer_actor, now, policy)


def summarize(content: str) -> str:
    """诉求事项: the first line of the content, shortened."""
    first = content.strip().splitlines()[0] if content.strip() else ""
    return first if len(first) <= MATTER_CHARS else first[: MATTER_CHARS - 1] + "…"
