"""Ratings in the database (五星评价): what a tap rates, storing a rating and writing what the
pure policy (`models.core.rating_policy`) says it leads to. Functions take a session and never
commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.core import rating_policy
from models.core.labels import STAR_LABELS
from models.core.payload import Payload
from models.core.rating_policy import RatingPolicy
from models.core.workflow import Actor, Role
from models.notification import outbox as notifications
from models.people import designations
from models.people.tables import Customer, Staff
from models.rating import business
from models.rating.tables import BusinessRecord, Rating, RatingCallback, RatingNotice, RatingRecord
from models.ticket import timeline
from models.ticket.tables import Ticket

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
    session: Session, customer: Customer, now: datetime, policy: RatingPolicy, zone: ZoneInfo
) -> Choice:
    """A star tap rates, in order: a second tap → the rating just given; the most recent
    resolved or archived ticket without a rating; the most recent unrated business record
    linked to the customer; the service in general."""
    previous = _recent_rating(session, customer.id, now, policy.repeat_tap_minutes)
    if previous is not None:
        again = None if policy.once_per_ticket else target_of(session, previous, zone)
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


def rate(
    session: Session,
    target: Target,
    stars: int,
    now: datetime,
    policy: RatingPolicy,
    zone: ZoneInfo,
    *,
    channel: str,
    customer_id: int | None = None,
    phone: str = "",
    comment: str = "",
    form_nonce: str | None = None,
) -> Rating:
    """Store a rating and its consequences. Raises AlreadyRated when the target (a ticket or a
    business record) is rated already and `rating.once_per_ticket` is set; IntegrityError when
    the /rate form (`form_nonce`) made a rating already."""
    if not 1 <= stars <= 5:
        raise ValueError(f"stars must be 1..5, got {stars}")
    _lock(session, target)
    previous = latest_rating(session, target)
    if previous is not None and policy.once_per_ticket:
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
        form_nonce=form_nonce,
        updated_at=now,
    )
    session.add(rating)
    session.flush()
    if target.ticket is not None:
        text = f"客户评价：{stars}星（{STAR_LABELS[stars]}）" + (
            f"，留言：{comment}" if comment else ""
        )
        timeline.customer_note(session, target.ticket, "rated", channel, text, now)
    apply_consequences(session, rating, target, now, policy, zone)
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
    session: Session,
    rating: Rating,
    target: Target,
    now: datetime,
    policy: RatingPolicy,
    zone: ZoneInfo,
) -> None:
    """Write the records, the call-back task and the notice draft the policy asks for."""
    outcome = rating_policy.consequences(rating.stars, rating.staff_id is not None, policy)
    if outcome.praise:
        _record(session, rating, "praise", now)
        payload = _payload(rating, target, "客户五星好评", rating_policy.praise_note(rating.stars))
        notifications.notify_staff(
            session, rating.staff_id, "rating_praise", target.ticket, payload, now
        )
    if outcome.callback:
        _callback(session, rating, target, now, policy.callback_staff)
    if outcome.criticism:
        _record(session, rating, "criticism", now)
    if outcome.notice:
        _notice(session, rating, target, now, zone)
    if outcome.alert_leaders:
        note = rating_policy.leader_note(rating.stars, _person(session, rating, target))
        payload = _payload(rating, target, "客户低星评价", note)
        notifications.notify(session, "leader", "rating_warning", target.ticket, payload, now)


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
    member = designations.callback_staff(session, staff_name)
    session.add(
        RatingCallback(
            rating_id=rating.id,
            staff_id=member.id if member else None,
            phone=rating.phone,
            note=rating.comment,
            created_at=now,
        )
    )
    note = rating_policy.callback_note(rating.stars, bool(rating.phone))
    payload = _payload(rating, target, "低星评价电话回访", note).but(number=task_number(rating.id))
    recipient = f"staff:{member.id}" if member else "officer"
    notifications.notify(session, recipient, "rating_alert", target.ticket, payload, now)


def _notice(
    session: Session, rating: Rating, target: Target, now: datetime, zone: ZoneInfo
) -> None:
    member = session.get(Staff, rating.staff_id)
    draft = rating_policy.criticism_draft(
        person=member.name,
        department=member.department.name if member.department else "",
        stars=rating.stars,
        channel=rating.channel,
        target_label=target.label,
        day=now.astimezone(zone).date(),
        comment=rating.comment,
    )
    session.add(
        RatingNotice(
            rating_id=rating.id,
            staff_id=member.id,
            title=draft.title,
            body=draft.body,
            created_at=now,
        )
    )
    payload = _payload(rating, target, "通报批评草稿待审核", f"{member.name} {rating.stars}星评价")
    notifications.notify(session, "officer", "rating_notice", target.ticket, payload, now)


def _person(session: Session, rating: Rating, target: Target) -> str:
    if rating.staff_id is not None:
        member = session.get(Staff, rating.staff_id)
        if member is not None:
            return member.name
    return target.record.staff_name if target.record is not None else ""


def _payload(rating: Rating, target: Target, stage: str, note: str) -> Payload:
    record = target.record
    return Payload(
        ticket_id=target.ticket.id if target.ticket is not None else None,
        rating_id=rating.id,
        number=target.reference or f"PJ{rating.id}",
        stars=rating.stars,
        stage=stage,
        note=note,
        target=target.kind,
        handler=record.staff_name if record is not None else "",  # the business's person
    )


def add_comment(
    session: Session, rating_id: int, text: str, now: datetime, *, phone: str = ""
) -> Rating | None:
    """Attach the customer's comment to a rating (and to what its consequences say); a phone
    number left in it is kept for the call-back when the rating had none."""
    rating = session.get(Rating, rating_id)
    if rating is None:
        return None
    rating.comment, rating.commented_at, rating.updated_at = text, now, now
    if phone and not rating.phone:
        rating.phone = phone
    if rating.ticket_id is not None:
        ticket = session.get(Ticket, rating.ticket_id)
        timeline.customer_note(
            session, ticket, "rated", rating.channel, f"客户评价留言：{text}", now
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


# --- the call-back tasks of low ratings (评价回访) ---------------------------------------------

TASK_PREFIX = "PJ"


class TaskRefused(Exception):
    """A refused 回访 PJ…; ``reason`` is Chinese, ready for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def task_number(rating_id: int) -> str:
    """The number staff type for a rating's call-back task: PJ12."""
    return f"{TASK_PREFIX}{rating_id}"


def open_tasks(
    session: Session, staff: Staff, limit: int
) -> tuple[list[tuple[RatingCallback, Rating]], int]:
    """A staff member's open call-back tasks (the officers also get those nobody was named
    for), oldest first, and how many there are in all."""
    mine = RatingCallback.staff_id == staff.id
    if staff.role == "officer":
        mine = mine | RatingCallback.staff_id.is_(None)
    where = (RatingCallback.status == "open") & mine
    statement = (
        select(RatingCallback, Rating)
        .join(Rating, Rating.id == RatingCallback.rating_id)
        .where(where)
        .order_by(RatingCallback.created_at, RatingCallback.id)
        .limit(limit)
    )
    rows = [(task, rating) for task, rating in session.execute(statement).all()]
    total = session.scalar(select(func.count(RatingCallback.id)).where(where)) or 0
    return rows, total


def record_task(
    session: Session, number: str, staff: Staff, satisfied: bool, note: str, now: datetime
) -> tuple[RatingCallback, Rating]:
    """回访 PJ…: the outcome of a rating's phone call-back, by the staff member it is for
    (or an officer). Raises TaskRefused."""
    digits = number.upper().removeprefix(TASK_PREFIX)
    rating = session.get(Rating, int(digits)) if digits.isdigit() else None
    task = None
    if rating is not None:
        statement = select(RatingCallback).where(RatingCallback.rating_id == rating.id)
        task = session.scalar(statement.with_for_update())
    if task is None:
        raise TaskRefused(f"未找到评价回访任务 {number}，请核对编号（见「待办」）")
    if task.staff_id not in (None, staff.id) and staff.role != "officer":
        raise TaskRefused(f"无权操作：评价回访任务 {number} 不是派给您的")
    if task.status == "done":
        raise TaskRefused(f"评价回访任务 {number} 已记录过结果")
    outcome = "satisfied" if satisfied else "unsatisfied"
    task.status, task.outcome, task.done_at = "done", outcome, now
    if note:
        task.note = f"{task.note}\n回访：{note}".strip()
    if rating.ticket_id is not None:
        word = "满意" if satisfied else "不满意"
        text = f"评价电话回访（{staff.name}）：客户{word}" + (f"，{note}" if note else "")
        ticket = session.get(Ticket, rating.ticket_id)
        actor = Actor(Role(staff.role), staff.id, staff.department_id, staff.name, "phone")
        timeline.record(
            session, ticket, "rating_callback", actor, text, now, from_status=ticket.status
        )
    return task, rating
