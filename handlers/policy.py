"""The workflow and deadline policy for handlers, built once per runtime.

``DomainPolicy`` holds the working-day calendar and the workflow settings; the runtime builds
it once (``Runtime.domain_policy``), keyed by the id of the general department (综合管理部).
"""

from __future__ import annotations

from sqlalchemy import select

from handlers.context import Context
from models.people.tables import Department
from models.ticket.service import DomainPolicy


def domain_policy(ctx: Context) -> DomainPolicy:
    """The policy for this runtime (built afresh only when there is no runtime)."""
    general_id = general_department_id(ctx)
    if ctx.services is None:
        return DomainPolicy.from_settings(ctx.settings, general_id)
    return ctx.services.domain_policy(general_id)


def general_department_id(ctx: Context) -> int | None:
    name = ctx.settings.workflow.general_department
    return ctx.session.scalar(select(Department.id).where(Department.name == name))
