"""The ledger (台账): one row per ticket with the form's fields, times, deadlines, on-time
flags, rating and call-back results, for the tickets of a `TicketFilter`.

Rows are read in keyset pages of `BATCH` tickets (plain columns, no ORM objects kept), with
one query per page for the clocks, the ratings and the call-backs, so memory stays flat
however many tickets the filter selects: the writer (`jobs.ledger`) streams them to disk.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.core.figures import SATISFIED_EVENT, UNSATISFIED_EVENT
from models.core.labels import CLOCK_LABELS, CLOCKS, SEVERITY_LABELS, STATUS_LABELS
from models.people.tables import Department, Staff
from models.rating.tables import Rating
from models.ticket.filters import TicketFilter, where
from models.ticket.tables import Deadline, Ticket, TicketEvent

BATCH = 1000
ANSWERS = {SATISFIED_EVENT: "满意", UNSATISFIED_EVENT: "不满意"}


@dataclass(frozen=True)
class Column:
    header: str
    width: int
    kind: str = "text"  # text | time | date | number


FORM_COLUMNS = (
    Column("受理单号", 17),
    Column("受理部门", 12),
    Column("诉求类型", 9),
    Column("服务对象", 10),
    Column("联系电话", 14),
    Column("投诉来源", 14),
    Column("投诉时间", 17, "time"),
    Column("单位/地址", 28),
    Column("诉求事项", 24),
    Column("受理内容", 40),
    Column("处理结果", 40),
    Column("承办部门", 12),
    Column("负责人", 10),
    Column("办结日期", 11, "date"),
)
STATE_COLUMNS = (
    Column("状态", 9),
    Column("严重程度", 9),
    Column("无效原因", 20),
    Column("登记时间", 17, "time"),
    Column("外部单号", 16),
    Column("户号", 14),
    Column("重复投诉", 9),
    Column("责任追究", 9),
    Column("重办轮次", 9, "number"),
    Column("涉及金额", 16),
)
RESULT_COLUMNS = (
    Column("时限暂定", 9),
    Column("回访次数", 9, "number"),
    Column("首次回访", 9),
    Column("最终回访", 9),
    Column("评价星级", 9, "number"),
    Column("评价留言", 30),
)


def clock_columns(clocks: tuple[str, ...] = CLOCKS) -> tuple[Column, ...]:
    columns = []
    for clock in clocks:
        label = CLOCK_LABELS.get(clock, clock)
        columns += [Column(f"{label}时限", 17, "time"), Column(f"{label}是否按时", 11)]
    return tuple(columns)


COLUMNS = FORM_COLUMNS + STATE_COLUMNS + clock_columns() + RESULT_COLUMNS

TICKET_FIELDS = (
    Ticket.id,
    Ticket.number,
    Ticket.receiving_department_id,
    Ticket.appeal_type,
    Ticket.customer_name,
    Ticket.phone,
    Ticket.source_channel,
    Ticket.complained_at,
    Ticket.address,
    Ticket.matter,
    Ticket.content,
    Ticket.result,
    Ticket.handling_department_id,
    Ticket.handler_id,
    Ticket.responsible_person,
    Ticket.resolved_on,
    Ticket.status,
    Ticket.severity,
    Ticket.invalid_reason,
    Ticket.created_at,
    Ticket.external_number,
    Ticket.gas_account,
    Ticket.repeat_flag,
    Ticket.accountability_flag,
    Ticket.rounds,
    Ticket.money_kind,
    Ticket.money_amount,
    Ticket.money_status,
)


def count(session: Session, selection: TicketFilter, now: datetime) -> int:
    statement = select(func.count(Ticket.id)).where(*where(selection, now))
    return session.scalar(statement) or 0


def rows(
    sessions: Callable[[], Session], selection: TicketFilter, now: datetime, zone: ZoneInfo
) -> Iterator[list[list]]:
    """The ledger's rows in pages, in ticket order, each page read in a short transaction of
    its own; cells are str, int, date or a naive local datetime (what a spreadsheet shows)."""
    conditions = where(selection, now)
    last_id, names = 0, None
    while True:
        with sessions() as session:
            names = names or _names(session)
            statement = (
                select(*TICKET_FIELDS)
                .where(*conditions, Ticket.id > last_id)
                .order_by(Ticket.id)
                .limit(BATCH)
            )
            page = session.execute(statement).all()
            if not page:
                return
            ids = [ticket.id for ticket in page]
            extra = _Extras.load(session, ids)
        yield [_row(ticket, names, extra, now, zone) for ticket in page]
        last_id = ids[-1]


def _names(session: Session) -> dict[str, dict[int, str]]:
    return {
        "department": dict(session.execute(select(Department.id, Department.name)).all()),
        "staff": dict(session.execute(select(Staff.id, Staff.name)).all()),
    }


@dataclass
class _Extras:
    """What a page of tickets needs from other tables, keyed by ticket id."""

    clocks: dict
    callbacks: dict
    ratings: dict

    @classmethod
    def load(cls, session: Session, ids: list[int]) -> _Extras:
        clocks: dict = defaultdict(dict)
        statement = (
            select(
                Deadline.ticket_id,
                Deadline.clock,
                Deadline.due_at,
                Deadline.state,
                Deadline.provisional,
            )
            .where(Deadline.ticket_id.in_(ids), Deadline.state != "superseded")
            .order_by(Deadline.id)
        )
        for deadline in session.execute(statement):
            clocks[deadline.ticket_id][deadline.clock] = deadline  # the latest round wins
        callbacks: dict = defaultdict(list)
        events = select(TicketEvent.ticket_id, TicketEvent.kind).where(
            TicketEvent.ticket_id.in_(ids), TicketEvent.kind.in_(tuple(ANSWERS))
        )
        for ticket_id, kind in session.execute(events.order_by(TicketEvent.id)):
            callbacks[ticket_id].append(kind)
        rated = select(Rating.ticket_id, Rating.stars, Rating.comment).where(
            Rating.ticket_id.in_(ids)
        )
        ratings = {row.ticket_id: row for row in session.execute(rated.order_by(Rating.id))}
        return cls(clocks, callbacks, ratings)


def _row(ticket, names, extra: _Extras, now: datetime, zone: ZoneInfo) -> list:
    departments, staff = names["department"], names["staff"]
    local = _local(zone)
    answers = extra.callbacks.get(ticket.id, [])
    rating = extra.ratings.get(ticket.id)
    clocks = extra.clocks.get(ticket.id, {})
    cells = [
        ticket.number,
        departments.get(ticket.receiving_department_id, ""),
        ticket.appeal_type,
        ticket.customer_name,
        ticket.phone,
        ticket.source_channel,
        local(ticket.complained_at),
        ticket.address,
        ticket.matter,
        ticket.content,
        ticket.result,
        departments.get(ticket.handling_department_id, ""),
        ticket.responsible_person or staff.get(ticket.handler_id, ""),
        ticket.resolved_on,
        STATUS_LABELS.get(ticket.status, ticket.status),
        SEVERITY_LABELS.get(ticket.severity, ticket.severity),
        ticket.invalid_reason,
        local(ticket.created_at),
        ticket.external_number,
        ticket.gas_account,
        _yes(ticket.repeat_flag),
        _yes(ticket.accountability_flag),
        ticket.rounds,
        _money(ticket),
    ]
    for clock in CLOCKS:
        deadline = clocks.get(clock)
        cells += [local(deadline.due_at) if deadline else None, on_time(deadline, now)]
    cells += [
        _yes(any(d.provisional for d in clocks.values())),
        len(answers),
        ANSWERS[answers[0]] if answers else "",
        ANSWERS[answers[-1]] if answers else "",
        rating.stars if rating else None,
        rating.comment if rating else "",
    ]
    return cells


def on_time(deadline, now: datetime) -> str:
    """按时 / 超时 for a stopped clock; 计时中 / 已超期 for a running one."""
    if deadline is None:
        return ""
    if deadline.state == "running":
        return "已超期" if deadline.due_at < now else "计时中"
    return "按时" if deadline.state == "met" else "超时"


def _local(zone: ZoneInfo):
    def convert(moment: datetime | None) -> datetime | None:
        return moment.astimezone(zone).replace(tzinfo=None) if moment else None

    return convert


def _yes(flag: bool) -> str:
    return "是" if flag else ""


def _money(ticket) -> str:
    if ticket.money_status in ("none", "") or ticket.money_amount is None:
        return ""
    return f"{ticket.money_kind} {ticket.money_amount} 元"
