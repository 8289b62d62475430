"""Staff accounts and their WeChat binding (绑定), as functions taking a session and `now`.

The back office issues a one-time six-digit code (绑定码); only its sha256 is stored. The
staff member sends `绑定 <code>` from their own WeChat, which ties their openid to the account:
one openid per staff member and one staff member per openid. Deactivating an account releases
its binding at once (that WeChat user is an ordinary customer from the next message) and kills
its live codes. Every change is audited (`models.audit.log`) in the same transaction; `who`
says who made it (the CLI passes `Who.cli()`). Nothing here commits.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.audit import log as audit
from models.audit.log import Who
from models.core.labels import POST_LABELS, ROLE_LABELS, STAFF_ROLES
from models.core.phones import mask_phone
from models.people.tables import BindingCode, Department, Designation, Staff

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


def binding_text(code: str) -> str:
    """What the member sends in WeChat (and what the QR code holds)."""
    return f"绑定 {code}"


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def staff_by_name(session: Session, name: str) -> Staff | None:
    return session.scalar(select(Staff).where(Staff.name == name.strip()))


def all_staff(session: Session) -> list[Staff]:
    return list(session.scalars(select(Staff).order_by(Staff.id)))


def add_staff(
    session: Session,
    name: str,
    department_name: str,
    role: str,
    now: datetime,
    phone: str = "",
    *,
    who: Who | None = None,
) -> Staff:
    """A new staff member (员工) of an existing department; raises StaffError."""
    name, phone = name.strip(), phone.strip()
    if not name:
        raise StaffError("姓名不能为空")
    _check_role(role)
    department = _department(session, department_name)
    if staff_by_name(session, name) is not None:
        raise StaffError(f"员工 {name} 已存在")
    staff = Staff(name=name, role=role, department_id=department.id, phone=phone, created_at=now)
    session.add(staff)
    session.flush()
    detail = f"{name}，{department.name}，{ROLE_LABELS[role]}" + (
        f"，{mask_phone(phone)}" if phone else ""
    )
    audit.record(
        session, who or Who.system(), "staff_add", now, target=_target(staff), detail=detail
    )
    return staff


def _check_role(role: str) -> None:
    if role not in STAFF_ROLES:
        raise StaffError(f"未知角色：{role}（可选：{'、'.join(STAFF_ROLES)}）")


def _department(session: Session, name: str) -> Department:
    department = session.scalar(select(Department).where(Department.name == name.strip()))
    if department is None:
        raise StaffError(f"未知部门：{name}")
    return department


def _target(staff: Staff) -> str:
    return f"staff:{staff.id}"


def edit_staff(
    session: Session,
    staff: Staff,
    who: Who,
    now: datetime,
    *,
    name: str | None = None,
    department_name: str | None = None,
    role: str | None = None,
    phone: str | None = None,
) -> list[str]:
    """Change some of name, department, role and phone; returns what changed (Chinese), each
    audited (a role change on its own line, as `staff_role`). Raises StaffError."""
    changes: list[str] = []
    if name is not None and name.strip() != staff.name:
        _rename(session, staff, name.strip(), changes)
    if department_name is not None:
        department = _department(session, department_name)
        if department.id != staff.department_id:
            old = staff.department.name if staff.department else "—"
            staff.department_id, staff.department = department.id, department
            changes.append(f"部门：{old} → {department.name}")
    if phone is not None and phone.strip() != staff.phone:
        changes.append(f"手机：{_masked(staff.phone)} → {_masked(phone.strip())}")
        staff.phone = phone.strip()
    if changes:
        detail = "；".join(changes)
        audit.record(session, who, "staff_edit", now, target=_target(staff), detail=detail)
    if role is not None and role != staff.role:
        changes.append(change_role(session, staff, role, who, now))
    session.flush()
    return changes


def _rename(session: Session, staff: Staff, name: str, changes: list[str]) -> None:
    if not name:
        raise StaffError("姓名不能为空")
    if staff_by_name(session, name) is not None:
        raise StaffError(f"员工 {name} 已存在")
    changes.append(f"姓名：{staff.name} → {name}")
    staff.name = name


def _masked(phone: str) -> str:
    return mask_phone(phone) if phone else "—"


def change_role(session: Session, staff: Staff, role: str, who: Who, now: datetime) -> str:
    """A new role (角色); an officer designation the member no longer fits is dropped."""
    _check_role(role)
    text = f"角色：{ROLE_LABELS[staff.role]} → {ROLE_LABELS[role]}"
    staff.role = role
    if role != "officer":
        _drop_designations(session, staff, posts=("officer",))
    audit.record(session, who, "staff_role", now, target=_target(staff), detail=text)
    return text


def deactivate(session: Session, staff: Staff, who: Who, now: datetime) -> None:
    """停用: the account stops at once — its WeChat binding is released, live codes die, its
    designations are dropped. Its tickets and records stay."""
    if not staff.active:
        raise StaffError(f"员工 {staff.name} 已停用")
    staff.active = False
    _expire_live_codes(session, staff, now)
    dropped = _drop_designations(session, staff)
    detail = f"{staff.name} 停用" + ("，已解除微信绑定" if staff.openid else "")
    if dropped:
        detail += f"，取消指定：{'、'.join(dropped)}"
    staff.openid, staff.bound_at = None, None
    audit.record(session, who, "staff_deactivate", now, target=_target(staff), detail=detail)
    session.flush()


def activate(session: Session, staff: Staff, who: Who, now: datetime) -> None:
    """启用 again; the member binds WeChat with a new code."""
    if staff.active:
        raise StaffError(f"员工 {staff.name} 未停用")
    staff.active = True
    audit.record(session, who, "staff_activate", now, target=_target(staff), detail=staff.name)
    session.flush()


def _drop_designations(
    session: Session, staff: Staff, posts: tuple[str, ...] | None = None
) -> list[str]:
    statement = select(Designation).where(Designation.staff_id == staff.id)
    if posts is not None:
        statement = statement.where(Designation.post.in_(posts))
    rows = list(session.scalars(statement))
    for row in rows:
        session.delete(row)
    return [POST_LABELS[row.post] for row in rows]


def _expire_live_codes(session: Session, staff: Staff, now: datetime) -> None:
    session.execute(
        update(BindingCode)
        .where(
            BindingCode.staff_id == staff.id,
            BindingCode.used_at.is_(None),
            BindingCode.expires_at > now,
        )
        .values(expires_at=now)
    )


def issue_code(
    session: Session, staff: Staff, now: datetime, *, who: Who | None = None
) -> IssuedCode:
    """A fresh one-time code for `staff`, valid CODE_VALID_MINUTES; earlier unused ones die."""
    if not staff.active:
        raise StaffError(f"员工 {staff.name} 已停用，不能发放绑定码")
    _expire_live_codes(session, staff, now)
    code = _unique_live_code(session, now)
    expires_at = now + timedelta(minutes=CODE_VALID_MINUTES)
    session.add(
        BindingCode(
            staff_id=staff.id, code_hash=hash_code(code), expires_at=expires_at, created_at=now
        )
    )
    session.flush()
    detail = f"{staff.name}，{CODE_VALID_MINUTES}分钟内有效"
    audit.record(
        session, who or Who.system(), "binding_code", now, target=_target(staff), detail=detail
    )
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
    who = Who.staff(staff, "wechat")
    audit.record(session, who, "bind", now, target=_target(staff), detail=f"{staff.name} 绑定微信")
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


def unbind(session: Session, staff: Staff, now: datetime, *, who: Who | None = None) -> None:
    """Release the staff member's openid; that WeChat user is an ordinary customer again.
    `who` defaults to the member themselves in WeChat (解绑)."""
    if staff.openid is None:
        raise StaffError(f"员工 {staff.name} 未绑定微信")
    staff.openid, staff.bound_at = None, None
    session.flush()
    who = who or Who.staff(staff, "wechat")
    audit.record(
        session, who, "unbind", now, target=_target(staff), detail=f"{staff.name} 解除绑定"
    )
