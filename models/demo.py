"""Demo data: the policy's departments and a few staff (`bihuan demo`, idempotent)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.people.tables import Department, Staff

# The business departments of the policy's scope (报装、设计、安装、点火、维修).
BUSINESS_DEPARTMENTS = ("市场发展部", "工程技术部", "安装工程部", "客户服务部", "运行维护部")

DEMO_STAFF = (
    # name, department, role
    ("周敏", None, "officer"),
    ("钱立", None, "leader"),
    ("孙总", None, "executive"),
    ("李强", "运行维护部", "dept_head"),
    ("王芳", "运行维护部", "handler"),
    ("赵磊", "市场发展部", "dept_head"),
    ("陈静", "市场发展部", "handler"),
    ("刘洋", "客户服务部", "handler"),
    ("吴文", "客户服务部", "clerk"),  # registers hotline and walk-in complaints
)


def seed_demo(session: Session, general_department: str) -> int:
    """Create what is missing; returns how many rows were added."""
    general_name = general_department
    added = 0
    departments = {}
    for name in (general_name, *BUSINESS_DEPARTMENTS):
        department = session.scalar(select(Department).where(Department.name == name))
        if department is None:
            department = Department(name=name, is_general=name == general_name)
            session.add(department)
            added += 1
        departments[name] = department
    session.flush()
    for name, department_name, role in DEMO_STAFF:
        if session.scalar(select(Staff).where(Staff.name == name)) is None:
            department = departments[department_name or general_name]
            session.add(Staff(name=name, role=role, department_id=department.id))
            added += 1
    session.flush()
    return added
