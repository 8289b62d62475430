"""Recording a low rating's phone call-back (评价回访): reached or not, and what was said.

The designated call-back person records their own tasks; an officer any task. A task about a
ticket also gets a line on the ticket's timeline. Nothing here commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from models.core.labels import STAR_LABELS
from models.people.tables import Staff
from models.rating.tables import Rating, RatingCallback
from models.ticket import timeline
from models.ticket.service import actor_for_staff
from models.ticket.tables import Ticket

RESULT_MAX = 1000
EVENT_KIND = "rating_callback"


class CallbackRefused(ValueError):
    """The outcome cannot be recorded; the message is one Chinese line."""


def record_outcome(
    session: Session,
    task_id: int,
    staff: Staff,
    reached: bool,
    result: str,
    now: datetime,
    channel: str = "web",
) -> RatingCallback:
    task = session.get(RatingCallback, task_id, with_for_update=True)
    if task is None:
        raise CallbackRefused("没有这项回访任务")
    if staff.role != "officer" and task.staff_id != staff.id:
        raise CallbackRefused("无权操作：这项回访不是指派给您的")
    if task.status != "open":
        raise CallbackRefused("这项回访已记录")
    result = result.strip()
    if not result or len(result) > RESULT_MAX:
        raise CallbackRefused(f"请填写回访情况（{RESULT_MAX}字以内）")
    task.status, task.done_at, task.done_by_id = "done", now, staff.id
    task.reached, task.result = reached, result
    rating = session.get(Rating, task.rating_id)
    if rating.ticket_id is not None:
        ticket = session.get(Ticket, rating.ticket_id)
        text = (
            f"低星评价电话回访（{rating.stars}星 {STAR_LABELS[rating.stars]}）："
            f"{'已接通' if reached else '未接通'}，{result}"
        )
        actor = actor_for_staff(staff, channel)
        timeline.record(session, ticket, EVENT_KIND, actor, text, now, from_status=ticket.status)
    return task
