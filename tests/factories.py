"""Test data: a ticket put straight into a state, with the demo staff as its handler."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from models.people.tables import Department, Staff
from models.ticket.intake import next_ticket_number
from models.ticket.tables import Ticket


def add_ticket(
    session,
    now: datetime,
    status: str = "assigned",
    handler: str | None = "王芳",
    department: str | None = "运行维护部",
    **columns,
) -> Ticket:
    """A ticket in `status` (no deadlines, no events unless the caller adds them)."""

    def department_id(name):
        return session.scalar(select(Department.id).where(Department.name == name))

    values = dict(
        number=next_ticket_number(session, now, "Asia/Shanghai"),
        status=status,
        severity="general",
        receiving_department_id=department_id("综合管理部"),
        handling_department_id=department_id(department) if department else None,
        handler_id=session.scalar(select(Staff.id).where(Staff.name == handler))
        if handler
        else None,
        appeal_type="维修",
        customer_name="张三",
        phone="13800138000",
        source_channel="投诉电话",
        complained_at=now,
        matter="燃气表漏气",
        content="燃气表漏气，有异味",
        created_at=now,
        updated_at=now,
    )
    values.update(columns)
    ticket = Ticket(**values)
    session.add(ticket)
    session.flush()
    return ticket
