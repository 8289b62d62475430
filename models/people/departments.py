"""Departments (部门): add and rename, audited. The general department (综合管理部) is named by
config.toml's workflow.general_department and cannot be renamed here. Nothing here commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.audit import log as audit
from models.audit.log import Who
from models.people.staff import StaffError
from models.people.tables import Department, Staff


def by_name(session: Session, name: str) -> Department | None:
    return session.scalar(select(Department).where(Department.name == name.strip()))


def add_department(session: Session, name: str, who: Who, now: datetime) -> Department:
    name = name.strip()
    if not name or len(name) > 50:
        raise StaffError("部门名称须为 1 到 50 个字")
    if by_name(session, name) is not None:
        raise StaffError(f"部门 {name} 已存在")
    department = Department(name=name, is_general=False)
    session.add(department)
    session.flush()
    audit.record(
        session, who, "department_add", now, target=f"department:{department.id}", detail=name
    )
    return department


def rename_department(
    session: Session, department: Department, name: str, who: Who, now: datetime
) -> None:
    name = name.strip()
    if department.is_general:
        raise StaffError(
            f"{department.name}的名称由配置 workflow.general_department 决定，不能在此修改"
        )
    if not name or len(name) > 50:
        raise StaffError("部门名称须为 1 到 50 个字")
    if name == department.name:
        return
    if by_name(session, name) is not None:
        raise StaffError(f"部门 {name} 已存在")
    detail = f"{department.name} → {name}"
    department.name = name
    session.flush()
    audit.record(
        session, who, "department_edit", now, target=f"department:{department.id}", detail=detail
    )


def with_counts(session: Session) -> list[tuple[Department, int, int]]:
    """Every department with its active staff and its bound active staff."""
    active = func.count(Staff.id).filter(Staff.active.is_(True))
    bound = func.count(Staff.id).filter(Staff.active.is_(True), Staff.openid.is_not(None))
    statement = (
        select(Department, active, bound)
        .outerjoin(Staff, Staff.department_id == Department.id)
        .group_by(Department.id)
        .order_by(Department.is_general.desc(), Department.id)
    )
    return [(row[0], row[1], row[2]) for row in session.execute(statement)]
