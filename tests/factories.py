"""Shared test steps: the demo staff bound to WeChat, a complaint filed through the chat, a
ticket put straight into a state, workflow moves, a real rq worker and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime

from click.testing import CliRunner
from rq import SimpleWorker
from sqlalchemy import func, select

import bot.cli as cli_module
from bot.db import transaction
from jobs.queue import enqueue_written, make_queue
from models.core.workflow import Move
from models.demo import seed_demo
from models.people.tables import Department, Staff
from models.ticket.intake import next_ticket_number
from models.ticket.service import actor_for_staff, perform
from models.ticket.tables import Ticket, TicketEvent

OPENID = "o_customer_1"


def add_ticket(
    session,
    now: datetime,
    status: str = "assigned",
    handler: str | None = "王芳",
    department: str | None = "运行维护部",
    registered_by: str | None = None,
    **columns,
) -> Ticket:
    """A ticket in `status` (no deadlines, no events unless the caller adds them)."""

    def department_id(name):
        return session.scalar(select(Department.id).where(Department.name == name))

    def staff_id(name):
        return session.scalar(select(Staff.id).where(Staff.name == name)) if name else None

    values = dict(
        number=next_ticket_number(session, now, "Asia/Shanghai"),
        status=status,
        severity="general",
        receiving_department_id=department_id("综合管理部"),
        handling_department_id=department_id(department) if department else None,
        handler_id=staff_id(handler),
        registered_by_id=staff_id(registered_by),
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


def file_complaint(
    wechat, openid=OPENID, phone="13800138000", content="家里燃气表不走字，报修三天没人来"
):
    replies = [wechat.click(openid, "COMPLAINT_NEW")]
    for answer in ("5", content, "幸福路1号3栋201", "张三", phone, "1"):
        replies.append(wechat.text(openid, answer))
    return replies


OPENIDS = {
    "handler": "o_wangfang",
    "dept_head": "o_liqiang",
    "officer": "o_zhoumin",
    "leader": "o_qianli",
    "executive": "o_sunzong",
    "clerk": "o_wuwen",
    "other_handler": "o_chenjing",
}


NAMES = {
    "handler": "王芳",
    "dept_head": "李强",
    "officer": "周敏",
    "leader": "钱立",
    "executive": "孙总",
    "clerk": "吴文",
    "other_handler": "陈静",
}


def bind_staff(runtime) -> dict[str, str]:
    """Bind the demo staff (and a clerk) by writing their openids; returns role → openid."""
    with transaction(runtime.sessions) as session:
        if session.scalar(select(Staff).where(Staff.name == "吴文")) is None:
            general = session.scalar(select(Department).where(Department.name == "综合管理部"))
            session.add(Staff(name="吴文", role="clerk", department_id=general.id))
            session.flush()
        for key, name in NAMES.items():
            staff = session.scalar(select(Staff).where(Staff.name == name))
            staff.openid = OPENIDS[key]
    return OPENIDS


def make_ticket(
    runtime,
    status: str = "assigned",
    handler: str | None = "王芳",
    department: str | None = "运行维护部",
    **columns,
) -> str:
    """A ticket put straight into ``status`` (no deadlines unless the caller adds some)."""
    with transaction(runtime.sessions) as session:
        ticket = add_ticket(session, datetime.now(UTC), status, handler, department, **columns)
        return ticket.number


def event_count(runtime, number: str) -> int:
    with runtime.sessions() as session:
        return session.scalar(
            select(func.count(TicketEvent.id)).join(Ticket).where(Ticket.number == number)
        )


def invoke(runtime, *args, input: str | None = None):
    """Run `bihuan ARGS` on this runtime; `input` is what standard input holds."""
    obj = cli_module.Obj()
    obj._settings, obj._runtime = runtime.settings, runtime
    return CliRunner().invoke(
        cli_module.cli, list(args), obj=obj, input=input, catch_exceptions=False
    )


CUSTOMER = "o_loop_customer"
OFFICER = "o_loop_officer"
HANDLER = "o_loop_handler"


def seed_bound_staff(runtime) -> None:
    with transaction(runtime.sessions) as session:
        seed_demo(session, runtime.settings.workflow.general_department)
        session.scalars(select(Staff).filter_by(name="周敏")).one().openid = OFFICER
        session.scalars(select(Staff).filter_by(name="王芳")).one().openid = HANDLER


def file_ticket(wechat, openid: str = CUSTOMER) -> str:
    file_complaint(wechat, openid)
    with wechat_runtime(wechat).sessions() as session:
        return session.scalars(select(Ticket).order_by(Ticket.id.desc())).first().number


def wechat_runtime(wechat):
    return wechat.client.application.extensions["bihuan"]


def move(
    runtime, number: str, staff_name: str, kind: str, now: datetime | None = None, **fields
) -> None:
    """One workflow move by a named staff member, committed, its notifications queued."""
    now = now or datetime.now(UTC)
    with transaction(runtime.sessions) as session:
        ticket = session.scalars(select(Ticket).filter_by(number=number)).one()
        staff = session.scalars(select(Staff).filter_by(name=staff_name)).one()
        if kind == "assign" and "department_id" not in fields:
            handler = session.scalars(
                select(Staff).filter_by(name=fields.pop("handler_name"))
            ).one()
            fields.update(department_id=handler.department_id, handler_id=handler.id)
        move = Move(kind=kind, **fields)
        perform(session, ticket, actor_for_staff(staff), move, now, runtime.policy)
    enqueue_written(runtime, session)


def run_worker(runtime) -> None:
    """A real rq worker, in burst mode, on the test's Redis."""
    SimpleWorker([make_queue(runtime)], connection=runtime.redis).work(burst=True)
