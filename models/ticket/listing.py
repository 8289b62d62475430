"""The ticket list of the back office (工单台账): who sees which tickets and keyset paging, as
functions taking a session; which tickets the filters and the search mean is the shared
``models.ticket.filters`` (the same as the ledger export and the dashboard's links). Nothing
here commits.

Paging is by keyset on the ticket id (newest first), so a page costs the same at 100,000
tickets as at 100: the database walks the primary key (or the department and clerk indexes)
from the last id shown, never skipping rows with OFFSET. The count beside it stops at
``COUNT_CAP``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, false, func, or_, select, true
from sqlalchemy.orm import Session, selectinload

from models.core.workflow import SEES_EVERY_TICKET, Actor, Role
from models.ticket import filters
from models.ticket.tables import Ticket

COUNT_CAP = 10_000  # the list says "10000 件以上" beyond this


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


def page(
    session: Session,
    actor: Actor,
    chosen: filters.TicketFilter,
    now: datetime,
    size: int,
    *,
    after: int | None = None,
    before: int | None = None,
) -> ListPage:
    """One page, newest first: older than ``after``, or the page just newer than ``before``."""
    where = [visible_to(actor), *filters.where(chosen, now)]
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
