"""Posts held by one named person (指定专人), set in the back office instead of a deploy.

- `callback_staff`: who calls back low ratings (设置专人电话回访). Default: config.toml's
  rating.callback_staff, by name; else the officers.
- `officer`: the officer on duty (值班投诉负责人), who receives the pushes addressed to "the
  officer". Default: every active officer. Must hold the officer role.

Nothing here commits; every change is audited.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.audit import log as audit
from models.audit.log import Who
from models.core.labels import POST_LABELS
from models.people.staff import StaffError
from models.people.tables import Designation, Staff

POSTS = POST_LABELS
POST_ROLES = {
    "callback_staff": ("officer", "handler", "dept_head", "clerk"),
    "officer": ("officer",),
}


def designated(session: Session, post: str) -> Staff | None:
    """The active member holding `post`, if one is set."""
    return session.scalar(
        select(Staff)
        .join(Designation, Designation.staff_id == Staff.id)
        .where(Designation.post == post, Staff.active.is_(True))
    )


def callback_staff(session: Session, default_name: str) -> Staff | None:
    """The low-rating call-back person: the designation, else the configured name."""
    member = designated(session, "callback_staff")
    if member is not None:
        return member
    return session.scalar(
        select(Staff).where(Staff.name == default_name.strip(), Staff.active.is_(True))
    )


def designate(session: Session, post: str, staff: Staff, who: Who, now: datetime) -> None:
    if post not in POSTS:
        raise StaffError(f"未知的指定事项：{post}")
    if not staff.active:
        raise StaffError(f"员工 {staff.name} 已停用")
    if staff.role not in POST_ROLES[post]:
        raise StaffError(
            f"{POSTS[post]}须为投诉负责人角色" if post == "officer" else "该角色不能担任回访专人"
        )
    row = session.get(Designation, post)
    if row is None:
        row = Designation(post=post)
        session.add(row)
    row.staff_id, row.set_by, row.set_at = staff.id, who.name, now
    session.flush()
    audit.record(
        session,
        who,
        "designation",
        now,
        target=f"post:{post}",
        detail=f"{POSTS[post]}：{staff.name}",
    )


def clear(session: Session, post: str, who: Who, now: datetime) -> None:
    row = session.get(Designation, post)
    if row is None:
        return
    session.delete(row)
    session.flush()
    audit.record(
        session, who, "designation", now, target=f"post:{post}", detail=f"{POSTS[post]}：恢复默认"
    )


def current(session: Session) -> dict[str, Staff | None]:
    """Each post and who holds it (None: the default applies)."""
    return {post: designated(session, post) for post in POSTS}
