"""Staff accounts and their WeChat binding (绑定), as functions taking a session and `now`.

The back office issues a one-time six-digit code (绑定码); only its sha256 is stored. The
staff member sends `绑定 <code>` from their own WeChat, which ties their openid to the account:
one openid per staff member and one staff member per openid. Nothing here commits.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.core.labels import STAFF_ROLES
from models.people.tables import BindingCode, Department, Staff

CODE_DIGITS = 6
CODE_VALID_MINUTES = 10


class StaffError(ValueError):
    """A refused staff-account change; the message is one Chinese line for the operator."""


class BindingRefused(Exception):
    """A refused `绑定`; `reason` is one of unknown, used, expired, inactive, openid_taken."""

    def __init__(self, reason: str, holder: Staff | None = None):
        super().__init__(reason)
        self.reason = reason
        self.holder = holder  # for openid_taken: the staff member already on this openid


@dataclass(frozen=True)
class IssuedCode:
    code: str
    expires_at: datetime


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def staff_by_name(session: Session, name: str) -> Staff | None:
    return session.scalar(select(Staff).where(Staff.name == name.strip()))


def all_staff(session: Session) -> list[Staff]:
    return list(session.scalars(select(Staff).order_by(Staff.id)))


def add_staff(
    session: Session, name: str, department_name: str, role: str, now: datetime, phone: str = ""
) -> Staff:
    """A new staff member (员工) of an existing department; raises StaffError."""
    name, phone = name.strip(), phone.strip()
    if not name:
        raise StaffError("姓名不能为空")
    if role not in STAFF_ROLES:
        raise StaffError(f"未知角色：{role}（可选：{'、'.join(STAFF_ROLES)}）")
    department = session.scalar(select(Department).where(Department.name == department_name))
    if department is None:
        raise StaffError(f"未知部门：{department_name}")
    if staff_by_name(session, name) is not None:
        raise StaffError(f"员工 {name} 已存在")
    staff = Staff(name=name, role=role, department_id=department.id, phone=phone, created_at=now)
    session.add(staff)
    session.flush()
    return staff


def issue_code(session: Session, staff: Staff, now: datetime) -> IssuedCode:
    """A fresh one-time code for `staff`, valid CODE_VALID_MINUTES; earlier unused ones die."""
    if not staff.active:
        raise StaffError(f"员工 {staff.name} 已停用，不能发放绑定码")
    session.execute(
        update(BindingCode)
        .where(
            BindingCode.staff_id == staff.id,
            BindingCode.used_at.is_(None),
            BindingCode.expires_at > now,
        )
        .values(expires_at=now)
    )
    code = _unique_live_code(session, now)
    expires_at = now + timedelta(minutes=CODE_VALID_MINUTES)
    session.add(
        BindingCode(
            staff_id=staff.id, code_hash=hash_code(code), expires_at=expires_at, created_at=now
        )
    )
    session.flush()
    return IssuedCode(code=code, expires_at=expires_at)


def _unique_live_code(session: Session, now: datetime) -> str:
    """A random code that no other live code shares, so that a code names one person."""
    while True:
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        clash = session.scalar(
            select(BindingCode.id).where(
                BindingCode.code_hash == hash_code(code),
                BindingCode.used_at.is_(None),
                BindingCode.expires_at > now,
            )
        )
        if clash is None:
            return code


def bind(session: Session, code: str, openid: str, now: datetime) -> Staff:
    """Tie `openid` to the staff member the code was issued for; raises BindingRefused."""
    return bind_moving(session, code, openid, now)[0]


def bind_moving(
    session: Session, code: str, openid: str, now: datetime
) -> tuple[Staff, str | None]:
    """`bind`, and the WeChat the account moved away from (None: it was not bound elsewhere),
    so that its owner can be told."""
    binding_code = _live_code(session, code, now)
    staff = session.get(Staff, binding_code.staff_id)
    if staff is None or not staff.active:
        raise BindingRefused("inactive")
    holder = session.scalar(select(Staff).where(Staff.openid == openid))
    if holder is not None and holder.id != staff.id:
        if holder.active:
            raise BindingRefused("openid_taken", holder)
        holder.openid, holder.bound_at = None, None  # a deactivated account lets go
        session.flush()
    previous = staff.openid if staff.openid != openid else None
    staff.openid, staff.bound_at = openid, now
    binding_code.used_at = now
    session.flush()
    return staff, previous


def _live_code(session: Session, code: str, now: datetime) -> BindingCode:
    rows = list(
        session.scalars(
            select(BindingCode)
            .where(BindingCode.code_hash == hash_code(code))
            .order_by(BindingCode.id.desc())
        )
    )
    for row in rows:
        if row.used_at is None and row.expires_at > now:
            return row
    if not rows:
        raise BindingRefused("unknown")
    raise BindingRefused("used" if rows[0].used_at is not None else "expired")


def unbind(session: Session, staff: Staff, now: datetime) -> None:
    """Release the staff member's openid; that WeChat user is an ordinary customer again."""
    staff.openid, staff.bound_at = None, None
    session.flush()
