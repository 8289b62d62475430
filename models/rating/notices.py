"""Company-wide notices (通报): the officer reads, edits, publishes or withdraws them.

A ≤2★ rating drafts a 通报批评 (`models.rating.service`); a 5★ praise record (表扬) can be
drafted as a 通报表扬 here. Publishing gives the notice the next number of the year's series
(config.toml notices.number_format) and the day's date, drops the （草稿） mark from its title,
and pushes a template message linking to `/notices/<id>` to the person concerned and to the
configured roles (the leaders). A notice can be withdrawn (撤回): a draft is discarded, a
published one keeps its number and date and says it was withdrawn; nothing is deleted. Each
step is audited. The notice row names the person: counted per person by `per_person`.
Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from models.audit import log as audit
from models.audit.log import Who
from models.core import rating_policy
from models.core.labels import NOTICE_KIND_LABELS
from models.core.payload import Payload
from models.notification import outbox as notifications
from models.people.tables import Staff
from models.rating.tables import Rating, RatingNotice, RatingRecord
from models.ticket.tables import Ticket

TITLE_MAX = 100
BODY_MAX = 5000
NUMBER_ATTEMPTS = 3


class NoticeRefused(ValueError):
    """A refused notice step; the message is one Chinese line."""


@dataclass(frozen=True)
class NoticeConfig:
    """config.toml [notices]."""

    number_format: str = "综管通〔{year}〕{seq}号"
    recipients: tuple[str, ...] = ("leader",)
    timezone: str = "Asia/Shanghai"


def get(session: Session, notice_id: int) -> RatingNotice | None:
    return session.get(RatingNotice, notice_id)


def listing(
    session: Session, status: str | None = None, kind: str | None = None, limit: int = 100
) -> list[RatingNotice]:
    """Drafts oldest first (the work to do), else the newest first."""
    statement = select(RatingNotice).options(selectinload(RatingNotice.staff)).limit(limit)
    if status:
        statement = statement.where(RatingNotice.status == status)
    if kind:
        statement = statement.where(RatingNotice.kind == kind)
    order = RatingNotice.id.asc() if status == "draft" else RatingNotice.id.desc()
    return list(session.scalars(statement.order_by(order)))


def edit(
    session: Session, notice: RatingNotice, title: str, body: str, who: Who, now: datetime
) -> None:
    """Change a draft's title and text."""
    _must_be_draft(notice)
    title, body = title.strip(), body.strip()
    if not title or len(title) > TITLE_MAX:
        raise NoticeRefused(f"标题须为 1 到 {TITLE_MAX} 个字")
    if not body or len(body) > BODY_MAX:
        raise NoticeRefused(f"正文须为 1 到 {BODY_MAX} 个字")
    notice.title, notice.body, notice.updated_at = title, body, now
    audit.record(session, who, "notice_edit", now, target=_target(notice), detail=title)


def _must_be_draft(notice: RatingNotice) -> None:
    if notice.status != "draft":
        raise NoticeRefused("只有草稿可以修改或发布")


def _target(notice: RatingNotice) -> str:
    return f"notice:{notice.id}"


def praise_candidates(session: Session, limit: int = 50) -> list[RatingRecord]:
    """Praise records (表扬) not yet drafted as a notice, newest first."""
    drafted = select(RatingNotice.rating_id)
    statement = (
        select(RatingRecord)
        .where(RatingRecord.kind == "praise", RatingRecord.rating_id.not_in(drafted))
        .order_by(RatingRecord.id.desc())
        .limit(limit)
    )
    return list(session.scalars(statement))


def draft_praise(
    session: Session, record: RatingRecord, who: Who, now: datetime, zone: ZoneInfo
) -> RatingNotice:
    """A 通报表扬 draft from a praise record; refused when that rating has a notice."""
    from models.rating.service import target_of

    if record.kind != "praise":
        raise NoticeRefused("只有表扬记录可以起草通报表扬")
    if session.scalar(select(RatingNotice.id).where(RatingNotice.rating_id == record.rating_id)):
        raise NoticeRefused("该评价已有通报")
    rating = session.get(Rating, record.rating_id)
    member = session.get(Staff, record.staff_id)
    draft = rating_policy.praise_draft(
        person=member.name,
        department=member.department.name if member.department else "",
        stars=rating.stars,
        channel=rating.channel,
        target_label=target_of(session, rating, zone).label,
        day=rating.created_at.astimezone(zone).date(),
    )
    notice = RatingNotice(
        rating_id=rating.id,
        staff_id=member.id,
        kind="praise",
        title=draft.title,
        body=draft.body,
        created_at=now,
    )
    session.add(notice)
    session.flush()
    audit.record(session, who, "notice_draft", now, target=_target(notice), detail=notice.title)
    return notice


def publish(
    session: Session, notice: RatingNotice, who: Who, now: datetime, config: NoticeConfig
) -> RatingNotice:
    """Number, date and publish a draft, and push it to the person and the leaders."""
    _must_be_draft(notice)
    day = now.astimezone(ZoneInfo(config.timezone)).date()
    _number(session, notice, day.year, config)
    notice.status, notice.published_at, notice.published_on = "published", now, day
    notice.published_by_id, notice.updated_at = who.staff_id, now
    notice.title = rating_policy.published_title(notice.title)
    session.flush()
    audit.record(
        session,
        who,
        "notice_publish",
        now,
        target=_target(notice),
        detail=f"{notice.number} {notice.title}",
    )
    _push(session, notice, NOTICE_KIND_LABELS[notice.kind], now, config)
    return notice


def _number(session: Session, notice: RatingNotice, year: int, config: NoticeConfig) -> None:
    """The next number of the year; a number taken meanwhile by another officer is retried."""
    for _ in range(NUMBER_ATTEMPTS):
        seq = (
            session.scalar(
                select(func.max(RatingNotice.number_seq)).where(RatingNotice.number_year == year)
            )
            or 0
        ) + 1
        try:
            with session.begin_nested():
                notice.number_year, notice.number_seq = year, seq
                notice.number = rating_policy.notice_number(config.number_format, year, seq)
                session.flush()
            return
        except IntegrityError:
            session.refresh(notice)
    raise NoticeRefused("通报编号冲突，请重试")


def withdraw(
    session: Session,
    notice: RatingNotice,
    reason: str,
    who: Who,
    now: datetime,
    config: NoticeConfig,
) -> None:
    """撤回: a draft is discarded; a published notice is marked withdrawn (its number stays)
    and those who received it are told."""
    if notice.status == "withdrawn":
        raise NoticeRefused("该通报已撤回")
    reason = reason.strip()
    if notice.status == "published" and not reason:
        raise NoticeRefused("撤回已发布的通报须说明原因")
    was_published = notice.status == "published"
    notice.status, notice.withdrawn_at, notice.withdrawn_by_id = "withdrawn", now, who.staff_id
    notice.withdraw_reason, notice.updated_at = reason, now
    detail = f"{notice.number or '草稿'} {notice.title}" + (f"（原因：{reason}）" if reason else "")
    audit.record(session, who, "notice_withdraw", now, target=_target(notice), detail=detail)
    if was_published:
        _push(session, notice, f"{NOTICE_KIND_LABELS[notice.kind]}撤回", now, config)


def _push(
    session: Session, notice: RatingNotice, stage: str, now: datetime, config: NoticeConfig
) -> None:
    rating = session.get(Rating, notice.rating_id)
    ticket = session.get(Ticket, rating.ticket_id) if rating.ticket_id else None
    payload = Payload(
        ticket_id=ticket.id if ticket else None,
        rating_id=rating.id,
        number=notice.number or "",
        stage=stage,
        note=notice.title,
        handler=notice.staff.name,
        link=f"/notices/{notice.id}",
    )
    recipients = {notice.staff_id}
    for role in config.recipients:
        recipients.update(notifications.recipient_staff_ids(session, role, ticket))
    for staff_id in sorted(recipients):
        notifications.notify_staff(session, staff_id, "notice_published", ticket, payload, now)


def per_person(session: Session, start: datetime, end: datetime) -> dict[int, dict[str, int]]:
    """Published notices per person in [start, end): {staff_id: {"criticism": n, "praise": n}}
    (a notice withdrawn afterwards is not counted)."""
    statement = (
        select(RatingNotice.staff_id, RatingNotice.kind, func.count())
        .where(
            RatingNotice.status == "published",
            RatingNotice.published_at >= start,
            RatingNotice.published_at < end,
        )
        .group_by(RatingNotice.staff_id, RatingNotice.kind)
    )
    counts: dict[int, dict[str, int]] = {}
    for staff_id, kind, count in session.execute(statement):
        counts.setdefault(staff_id, {"criticism": 0, "praise": 0})[kind] = count
    return counts
