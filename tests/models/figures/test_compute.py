"""The figures against a hand-counted month: every definition, with the issue's edge cases
(a ticket reopened twice, an invalid ticket, a 退单, a ticket resolved after its deadline,
a provisional deadline, a rating credited after the handler changed), and every number's
drill-down listing exactly the tickets it counts."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.db import transaction
from bot.policies import rating_policy
from models.core.figures import RETURN_EVENT, Scope, between
from models.demo import seed_demo
from models.figures import compute, people
from models.figures.sources import MEASURES, tickets_behind
from models.people.tables import Department, Staff
from models.rating import service as ratings
from models.rating.tables import BusinessRecord
from models.ticket.tables import Deadline, SlaBreach, Ticket, TicketEvent
from tests.factories import add_ticket, move

ZONE = ZoneInfo("Asia/Shanghai")
NOVEMBER = between(datetime(2026, 11, 1).date(), datetime(2026, 11, 30).date(), "Asia/Shanghai")
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=ZONE)


def at(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=ZONE)


def staff_id(session, name: str) -> int:
    return session.scalar(select(Staff.id).where(Staff.name == name))


def department_id(session, name: str) -> int:
    return session.scalar(select(Department.id).where(Department.name == name))


def new_ticket(runtime, created: datetime, status: str = "received", **columns) -> str:
    with transaction(runtime.sessions) as session:
        handler = columns.pop("handler", None)
        department = columns.pop("department", None)
        return add_ticket(session, created, status, handler, department, **columns).number


def loop(runtime, number: str, day: int, handler: str = "王芳") -> None:
    """派单 at 10:00, 接单 at 11:00, 办结 at 15:00 of one day, through the real workflow."""
    move(runtime, number, "周敏", "assign", at(day, 10), handler_name=handler)
    move(runtime, number, handler, "ack", at(day, 11))
    move(runtime, number, handler, "resolve", at(day, 15), text="已处理")


def callback(runtime, number: str, when: datetime, satisfied: bool) -> None:
    move(runtime, number, "周敏", "callback", when, satisfied=satisfied, text="电话回访")


def add_event(session, number: str, kind: str, when: datetime, actor: str | None = None) -> None:
    ticket_id = session.scalar(select(Ticket.id).where(Ticket.number == number))
    session.add(
        TicketEvent(
            ticket_id=ticket_id,
            kind=kind,
            actor_role="handler" if actor else "officer",
            actor_staff_id=staff_id(session, actor) if actor else None,
            channel="wechat",
            created_at=when,
        )
    )


@pytest.fixture
def month(runtime) -> dict[str, str]:
    """The hand-counted month of November 2026 (see the expected values in each test)."""
    with transaction(runtime.sessions) as session:
        seed_demo(session, runtime.settings.workflow.general_department)
    t = {}
    # T1 reopened twice, archived at the third call-back.
    t["T1"] = new_ticket(runtime, at(2, 9))
    loop(runtime, t["T1"], 2)
    callback(runtime, t["T1"], at(2, 16), False)
    move(runtime, t["T1"], "王芳", "ack", at(2, 17))
    move(runtime, t["T1"], "王芳", "resolve", at(3, 9), text="已更换")
    callback(runtime, t["T1"], at(3, 10), False)
    move(runtime, t["T1"], "王芳", "ack", at(3, 11))
    move(runtime, t["T1"], "王芳", "resolve", at(4, 9), text="已修好")
    callback(runtime, t["T1"], at(4, 10), True)
    # T2 invalid.
    t["T2"] = new_ticket(runtime, at(5, 9))
    move(runtime, t["T2"], "周敏", "invalid", at(5, 10), text="非本公司业务")
    # T3 returned (退单) by its handler; no clock.
    t["T3"] = new_ticket(runtime, at(6, 9), "assigned", handler="陈静", department="市场发展部")
    # T4 resolved after its deadline, then satisfied.
    t["T4"] = new_ticket(runtime, at(9, 9))
    move(runtime, t["T4"], "周敏", "assign", at(9, 10), handler_name="王芳")
    move(runtime, t["T4"], "王芳", "ack", at(9, 11))
    move(runtime, t["T4"], "王芳", "resolve", at(11, 15), text="已处理")
    callback(runtime, t["T4"], at(11, 16), True)
    # T5 with a provisional resolve deadline, past due and still running.
    t["T5"] = new_ticket(runtime, at(20, 9), "processing", handler="王芳", department="运行维护部")
    # T6 rated 5★ while 王芳 handled it, reopened, then reassigned to 陈静.
    t["T6"] = new_ticket(runtime, at(12, 9))
    loop(runtime, t["T6"], 12)
    with transaction(runtime.sessions) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == t["T6"]))
        rate(runtime, session, ratings.ticket_target(ticket), 5, at(12, 16))
    callback(runtime, t["T6"], at(12, 17), False)
    move(runtime, t["T6"], "周敏", "assign", at(13, 9), handler_name="陈静")
    # T7 received in October: first call-back in October, the final one in November.
    t["T7"] = new_ticket(runtime, at(20, 9, month=10), "archived", handler="王芳",
                         department="运行维护部", first_callback_at=at(28, 10, month=10),
                         first_callback_satisfied=False, last_callback_at=at(3, 10),
                         last_callback_satisfied=True)  # fmt: skip
    # T8 never routed, a repeat flagged for accountability.
    t["T8"] = new_ticket(runtime, at(27, 9), repeat_flag=True, accountability_flag=True)
    with transaction(runtime.sessions) as session:
        add_event(session, t["T3"], RETURN_EVENT, at(6, 11), actor="陈静")
        add_event(session, t["T7"], "reopened", at(28, 10, month=10))
        add_event(session, t["T7"], "archived", at(3, 10))
        ids = dict(session.execute(select(Ticket.number, Ticket.id)).all())
        session.add_all(
            [
                Deadline(ticket_id=ids[t["T5"]], clock="resolve", started_at=at(20, 10),
                         due_at=at(25, 10), provisional=True, state="running"),
                Deadline(ticket_id=ids[t["T7"]], clock="resolve", started_at=at(20, 10, 10),
                         due_at=at(21, 10, 10), state="met", stopped_at=at(21, 9, 10)),
                SlaBreach(deadline_id=_resolve_clock(session, ids[t["T4"]]),
                          ticket_id=ids[t["T4"]], staff_id=staff_id(session, "王芳"),
                          clock="resolve", breached_at=at(10, 10)),
            ]
        )  # fmt: skip
        record = BusinessRecord(kind="维修", order_no="WX1", phone="13800000001",
                                staff_id=staff_id(session, "陈静"), staff_name="陈静",
                                completed_at=at(14, 9))  # fmt: skip
        session.add(record)
        session.flush()
        rate(runtime, session, ratings.business_target(record, ZONE), 2, at(15, 9))
        rate(runtime, session, ratings.general_target(), 4, at(16, 9))
    return t


def _resolve_clock(session, ticket_id: int) -> int:
    return session.scalar(
        select(Deadline.id).where(Deadline.ticket_id == ticket_id, Deadline.clock == "resolve")
    )


def rate(runtime, session, target, stars: int, when: datetime):
    policy = rating_policy(runtime.settings)
    return ratings.rate(session, target, stars, when, policy, ZONE, channel="wechat")


def test_the_month_counts_as_counted_by_hand(runtime, month):
    with runtime.sessions() as session:
        figures = compute.figures(session, NOVEMBER, NOW)
    # Received in November: T1–T6 and T8; T2 invalid; T8 a repeat with accountability.
    assert (figures.received, figures.invalid, figures.valid) == (7, 1, 6)
    assert (figures.repeats, figures.accountability) == (1, 1)
    # Due: T1 (11-03), T3 (never routed: received 11-06), T4 (11-10), T5 (11-25), T6 (11-13),
    # T8 (received 11-27); archived: T1 (after two reopens) and T4 (late, yet archived).
    assert (figures.due, figures.archived) == (6, 2)
    # First call-backs in November: T1 不满意, T4 满意, T6 不满意 (T7's first was in October).
    assert (figures.first_answered, figures.first_satisfied) == (3, 1)
    # Last call-back in November of each ticket: T1 满意, T4 满意, T6 不满意, T7 满意.
    assert (figures.final_answered, figures.final_satisfied) == (4, 3)
    assert figures.open_now == 4  # T3, T5, T6, T8
    assert figures.overdue_now == 2  # T5 (provisional resolve), T6 (investigate and resolve)
    assert figures.returns == 1
    assert figures.stars == (0, 1, 0, 1, 1)
    assert figures.average_stars == pytest.approx(11 / 3)


def test_each_clock_counts_the_deadlines_that_came_due(runtime, month):
    with runtime.sessions() as session:
        figures = compute.figures(session, NOVEMBER, NOW)
    # investigate: T1 ×3 met, T4 met, T6 met then late (the clock replaced by 改派 not counted)
    assert figures.clock("investigate") == _clock("investigate", 6, 5, 0)
    # resolve: T1 ×3 met, T4 late, T5 late (provisional), T6 met then late after the reopen
    assert figures.clock("resolve") == _clock("resolve", 7, 4, 1)
    # call-back: T1 ×3, T4, T6 — all answered in time
    assert figures.clock("callback") == _clock("callback", 5, 5, 0)
    assert [clock.clock for clock in figures.clocks] == ["investigate", "resolve", "callback"]
    assert (figures.clocks_due, figures.clocks_met) == (18, 14)


def _clock(name, due, met, provisional):
    from models.core.figures import ClockFigure

    return ClockFigure(name, due, met, provisional)


def test_a_clock_not_yet_due_is_not_judged(runtime, month):
    early = datetime(2026, 11, 12, 16, 0, tzinfo=ZONE)  # T6's resolve met, T5 not yet received
    with runtime.sessions() as session:
        figures = compute.figures(session, NOVEMBER, early)
    # T1 ×3 and T4 (late); T6's falls due tomorrow, T5's provisional one later
    assert figures.clock("resolve") == _clock("resolve", 4, 3, 0)


def test_a_rating_is_credited_to_who_handled_the_ticket_not_who_holds_it(runtime, month):
    with runtime.sessions() as session:
        wang, chen = staff_id(session, "王芳"), staff_id(session, "陈静")
        table = {p.name: p for p in people.people(session, NOVEMBER)}
        holder = session.scalar(select(Ticket.handler_id).where(Ticket.number == month["T6"]))
        for_chen = compute.figures(session, NOVEMBER, NOW, Scope(staff_id=chen))
        for_wang = compute.figures(session, NOVEMBER, NOW, Scope(staff_id=wang))
    assert holder == chen
    assert (table["王芳"].praise, table["王芳"].ratings, table["王芳"].stars_total) == (1, 1, 5)
    assert table["王芳"].breaches == 1
    assert (table["陈静"].criticism, table["陈静"].low_ratings, table["陈静"].praise) == (1, 1, 0)
    assert for_chen.stars == (0, 1, 0, 0, 0)  # the business order's 2★, not T6's 5★
    assert for_wang.stars == (0, 0, 0, 0, 1)
    # Call-backs go to who resolved the round: 王芳 resolved T1, T4 and T6.
    assert (for_wang.first_answered, for_wang.first_satisfied) == (3, 1)
    assert for_chen.first_answered == 0
    # Ticket figures go to the handler: T3 and, since the reassignment, T6.
    assert (for_chen.received, for_chen.open_now, for_chen.returns) == (2, 2, 1)


def test_breakdown_by_department_adds_up_to_the_whole(runtime, month):
    with runtime.sessions() as session:
        rows = compute.breakdown(session, NOVEMBER, NOW, "department")
        whole = compute.figures(session, NOVEMBER, NOW)
    by_name = {row.label: row.figures for row in rows}
    assert by_name["运行维护部"].received == 3  # T1, T4, T5
    assert by_name["市场发展部"].received == 2  # T3, T6 (reassigned)
    assert by_name["综合管理部"].received == 2  # T2 (invalid) and T8, never routed
    assert sum(row.figures.received for row in rows) == whole.received
    assert sum(row.figures.due for row in rows) == whole.due
    assert sum(row.figures.first_answered for row in rows) == whole.first_answered


def test_a_trend_puts_each_figure_in_its_week(runtime, month):
    with runtime.sessions() as session:
        weeks = compute.trend(session, NOVEMBER, NOW, "week", "Asia/Shanghai")
    assert [part.label for part, _ in weeks][:2] == ["10-26周", "11-02周"]
    received = [figures.received for _, figures in weeks]
    # 11-01 (a Sunday) | T1 T2 T3 | T4 T6 | T5 | T8 | 11-30
    assert received == [0, 3, 2, 1, 1, 0]


def test_the_dashboard_counts_the_period_once_as_the_sum_of_its_departments(runtime, month):
    with runtime.sessions() as session:
        board = compute.dashboard(session, NOVEMBER, NOVEMBER, NOW, "week", "Asia/Shanghai")
        alone = compute.figures(session, NOVEMBER, NOW)
    assert board.figures == alone
    # T1 on 11-02 | T4 on 11-11, T6 on 11-12
    assert [figures.first_answered for _, figures in board.trend] == [0, 1, 2, 0, 0, 0]


@pytest.mark.parametrize("measure", sorted(MEASURES))
def test_every_number_links_to_exactly_its_tickets(runtime, month, measure):
    with runtime.sessions() as session:
        figures = compute.figures(session, NOVEMBER, NOW)
        listed = session.scalar(
            select(func.count(Ticket.id)).where(tickets_behind(measure, NOVEMBER, Scope(), NOW))
        )
    assert listed == EXPECTED_TICKETS[measure](figures)


# Tickets behind each number: equal to the figure where it counts tickets, the distinct
# tickets where it counts events or clocks.
EXPECTED_TICKETS = {
    "received": lambda f: f.received,
    "invalid": lambda f: f.invalid,
    "valid": lambda f: f.valid,
    "repeats": lambda f: f.repeats,
    "accountability": lambda f: f.accountability,
    "due": lambda f: f.due,
    "archived": lambda f: f.archived,
    "not_archived": lambda f: f.due - f.archived,
    "first_answered": lambda f: f.first_answered,
    "first_satisfied": lambda f: f.first_satisfied,
    "first_unsatisfied": lambda f: f.first_answered - f.first_satisfied,
    "final_answered": lambda f: f.final_answered,
    "final_satisfied": lambda f: f.final_satisfied,
    "clocks_due": lambda f: 4,  # T1, T4, T5, T6
    "clocks_late": lambda f: 3,  # T4, T5, T6
    "open": lambda f: f.open_now,
    "overdue": lambda f: f.overdue_now,
    "returns": lambda f: f.returns,
    "rated": lambda f: 1,  # T6; the business and general ratings have no ticket
}
