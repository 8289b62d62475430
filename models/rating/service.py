"""Rating commands and queries, as functions taking a session. They never commit.

`rate` stores one rating and its policy consequences (第四条 工作要求 5), with thresholds from
`[rating]` in config.toml: praise for the responsible person at `praise_at` stars and above;
at `callback_at_or_below` and below a phone call-back task for `callback_staff` (notified as
"rating_alert") and a criticism record; at `notice_at_or_below` and below also a draft
company-wide notice (通报批评) for the officer. A rating without a responsible person (the
service in general, a ticket nobody handled) gets the call-back only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.settings import Settings
from models.notification import outbox as notifications
from models.people.tables import Customer, Staff
from models.rating import business
from models.rating.tables import (
    CHANNEL_LABELS,
    STAR_LABELS,
    BusinessRecord,
    Rating,
    RatingCallback,
    RatingNotice,
    RatingRecord,
)
from models.ticket.tables import Ticket, TicketEvent

RATABLE_STATUSES = ("resolved", "archived")
GENERAL_LABEL = "我们的整体服务"


@dataclass(frozen=True)
class Target:
    """What a rating is about, with the person responsible and a phone for the call-back."""

    kind: str  # ticket | business | general
    label: str  # Chinese, e.g. 投诉 TS202611280001（维修）
    ticket: Ticket | None = None
    record: BusinessRecord | None = None
    staff_id: int | None = None
    phone: str = ""
    reference: str = ""  # ticket number or order number, for notifications


class AlreadyRated(Exception):
    """The target has a rating and may be rated only once."""

    def __init__(self, rating: Rating) -> None:
        super().__init__(f"already rated ({rating.stars} stars)")
        self.rating = rating


@dataclass(frozen=True)
class Choice:
    """What a star tap rates: `target`, or — a second tap — the rating just given."""

    target: Target | None
    previous: Rating | None = None


def ticket_target(ticket: Ticket) -> Target:
    return Target(
        kind="ticket",
        label=f"投诉 {ticket.number}（{ticket.appeal_type}）",
        ticket=ticket,
        staff_id=ticket.handler_id,
        phone=ticket.phone,
        reference=ticket.number,
    )


def business_target(record: BusinessRecord, zone: ZoneInfo, phone: str = "") -> Target:
    return Target(
        kind="business",
        label=business.describe(record, zone),
        record=record,
        staff_id=record.staff_id,
        phone=record.phone or phone,
        reference=record.order_no,
    )


def general_target(phone: str = "") -> Target:
    return Target(kind="general", label=GENERAL_LABEL, phone=phone)


def target_of(session: Session, rating: Rating, zone: ZoneInfo) -> Target:
    """The target a stored rating is about."""
    if rating.ticket_id is not None:
        return ticket_target(session.get(Ticket, rating.ticket_id))
    if rating.business_record_id is not None:
        return business_target(rating.business_record, zone, rating.phone)
    return general_target(rating.phone)


def choose_for_customer(
    session: Session, customer: Customer, now: datetime, settings: Settings
) -> Choice:
    """A star tap rates, in order: a second tap → the rating just given; the most recent
    resolved or archived ticket without a rating; the most recent unrated business record
    linked to the customer; the service in general."""
    zone = ZoneInfo(settings.app.timezone)
    previous = _recent_rating(session, customer.id, now, settings.rating.repeat_tap_minutes)
    if previous is not None:
        again = None if settings.rating.once_per_ticket else target_of(session, previous, zone)
        return Choice(again, previous)
    ticket = _unrated_ticket(session, customer.id)
    if ticket is not None:
        return Choice(ticket_target(ticket))
    record = business.latest_unrated_for_customer(session, customer)
    if record is not None:
        return Choice(business_target(record, zone, customer.phone))
    return Choice(general_target(customer.phone))


def _recent_rating(
    session: Session, customer_id: int, now: datetime, minutes: int
) -> Rating | None:
    if minutes <= 0:
        return None
    statement = (
        select(Rating)
        .where(
            Rating.customer_id == customer_id, Rating.created_at >= now - timedelta(minutes=minutes)
        )
        .order_by(Rating.created_at.desc(), Rating.id.desc())
        .limit(1)
    )
    return session.scalar(statement)


def _unrated_ticket(session: Session, customer_id: int) -> Ticket | None:
    rated = select(Rating.ticket_id).where(Rating.ticket_id.is_not(None))
    statement = (
        select(Ticket)
        .where(
            Ticket.customer_id == customer_id,
            Ticket.status.in_(RATABLE_STATUSES),
            Ticket.id.not_in(rated),
        )
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
        .limit(1)
    )
    return session.scalar(statement)


def latest_rating(session: Session, target: Target) -> Rating | None:
    """The most recent rating of a ticket or business record (None for the general service)."""
    if target.ticket is not None:
        condition = Rating.ticket_id == target.ticket.id
    elif target.record is not None:
        condition = Rating.business_record_id == target.record.id
    else:
        return None
    statement = select(Rating).where(condition).order_by(Rating.id.desc()).limit(1)
    return session.scalar(statement)


def ticket_by_phone_tail(session: Session, number: str, tail: str) -> Ticket | None:
    """The ticket with this number whose phone ends with these four digits."""
    from models.ticket.intake import find_by_number

    ticket = find_by_number(session, number)
    if ticket is None or len(tail) != 4 or not tail.isdigit():
        return None
    digits = "".join(char for char in ticket.phone if char.isdigit())
    return ticket if len(digits) >= 4 and digits.endswith(tail) else None


def rate(
    session: Session,
    target: Target,
    stars: int,
    now: datetime,
    settings: Settings,
    *,
    channel: str,
    customer_id: int | None = None,
    phone: str = "",
    comment: str = "",
) -> Rating:
    """Store a rating and its consequences. Raises AlreadyRated when the target (a ticket or a
    business record) is rated already and `rating.once_per_ticket` is set."""
    if not 1 <= stars <= 5:
        raise ValueError(f"stars must be 1..5, got {stars}")
    _lock(session, target)
    previous = latest_rating(session, target)
    if previous is not None and settings.rating.once_per_ticket:
        raise AlreadyRated(previous)
    rating = Rating(
        target=target.kind,
        ticket_id=target.ticket.id if target.ticket else None,
        business_record_id=target.record.id if target.record else None,
        customer_id=customer_id,
        staff_id=target.staff_id,
        stars=stars,
        comment=comment,
        commented_at=now if comment else None,
        channel=channel,
        phone=phone or target.phone,
        created_at=now,
    )
    session.add(rating)
    session.flush()
    if target.ticket is not None:
        _timeline(
            session,
            target.ticket,
            channel,
            f"客户评价：{stars}星（{STAR_LABELS[stars]}）"
            + (f"，留言：{comment}" if comment else ""),
            now,
        )
    apply_consequences(session, rating, target, now, settings)
    return rating


def _lock(session: Session, target: Target) -> None:
    """Serialise ratings of one ticket or business record (PostgreSQL row lock)."""
    if target.ticket is not None:
        session.execute(select(Ticket.id).where(Ticket.id == target.ticket.id).with_for_update())
    elif target.record is not None:
        session.execute(
            select(BusinessRecord.id).where(BusinessRecord.id == target.record.id).with_for_update()
        )


def apply_consequences(
    session: Session, rating: Rating, target: Target, now: datetime, settings: Settings
) -> None:
    config = settings.rating
    if rating.staff_id is not None and rating.stars >= config.praise_at:
        _record(session, rating, "praise", now)
        notifications.notify_staff(
            session,
            rating.staff_id,
            "rating_praise",
            target.ticket,
            _payload(rating, target, "客户五星好评", f"{rating.stars}星好评，特此表扬"),
            now,
        )
    if rating.stars <= config.callback_at_or_below:
        _callback(session, rating, target, now, config.callback_staff)
        if rating.staff_id is not None:
            _record(session, rating, "criticism", now)
    if rating.stars <= config.notice_at_or_below and rating.staff_id is not None:
        _notice(session, rating, target, now, ZoneInfo(settings.app.timezone))


def _record(session: Session, rating: Rating, kind: str, now: datetime) -> None:
    session.add(
        RatingRecord(
            rating_id=rating.id,
            staff_id=rating.staff_id,
            kind=kind,
            stars=rating.stars,
            created_at=now,
        )
    )


def _callback(
    session: Session, rating: Rating, target: Target, now: datetime, staff_name: str
) -> None:
    member = session.scalar(
        select(Staff).where(Staff.name == staff_name.strip(), Staff.active.is_(True))
    )
    session.add(
        RatingCallback(
            rating_id=rating.id,
            staff_id=member.id if member else None,
            phone=rating.phone,
            note=rating.comment,
            created_at=now,
        )
    )
    reach = "请电话回访" if rating.phone else "客户未留电话"
    payload = _payload(
        rating,
        target,
        "低星评价电话回访",
        f"{rating.stars}星（{STAR_LABELS[rating.stars]}），{reach}",
    )
    recipient = f"staff:{member.id}" if member else "officer"
    notifications.notify(session, recipient, "rating_alert", target.ticket, payload, now)


def _notice(
    session: Session, rating: Rating, target: Target, now: datetime, zone: ZoneInfo
) -> None:
    member = session.get(Staff, rating.staff_id)
    department = member.department.name if member.department else ""
    day = now.astimezone(zone)
    title = f"关于{member.name}获客户{rating.stars}星评价的通报批评（草稿）"
    body = (
        f"{day:%Y年%m月%d日}，客户通过{CHANNEL_LABELS.get(rating.channel, rating.channel)}"
        f"对{target.label}给予{rating.stars}星（{STAR_LABELS[rating.stars]}）评价。"
        f"具体业务具办人：{department}{member.name}。依据公司《投诉处理和服务满意度闭环管理"
        "制度》第四条第5项，对其予以全公司通报批评，绩效与年终考评挂钩。"
    )
    if rating.comment:
        body += f"\n客户留言：{rating.comment}"
    session.add(
        RatingNotice(
            rating_id=rating.id, staff_id=member.id, title=title, body=body, created_at=now
        )
    )
    payload = _payload(rating, target, "通报批评草稿待审核", f"{member.name} {rating.stars}星评价")
    notifications.notify(session, "officer", "rating_notice", target.ticket, payload, now)


def _payload(rating: Rating, target: Target, stage: str, note: str) -> dict:
    payload = {
        "rating_id": rating.id,
        "number": target.reference or f"PJ{rating.id}",
        "stars": rating.stars,
        "stage": stage,
        "note": note,
        "target": target.kind,
    }
    if target.ticket is not None:
        payload["ticket_id"] = target.ticket.id
    if target.record is not None and target.record.staff_name:
        payload["handler"] = target.record.staff_name  # the business's responsible person
    return payload


def add_comment(
    session: Session, rating_id: int, text: str, now: datetime, *, phone: str = ""
) -> Rating | None:
    """Attach the customer's comment to a rating (and to what its consequences say); a phone
    number left in it is kept for the call-back when the rating had none."""
    rating = session.get(Rating, rating_id)
    if rating is None:
        return None
    rating.comment, rating.commented_at = text, now
    if phone and not rating.phone:
        rating.phone = phone
    if rating.ticket_id is not None:
        _timeline(
            session,
            session.get(Ticket, rating.ticket_id),
            rating.channel,
            f"客户评价留言：{text}",
            now,
        )
    task = session.scalar(select(RatingCallback).where(RatingCallback.rating_id == rating.id))
    if task is not None:
        task.note, task.phone = text, task.phone or rating.phone
    notice = session.scalar(
        select(RatingNotice).where(
            RatingNotice.rating_id == rating.id, RatingNotice.status == "draft"
        )
    )
    if notice is not None:
        notice.body += f"\n客户留言：{text}"
    return rating


def _timeline(session: Session, ticket: Ticket, channel: str, text: str, now: datetime) -> None:
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            kind="rated",
            actor_role="customer",
            actor_name=ticket.customer_name or "客户",
            channel=channel,
            text=text,
            from_status=ticket.status,
            to_status=ticket.status,
            created_at=now,
        )
    )


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
