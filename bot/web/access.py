"""Who is signed in and what their role lets them reach (角色与部门).

The signed-in person is a ``WebUser`` read from the database on every request, so that a
deactivated account or a changed password takes effect at once: the session carries the
staff id and a fingerprint of the password hash, and a new password ends every other session.
Which tickets a person sees and which moves they may make are the workflow's rules
(``can_view``, ``allowed_moves``); this module adds the pages' own role checks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask_login import UserMixin, current_user

from bot.web.context import PageError, db, runtime
from models.core.labels import ROLE_LABELS, STAFF_ROLES
from models.core.phones import mask_phone
from models.core.workflow import Actor, Role
from models.people.tables import Staff

# Who registers complaints from the other channels (登记): the clerks, the officer, and any
# department's staff, who take walk-ins and calls too (the policy's 工作要求 4).
INTAKE_ROLES = frozenset({"clerk", "officer", "dept_head", "handler"})


@dataclass
class WebUser(UserMixin):
    staff_id: int
    name: str
    role: str
    department_id: int | None
    department_name: str
    fingerprint: str

    def get_id(self) -> str:
        return f"{self.staff_id}:{self.fingerprint}"

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def may_register(self) -> bool:
        return self.role in INTAKE_ROLES

    def actor(self) -> Actor:
        """The workflow's actor for this person, on the back office's channel."""
        return Actor(
            role=Role(self.role),
            staff_id=self.staff_id,
            department_id=self.department_id,
            name=self.name,
            channel="web",
        )


def fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def web_user(staff: Staff) -> WebUser:
    return WebUser(
        staff_id=staff.id,
        name=staff.name,
        role=staff.role,
        department_id=staff.department_id,
        department_name=staff.department.name if staff.department else "",
        fingerprint=fingerprint(staff.password_hash),
    )


def load_user(user_id: str) -> WebUser | None:
    """Flask-Login's loader: the staff member, if still active and with the same password."""
    staff_id, _, mark = user_id.partition(":")
    if not staff_id.isdigit():
        return None
    staff = db().get(Staff, int(staff_id))
    if staff is None or not staff.active or staff.role not in STAFF_ROLES:
        return None
    if not staff.password_hash or fingerprint(staff.password_hash) != mark:
        return None
    return web_user(staff)


def user() -> WebUser:
    return current_user._get_current_object()


def roles_required(roles: frozenset[str], what: str) -> Callable:
    """A view only these roles may open; anyone else gets a 403 page naming who may."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            if user().role not in roles:
                allowed = "、".join(ROLE_LABELS[r] for r in STAFF_ROLES if r in roles)
                raise PageError(403, "无权访问", f"无权操作：{what}仅限{allowed}。")
            return view(*args, **kwargs)

        return guarded

    return decorate


def sees_full_phone() -> bool:
    return user().role in runtime().settings.web.full_phone_roles


def shown_phone(phone: str) -> str:
    """The customer's phone as this person may see it: in full, or 138****5678."""
    if not phone:
        return "—"
    return phone if sees_full_phone() else mask_phone(phone)
