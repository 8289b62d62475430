"""Which tickets a list, an export or a figure's drill-down means: one small typed value.

The back office's ticket list (`/tickets?…`), the ledger (台账) export and the dashboard's
links all read a `TicketFilter` from URL parameters (`from_params`) and write it back
(`to_params`), and select with `where`: the list shows exactly what the export writes and
what a figure counts.

- ``period``: received (登记) in the period; with ``measure`` it is the figure's period.
- ``measure``: the tickets behind one figure (`models.figures.sources.MEASURES`), in the
  period and scope of the other fields (``clock`` and ``stars`` narrow it further).
- ``person_record``: the tickets behind one person's praise, criticism or breach records
  (`models.figures.people.record_tickets`), with ``staff_id`` the person and the period and
  scope of the other fields, as ``measure``. The figures count records, the list shows the
  distinct tickets behind them; a record without a ticket (a business rating's) is not listed.
- ``search``: a ticket number, a phone number (or its last four digits), a 户号, the
  government platform's number, the customer's name, or part of the address.
- ``urgent`` / ``callback``: a reported gas leak; a phone call-back waiting (the officer's list).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, or_

from models.core.figures import EVERYTHING, OPEN_STATUSES, Period, Scope, between
from models.core.labels import SEVERITY_LABELS, STATUS_LABELS
from models.core.phones import normalize_phone
from models.figures.people import RECORD_KINDS, record_tickets
from models.figures.sources import MEASURES, overdue_condition, responsible_department
from models.figures.sources import tickets_behind as figure_tickets
from models.ticket.tables import Ticket

OPEN = "open"  # a status filter meaning every status still in the loop
FLAGS = ("overdue", "repeat", "accountability", "urgent", "callback")
TICKET_NUMBER = re.compile(r"TS\d{12}", re.IGNORECASE)
SEARCH_CHARS = 50
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # a figure's drill-down without a period


class FilterError(ValueError):
    """A parameter that cannot be understood; the message is Chinese and names it."""


@dataclass(frozen=True)
class TicketFilter:
    status: str | None = None
    department_id: int | None = None
    appeal_type: str | None = None
    channel: str | None = None
    severity: str | None = None
    staff_id: int | None = None
    overdue: bool = False
    repeat: bool = False
    accountability: bool = False
    urgent: bool = False  # a reported gas leak (燃气泄漏)
    callback: bool = False  # a phone call-back waits on the officer's list (待电话回访)
    period: Period | None = None
    search: str = ""
    measure: str = ""
    clock: str | None = None
    stars: int | None = None
    person_record: str = ""  # praise | criticism | breach: a person's records (个人记录)

    def scope(self) -> Scope:
        return Scope(
            department_id=self.department_id,
            appeal_type=self.appeal_type,
            channel=self.channel,
            severity=self.severity,
            staff_id=self.staff_id,
        )

    def but(self, **changes) -> TicketFilter:
        return replace(self, **changes)

    def to_params(self, timezone: str) -> dict[str, str]:
        """URL parameters (only those set), the inverse of `from_params`."""
        params = {}
        for name, key in PARAMS.items():
            value = getattr(self, name)
            if value in (None, "", False):
                continue
            params[key] = "1" if value is True else str(value)
        if self.period is not None:
            first, last = self.period.local_dates(timezone)
            params["from"], params["to"] = first.isoformat(), last.isoformat()
        return params

    @classmethod
    def from_params(cls, params, timezone: str) -> TicketFilter:
        """Read URL parameters; FilterError (Chinese, naming the parameter) when one is bad."""
        values: dict = {}
        for name, key in PARAMS.items():
            raw = (params.get(key) or "").strip()
            if raw:
                values[name] = _parse(name, key, raw)
        values["period"] = _period(params.get("from"), params.get("to"), timezone)
        return cls(**values)


# attribute → URL parameter
PARAMS = {
    "status": "status",
    "department_id": "dept",
    "appeal_type": "type",
    "channel": "channel",
    "severity": "severity",
    "staff_id": "person",
    "overdue": "overdue",
    "repeat": "repeat",
    "accountability": "accountability",
    "urgent": "urgent",
    "callback": "callback",
    "search": "q",
    "measure": "measure",
    "clock": "clock",
    "stars": "stars",
    "person_record": "record",
}


def _parse(name: str, key: str, raw: str) -> object:
    if name in FLAGS:
        if raw not in ("1", "0", "true", "false"):
            raise FilterError(f"参数 {key} 只能是 1 或 0")
        return raw in ("1", "true")
    if name in ("department_id", "staff_id", "stars"):
        if not raw.isdigit():
            raise FilterError(f"参数 {key} 须为数字")
        number = int(raw)
        if name == "stars" and not 1 <= number <= 5:
            raise FilterError("参数 stars 须在 1 到 5 之间")
        return number
    if name == "status" and raw != OPEN and raw not in STATUS_LABELS:
        raise FilterError(f"参数 status 无效：{raw}（可选：{OPEN}、{'、'.join(STATUS_LABELS)}）")
    if name == "severity" and raw not in SEVERITY_LABELS:
        raise FilterError(f"参数 severity 无效：{raw}（可选：{'、'.join(SEVERITY_LABELS)}）")
    if name == "measure" and raw not in MEASURES:
        raise FilterError(f"参数 measure 无效：{raw}")
    if name == "person_record" and raw not in RECORD_KINDS:
        raise FilterError(f"参数 record 无效：{raw}（可选：{'、'.join(RECORD_KINDS)}）")
    return raw[:SEARCH_CHARS] if name == "search" else raw


def _period(first: str | None, last: str | None, timezone: str) -> Period | None:
    if not first and not last:
        return None
    try:
        start = date.fromisoformat(first) if first else None
        end = date.fromisoformat(last) if last else None
    except ValueError as exc:
        raise FilterError("参数 from / to 须为日期，如 2026-11-01") from exc
    start, end = start or end, end or start
    if end < start:
        raise FilterError("参数 to 早于 from")
    return between(start, end, timezone)


def where(selection: TicketFilter, now: datetime) -> list[ColumnElement[bool]]:
    """The conditions on `tickets` that select exactly the filtered tickets."""
    conditions = []
    if selection.measure or selection.person_record:
        conditions += _behind_figures(selection, selection.period or Period(EARLIEST, now), now)
    else:
        conditions += _scope(selection.scope())
        if selection.period is not None:
            conditions.append(Ticket.created_at >= selection.period.start)
            conditions.append(Ticket.created_at < selection.period.end)
    conditions += _status(selection.status)
    if selection.overdue:
        conditions.append(overdue_condition(now))
    if selection.repeat:
        conditions.append(Ticket.repeat_flag.is_(True))
    if selection.accountability:
        conditions.append(Ticket.accountability_flag.is_(True))
    if selection.urgent:
        conditions.append(Ticket.urgent.is_(True))
    if selection.callback:
        conditions.append(Ticket.phone_callback.is_(True))
    if selection.search:
        conditions.append(_search(selection.search))
    return conditions


def _behind_figures(
    selection: TicketFilter, period: Period, now: datetime
) -> list[ColumnElement[bool]]:
    """The tickets behind a figure and/or a person's records, in the figure's period and
    scope (not received in the period)."""
    conditions = []
    if selection.measure:
        conditions.append(
            figure_tickets(
                selection.measure,
                period,
                selection.scope(),
                now,
                clock=selection.clock,
                stars=selection.stars,
            )
        )
    if selection.person_record:
        # Records are counted, tickets listed: each ticket once, records without one left out.
        conditions.append(record_tickets(selection.person_record, period, selection.scope()))
    return conditions


def _scope(scope: Scope) -> list[ColumnElement[bool]]:
    if scope == EVERYTHING:
        return []
    wanted = [
        (responsible_department(), scope.department_id),
        (Ticket.appeal_type, scope.appeal_type),
        (Ticket.source_channel, scope.channel),
        (Ticket.severity, scope.severity),
        (Ticket.handler_id, scope.staff_id),
    ]
    return [column == value for column, value in wanted if value is not None]


def _status(status: str | None) -> list[ColumnElement[bool]]:
    if status is None:
        return []
    if status == OPEN:
        return [Ticket.status.in_(OPEN_STATUSES)]
    return [Ticket.status == status]


def _search(text: str) -> ColumnElement[bool]:
    text = unicodedata.normalize("NFKC", text).strip()
    if TICKET_NUMBER.fullmatch(text):
        return Ticket.number == text.upper()
    digits = re.sub(r"[\s-]", "", text)
    like = f"%{_escape(text)}%"
    options = [
        Ticket.address.like(like, escape="\\"),
        Ticket.gas_account == text,
        Ticket.external_number == text,  # the government platform's number
        Ticket.customer_name == text,
    ]
    phone = normalize_phone(text)
    if phone:
        options.append(Ticket.phone == phone)  # 0558 2703802 finds 0558-2703802
    if digits.isdigit():
        options += [Ticket.phone == digits, Ticket.number.like(f"%{digits}%")]
        if len(digits) == 4:
            options.append(Ticket.phone.endswith(digits))  # 尾号
    return or_(*options)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
