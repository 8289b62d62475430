"""The workflow and deadline policy for handlers, built once per runtime.

``DomainPolicy`` holds the working-day calendar and the workflow settings; building it is not
free, so the first message that needs it stores it on the runtime (``ctx.services``), keyed by
the id of the general department (综合管理部) so that a re-created department is noticed.
"""

from __future__ import annotations

from sqlalchemy import select

from handlers.context import Context
from models.people import Department
from models.ticket_service import DomainPolicy

CACHE_ATTRIBUTE = "_bihuan_domain_policy"


def domain_policy(ctx: Context) -> DomainPolicy:
    """The policy for this runtime; cached on ``ctx.services`` when there is one."""
    general_id = general_department_id(ctx)
    cached = getattr(ctx.services, CACHE_ATTRIBUTE, None) if ctx.services is not None else None
    if cached is not None and cached[0] == general_id:
        return cached[1]
    deadlines = ctx.services.deadline_policy() if ctx.services is not None else None
    policy = DomainPolicy.from_settings(ctx.settings, general_id, deadlines)
    if ctx.services is not None:
        setattr(ctx.services, CACHE_ATTRIBUTE, (general_id, policy))
    return policy


def general_department_id(ctx: Context) -> int | None:
    name = ctx.settings.workflow.general_department
    return ctx.session.scalar(select(Department.id).where(Department.name == name))
