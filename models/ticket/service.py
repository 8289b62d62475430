"""Applies the workflow's decisions to the database, in the caller's transaction.

`perform` loads a snapshot, asks `models.core.workflow.decide`, then updates the columns, writes
exactly one timeline event, the notification rows and the SLA clocks. It never commits.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from models.core.deadline_policy import DeadlinePolicy
from models.core.policy import DomainPolicy
from models.core.workflow import (
    Actor,
    ClockChange,
    Move,
    MoveRefused,
    Outcome,
    Role,
    Severity,
    Status,
    TicketSnapshot,
    decide,
)
from models.notification import outbox as notifications
from models.people.tables import Staff
from models.ticket import clocks as deadlines
from models.ticket import timeline
from models.ticket.tables import Ticket

CALLBACK_DONE = ("archived", "reopened")

__all__ = ["MoveRefused", "actor_for_staff", "apply_clock", "perform", "snapshot"]


def snapshot(ticket: Ticket) -> TicketSnapshot:
    return TicketSnapshot(
        id=ticket.id,
        number=ticket.number,
        status=Status(ticket.status),
        severity=Severity(ticket.severity),
        source_channel=ticket.source_channel,
        receiving_department_id=ticket.receiving_department_id,
        handling_department_id=ticket.handling_department_id,
        handler_id=ticket.handler_id,
        money_status=ticket.money_status,
        money_kind=ticket.money_kind,
        money_amount=str(ticket.money_amount) if ticket.money_amount is not None else "",
        rounds=ticket.rounds,
        escalation_level=ticket.escalation_level,
        leader_signed_off=ticket.leader_signed_off,
        explanation_pending=ticket.explanation_pending,
        customer_id=ticket.customer_id,
        has_open_repeat=ticket.repeat_flag,
        repeat_overdue=ticket.accountability_flag,
        registered_by_id=ticket.registered_by_id,
        phone_callback=ticket.phone_callback,
    )


def actor_for_staff(staff: Staff, channel: str = "wechat") -> Actor:
    return Actor(
        role=Role(staff.role),
        staff_id=staff.id,
        department_id=staff.department_id,
        name=staff.name,
        channel=channel,
    )


def perform(
    session: Session, ticket: Ticket, actor: Actor, move: Move, now: datetime, policy: DomainPolicy
) -> Outcome:
    """Decide and apply one move; raises MoveRefused and then changes nothing."""
    outcome = decide(snapshot(ticket), actor, move, policy.workflow)
    from_status = ticket.status
    if outcome.event_kind in CALLBACK_DONE:
        _record_callback(ticket, outcome.event_kind == "archived", now)
    _apply_changes(ticket, outcome.changes, now, policy)
    ticket.updated_at = now
    timeline.record(
        session, ticket, outcome.event_kind, actor, outcome.event_text, now, from_status=from_status
    )
    for change in outcome.clocks:
        apply_clock(session, ticket, change, now, policy.deadlines)
    for notice in outcome.notices:
        notifications.notify(session, notice.recipient, notice.kind, ticket, notice.payload, now)
    return outcome


def _record_callback(ticket: Ticket, satisfied: bool, now: datetime) -> None:
    """A call-back answer: its phone task is done; the figures' first and latest answers,
    credited to the handler who resolved the round (still the handler while resolved)."""
    ticket.phone_callback = False
    if ticket.first_callback_at is None:
        ticket.first_callback_at = now
        ticket.first_callback_satisfied = satisfied
        ticket.first_callback_staff_id = ticket.handler_id
    ticket.last_callback_at = now
    ticket.last_callback_satisfied = satisfied
    ticket.last_callback_staff_id = ticket.handler_id


def _apply_changes(ticket: Ticket, changes: dict, now: datetime, policy: DomainPolicy) -> None:
    for column, value in changes.items():
        if isinstance(value, Enum):
            value = value.value
        if column == "money_amount":
            value = Decimal(value) if value not in ("", None) else None
        setattr(ticket, column, value)
    if changes.get("status") == Status.RESOLVED:
        ticket.resolved_on = now.astimezone(_zone(policy)).date()
        ticket.responsible_person = responsible_person(ticket)


def responsible_person(ticket: Ticket) -> str:
    """负责人 on the form: the handling department's head (承办部门负责人签字, the policy's
    第四条 1), or the handler when the department has no head."""
    department = ticket.handling_department
    heads = [
        member
        for member in (department.staff if department is not None else [])
        if member.role == "dept_head" and member.active
    ]
    if heads:
        return min(heads, key=lambda member: member.id).name
    return ticket.handler.name if ticket.handler else ""


def _zone(policy: DomainPolicy) -> ZoneInfo:
    return ZoneInfo(policy.timezone)


def apply_clock(
    session: Session, ticket: Ticket, change: ClockChange, now: datetime, policy: DeadlinePolicy
) -> None:
    if change.action == "start":
        deadlines.start(session, ticket, change.clock, now, policy)
    elif change.action == "stop":
        deadlines.stop(ticket, change.clock, now)
    elif change.action == "restart":
        deadlines.restart(session, ticket, change.clock, now, policy)
    elif change.action == "extend":
        deadlines.extend(session, ticket, change.workdays, now, policy)
    else:
        raise ValueError(f"unknown clock action {change.action!r}")
