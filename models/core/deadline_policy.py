"""The deadline policy (时限规则): which limit each clock has and when its alerts fall.

Pure: the SLA limits (`models.core.sla`) and the working-day calendar, built once per process
by the runtime. The database side (starting, stopping and sweeping clocks) is
`models.ticket.clocks` and `models.ticket.alerts`.

Alerts of one clock, in time order (PRODUCT §4): a reminder at each `sla.remind_at` fraction of
the time, the breach at the due moment, then the leader's escalation one working day later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.core import sla
from models.core.workcalendar import WorkCalendar

BREACH = "breach"
ESCALATE = "escalate"


@dataclass(frozen=True)
class Stage:
    name: str  # remind:0.5 | remind:0.8 | breach | escalate
    at: datetime


@dataclass(frozen=True)
class DeadlinePolicy:
    sla: sla.SlaPolicy
    calendar: WorkCalendar
    timezone: str

    def stages(self, clock: str, started_at: datetime, due_at: datetime) -> list[Stage]:
        """The alerts of one clock in time order."""
        deadline = sla.Deadline(clock, started_at, due_at)
        stages = [
            Stage(f"remind:{fraction:g}", at)
            for fraction, at in sla.reminder_times(deadline, self.sla.remind_at)
            if fraction < 1
        ]
        stages.append(Stage(BREACH, due_at))
        escalate_at, _ = self.calendar.add_workdays(due_at, 1)
        stages.append(Stage(ESCALATE, escalate_at))
        return stages

    def compute(self, clock: str, started_at: datetime, severity: str) -> sla.Deadline:
        """The deadline of `clock` started at `started_at` for a ticket of `severity`."""
        if clock == sla.CONTACT:
            return sla.contact_deadline(started_at, self.sla, self.timezone)
        if clock == sla.ROUTE:
            return sla.route_deadline(started_at, self.sla, self.timezone)
        if clock == sla.INVESTIGATE:
            return sla.investigate_deadline(started_at, self.sla, self.timezone)
        if clock == sla.RESOLVE:
            return sla.resolve_deadline(started_at, severity, self.sla, self.calendar)
        if clock == sla.CALLBACK:
            return sla.callback_deadline(started_at, self.sla, self.timezone)
        raise ValueError(f"unknown clock {clock!r}")

    def recounted(self, started_at: datetime, workdays: int) -> sla.Deadline:
        """A working-day deadline counted again on this policy's calendar."""
        return sla.recounted_deadline(started_at, workdays, self.calendar)

    def extended(self, approved_at: datetime, workdays: int) -> sla.Deadline:
        """延期: a new resolve deadline counted from the approval."""
        return sla.extended_deadline(approved_at, workdays, self.calendar)
