"""The ticket list of the back office (工单台账): who sees which tickets, filters, search and
keyset paging, as functions taking a session. Nothing here commits.

Paging is by keyset on the ticket id (newest first), so a page costs the same at 100,000
tickets as at 100: the database walks the primary key (or the department and clerk indexes)
from the last id shown, never skipping rows with OFFSET. The count beside it stops at
``COUNT_CAP``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import ColumnElement, Select, false, func, or_, select, true
from sqlalchemy.orm import Session, selectinload

from models.core.phones import normalize_phone
from models.core.workflow import SEES_EVERY_TICKET, Actor, Role
from models.ticket.tables import Deadline, Ticket

OPEN = "open"  # a status filter of its own: not archived and not invalid (在办)
OPEN_STATUSES = ("received", "assigned", "processing", "resolved")
NUMBER_PREFIX = re.compile(r"TS\d{0,12}")
DIGITS = re.compile(r"\d{4,32}")
COUNT_CAP = 10_000  # the list says "10000 件以上" beyond this


@dataclass(frozen=True)
class TicketFilter:
    """What the list shows: every field is one URL parameter (a view can be bookmarked)."""

    status: str = ""
    department_id: int | None = None
    appeal_type: str = ""
    channel: str = ""
    severity: str = ""
    overdue: bool = False
    repeat: bool = False
    accountability: bool = False
    callback: bool = False  # a phone call-back is waiting (待电话回访)
    urgent: bool = False
    since: datetime | None = None  # created at or after
    until: datetime | None = None  # created before
    search: str = ""

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) in (None, "", False) for f in fields(self))


@dataclass(frozen=True)
class ListPage:
    tickets: list[Ticket]
    total: int  # at most COUNT_CAP + 1 (shown as "more than COUNT_CAP")
    newer: int | None  # the `before` cursor of the previous page, None on the first
    older: int | None  # the `after` cursor of the next page, None on the last


def visible_to(actor: Actor) -> ColumnElement[bool]:
    """The tickets an actor may see, as SQL: ``models.core.workflow.can_view`` for a list."""
    if actor.role in SEES_EVERY_TICKET:
        return true()
    if actor.role is Role.CLERK:
        return Ticket.registered_by_id == actor.staff_id if actor.staff_id else false()
    if actor.role is Role.CUSTOMER:
        return Ticket.customer_id == actor.customer_id if actor.customer_id else false()
    mine = [Ticket.handler_id == actor.staff_id] if actor.staff_id else []
    if actor.department_id is not None:
        mine.append(Ticket.handling_department_id == actor.department_id)
        mine.append(Ticket.receiving_department_id == actor.department_id)
    return or_(*mine) if mine else false()


def conditions(chosen: TicketFilter, now: datetime) -> list[ColumnElement[bool]]:
    """One SQL condition per filter that is set."""
    found: list[ColumnElement[bool]] = []
    if chosen.status == OPEN:
        found.append(Ticket.status.in_(OPEN_STATUSES))
    elif chosen.status:
        found.append(Ticket.status == chosen.status)
    columns = {
        "department_id": Ticket.handling_department_id,
        "appeal_type": Ticket.appeal_type,
        "channel": Ticket.source_channel,
        "severity": Ticket.severity,
    }
    for name, column in columns.items():
        value = getattr(chosen, name)
        if value not in (None, ""):
            found.append(column == value)
    flags = {
        "repeat": Ticket.repeat_flag,
        "accountability": Ticket.accountability_flag,
        "callback": Ticket.phone_callback,
        "urgent": Ticket.urgent,
    }
    found += [column.is_(True) for name, column in flags.items() if getattr(chosen, name)]
    if chosen.overdue:
        late = select(Deadline.ticket_id).where(Deadline.state == "running", Deadline.due_at < now)
        found.append(Ticket.id.in_(late))
    if chosen.since is not None:
        found.append(Ticket.created_at >= chosen.since)
    if chosen.until is not None:
        found.append(Ticket.created_at < chosen.until)
    if chosen.search.strip():
        found.append(search_condition(chosen.search))
    return found


def search_condition(raw: str) -> ColumnElement[bool]:
    """单号 (or its beginning), 电话, 户号, the platform's number, or words of the address or
    the customer's name."""
    text = unicodedata.normalize("NFKC", raw).strip()
    upper = text.upper()
    if NUMBER_PREFIX.fullmatch(upper):
        return Ticket.number == upper if len(upper) == 14 else Ticket.number.startswith(upper)
    phone = normalize_phone(text)
    matches: list[ColumnElement[bool]] = [Ticket.phone == phone] if phone else []
    if DIGITS.fullmatch(text):
        matches += [Ticket.gas_account == text, Ticket.external_number == text]
        if len(text) == 4:
            matches.append(Ticket.phone.endswith(text))  # 尾号
        return or_(*matches)
    if phone:
        return or_(*matches)
    matches += [
        Ticket.external_number == text,
        Ticket.customer_name == text,
        Ticket.address.contains(text, autoescape=True),
    ]
    return or_(*matches)


def page(
    session: Session,
    actor: Actor,
    chosen: TicketFilter,
    now: datetime,
    size: int,
    *,
    after: int | None = None,
    before: int | None = None,
) -> ListPage:
    """One page, newest first: older than ``after``, or the page just newer than ``before``."""
    where = [visible_to(actor), *conditions(chosen, now)]
    statement: Select = select(Ticket).where(*where)
    if before is not None:
        statement = statement.where(Ticket.id > before).order_by(Ticket.id.asc())
    else:
        if after is not None:
            statement = statement.where(Ticket.id < after)
        statement = statement.order_by(Ticket.id.desc())
    rows = list(session.scalars(statement.limit(size + 1).options(*_shown())))
    more = len(rows) > size
    rows = rows[:size]
    if before is not None:
        rows.reverse()
    return ListPage(
        tickets=rows,
        total=count_up_to(session, where, COUNT_CAP),
        newer=rows[0].id if rows and (after is not None or (before is not None and more)) else None,
        older=rows[-1].id if rows and (more or before is not None) else None,
    )


def count_up_to(session: Session, where: list[ColumnElement[bool]], cap: int) -> int:
    """How many tickets match, counting at most ``cap + 1`` of them: a count of a whole
    100,000-ticket table would cost more than the page itself."""
    matching = select(Ticket.id).where(*where).limit(cap + 1).subquery()
    return session.scalar(select(func.count()).select_from(matching)) or 0


def _shown():
    return (
        selectinload(Ticket.deadlines),
        selectinload(Ticket.handler),
        selectinload(Ticket.handling_department),
    )
