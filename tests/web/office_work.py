"""Shared steps of the office-page tests: one of everything the queues, notices, staff,
message and calendar pages show, put in place through the same functions the product uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from bot.db import transaction
from bot.policies import notice_config
from models.audit.log import Who
from models.notification.tables import Notification
from models.people.tables import Staff
from models.rating import notices
from models.rating.tables import RatingCallback, RatingNotice, RatingRecord
from tests.factories import make_ticket, rate_ticket


@dataclass(frozen=True)
class Office:
    """Numbers and ids of what `fill_office` made."""

    phone_callback: str  # a resolved hotline ticket waiting for the officer's call
    money: str  # a money request waiting for a leader
    signoff: str  # a third reopened round waiting for the leader's signoff
    extension: str  # an explanation waiting for 延期
    unassigned: str  # a new ticket received by 综合管理部
    flagged: str  # flagged for accountability (责任追究)
    draft_notice: int
    published_notice: int
    praise_record: int
    rating_task: int
    failed_message: int
    handler_id: int  # 王芳


def fill_office(site) -> Office:
    tickets = dict(
        phone_callback=make_ticket(
            site, status="resolved", source_channel="24小时客服热线", result="已更换阀门"
        ),
        money=make_ticket(
            site,
            status="processing",
            money_status="pending",
            money_kind="退款",
            money_amount=Decimal("120"),
        ),
        signoff=make_ticket(site, rounds=3, escalation_level=3),
        extension=make_ticket(site, status="processing", explanation_pending=True),
        unassigned=make_ticket(site, status="received", handler=None, department=None),
        flagged=make_ticket(site, accountability_flag=True, repeat_flag=True),
    )
    for stars in (1, 2, 5):
        rate_ticket(site, make_ticket(site, status="archived"), stars, comment="态度差")
    with transaction(site.sessions) as session:
        drafts = session.scalars(select(RatingNotice).order_by(RatingNotice.id)).all()
        officer = session.scalar(select(Staff).where(Staff.name == "周敏"))
        notices.publish(
            session,
            drafts[1],
            Who.staff(officer, "10.0.0.9"),
            datetime.now(UTC),
            notice_config(site.settings),
        )
        praise = session.scalar(select(RatingRecord.id).where(RatingRecord.kind == "praise"))
        failed = session.scalars(select(Notification).order_by(Notification.id)).first()
        failed.status, failed.last_error_code, failed.last_error = "failed", 43004, "不是关注者"
        return Office(
            **tickets,
            draft_notice=drafts[0].id,
            published_notice=drafts[1].id,
            praise_record=praise,
            rating_task=session.scalars(select(RatingCallback.id)).first(),
            failed_message=failed.id,
            handler_id=session.scalar(select(Staff.id).where(Staff.name == "王芳")),
        )
