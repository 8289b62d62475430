"""Shared steps for the job tests: staff, a filed ticket, workflow moves, a real rq worker."""

from __future__ import annotations

from datetime import UTC, datetime

from rq import SimpleWorker

from bot.db import transaction
from jobs.queue import enqueue_written, make_queue
from models.core.workflow import Move
from models.demo import seed_demo
from models.people.tables import Staff
from models.ticket.service import actor_for_staff, perform
from models.ticket.tables import Ticket
from tests.handlers.test_customer_flow import file_complaint

CUSTOMER = "o_loop_customer"
OFFICER = "o_loop_officer"
HANDLER = "o_loop_handler"


def seed_bound_staff(runtime) -> None:
    with transaction(runtime.sessions) as session:
        seed_demo(session, runtime.settings.workflow.general_department)
        session.query(Staff).filter_by(name="周敏").one().openid = OFFICER
        session.query(Staff).filter_by(name="王芳").one().openid = HANDLER


def file_ticket(wechat, openid: str = CUSTOMER) -> str:
    file_complaint(wechat, openid)
    with wechat_runtime(wechat).sessions() as session:
        return session.query(Ticket).order_by(Ticket.id.desc()).first().number


def wechat_runtime(wechat):
    return wechat.client.application.extensions["bihuan"]


def move(
    runtime, number: str, staff_name: str, kind: str, now: datetime | None = None, **fields
) -> None:
    """One workflow move by a named staff member, committed, its notifications queued."""
    now = now or datetime.now(UTC)
    with transaction(runtime.sessions) as session:
        ticket = session.query(Ticket).filter_by(number=number).one()
        staff = session.query(Staff).filter_by(name=staff_name).one()
        if kind == "assign" and "department_id" not in fields:
            handler = session.query(Staff).filter_by(name=fields.pop("handler_name")).one()
            fields.update(department_id=handler.department_id, handler_id=handler.id)
        move = Move(kind=kind, **fields)
        perform(session, ticket, actor_for_staff(staff), move, now, runtime.policy)
    enqueue_written(runtime, session)


def run_worker(runtime) -> None:
    """A real rq worker, in burst mode, on the test's Redis."""
    SimpleWorker([make_queue(runtime)], connection=runtime.redis).work(burst=True)
