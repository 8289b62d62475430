"""The ticket list's query (models/ticket/listing.py): its visibility rule is the workflow's
``can_view`` for every kind of person, as SQL."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from sqlalchemy import select

from bot.db import transaction
from models.core.workflow import Actor, Role, can_view
from models.people.tables import Department, Staff
from models.ticket import listing
from models.ticket.filters import TicketFilter
from models.ticket.service import snapshot
from models.ticket.tables import Ticket
from tests.factories import add_ticket


def test_the_list_shows_exactly_what_can_view_allows(runtime, demo):
    """Every actor × every ticket: the SQL visibility equals the workflow's rule."""
    now = datetime.now(UTC)
    with transaction(runtime.sessions) as session:
        departments = list(session.scalars(select(Department.name)))
        people = {s.name: s for s in session.scalars(select(Staff))}
        for index, (handling, receiving) in enumerate(
            itertools.product([None, *departments[:3]], [None, *departments[:3]])
        ):
            add_ticket(
                session,
                now,
                status="assigned",
                handler=None,
                department=handling,
                receiving_department_id=_department_id(session, receiving),
                registered_by="吴文" if index % 3 == 0 else None,
            )
        add_ticket(session, now, handler="王芳", department="市场发展部")
        actors = [
            Actor(Role(p.role), staff_id=p.id, department_id=p.department_id)
            for p in people.values()
        ] + [Actor(Role.HANDLER, staff_id=999), Actor(Role.CLERK, staff_id=None)]
        tickets = list(session.scalars(select(Ticket)))
        for actor in actors:
            rule = {t.id for t in tickets if can_view(snapshot(t), actor)}
            shown = listing.page(session, actor, TicketFilter(), now, 1000)
            assert {t.id for t in shown.tickets} == rule, actor
            assert shown.total == len(rule)


def _department_id(session, name):
    if name is None:
        return None
    return session.scalar(select(Department.id).where(Department.name == name))
