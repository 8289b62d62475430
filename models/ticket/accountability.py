"""Reviewing a ticket flagged for accountability (责任追究): the officer or a leader decides to
pursue it (追责) or clear it (不予追责), with a note. The review is a row of its own and a line
on the timeline; the flag stays as the record of the repeat. Nothing here commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.people.tables import Staff
from models.ticket import timeline
from models.ticket.service import actor_for_staff
from models.ticket.tables import AccountabilityReview, Ticket

DECISIONS = {"pursue": "追责", "clear": "不予追责"}
REVIEWERS = ("officer", "leader")
EVENT_KIND = "accountability_review"


class ReviewRefused(ValueError):
    """The review cannot be recorded; the message is one Chinese line."""


def review(
    session: Session,
    ticket: Ticket,
    staff: Staff,
    decision: str,
    note: str,
    now: datetime,
    channel: str = "web",
) -> AccountabilityReview:
    if staff.role not in REVIEWERS:
        raise ReviewRefused("无权操作：责任追究审查仅限投诉负责人或分管领导")
    if not ticket.accountability_flag:
        raise ReviewRefused("该工单未被标记为责任追究")
    if decision not in DECISIONS:
        raise ReviewRefused("请选择追责或不予追责")
    note = note.strip()
    if not note:
        raise ReviewRefused("请填写审查意见")
    if reviewed(session, ticket):
        raise ReviewRefused("该工单已审查")
    row = AccountabilityReview(
        ticket_id=ticket.id, staff_id=staff.id, decision=decision, note=note, created_at=now
    )
    session.add(row)
    text = f"责任追究审查：{DECISIONS[decision]}（{note}）"
    actor = actor_for_staff(staff, channel)
    timeline.record(session, ticket, EVENT_KIND, actor, text, now, from_status=ticket.status)
    return row


def reviewed(session: Session, ticket: Ticket) -> AccountabilityReview | None:
    return session.scalar(
        select(AccountabilityReview).where(AccountabilityReview.ticket_id == ticket.id)
    )
