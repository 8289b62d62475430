"""Value types of the ticket workflow (工单闭环): enums, snapshots, moves and outcomes.

Pure standard library; see ``models.core.workflow`` for the rules and the public entry points.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from models.core.payload import Payload


class Status(StrEnum):
    """Where a ticket stands in the closed loop (闭环状态)."""

    RECEIVED = "received"
    ASSIGNED = "assigned"
    PROCESSING = "processing"
    RESOLVED = "resolved"
    ARCHIVED = "archived"
    INVALID = "invalid"


class Severity(StrEnum):
    """一般 / 复杂（较大、复杂） / 重大."""

    GENERAL = "general"
    COMPLEX = "complex"
    MAJOR = "major"


class Role(StrEnum):
    """Who is acting; see PRODUCT §1."""

    CUSTOMER = "customer"
    HANDLER = "handler"
    DEPT_HEAD = "dept_head"
    OFFICER = "officer"
    LEADER = "leader"
    EXECUTIVE = "executive"
    CLERK = "clerk"
    SYSTEM = "system"


# 投诉来源: the policy's eight channels (PRODUCT §2).
SOURCE_CHANNELS = (
    "24小时客服热线",
    "投诉电话",
    "门户网站",
    "微信公众号",
    "意见箱/意见簿",
    "董事长信箱",
    "政府投诉平台",
    "来访",
)
GOVERNMENT_CHANNEL = "政府投诉平台"
WECHAT_CHANNEL = "微信公众号"
MONEY_KINDS = ("退款", "赔款", "折让")

MOVE_KINDS = (
    "assign",
    "ack",
    "progress",
    "resolve",
    "explain",
    "extend",
    "request_money",
    "decide_money",
    "invalid",
    "escalate",
    "urge",
    "callback",
    "signoff",
)

MOVE_LABELS = {
    "assign": "派单",
    "ack": "接单",
    "progress": "进展",
    "resolve": "办结",
    "explain": "说明",
    "extend": "延期",
    "request_money": "申请",
    "decide_money": "审批",
    "invalid": "无效",
    "escalate": "升级",
    "urge": "催办",
    "callback": "回访",
    "signoff": "签批",
}


@dataclass(frozen=True)
class Actor:
    """The person (or the system) asking for a move.

    ``customer_id`` identifies a customer actor; it must match the ticket's ``customer_id``.
    ``channel`` is one of wechat | web | phone | system.
    """

    role: Role
    staff_id: int | None = None
    department_id: int | None = None
    name: str = ""
    channel: str = "wechat"
    customer_id: int | None = None


@dataclass(frozen=True)
class TicketSnapshot:
    """A ticket as loaded by the database layer; never mutated here."""

    id: int
    number: str
    status: Status
    severity: Severity
    source_channel: str
    receiving_department_id: int | None
    handling_department_id: int | None
    handler_id: int | None
    money_status: str = "none"
    money_kind: str = ""
    money_amount: str = ""
    rounds: int = 0
    escalation_level: int = 0
    leader_signed_off: bool = False
    explanation_pending: bool = False
    customer_id: int | None = None
    has_open_repeat: bool = False
    repeat_overdue: bool = False
    registered_by_id: int | None = None  # the staff member who registered it (登记人)
    phone_callback: bool = False  # a phone call-back (电话回访) is on the officer's list


@dataclass(frozen=True)
class WorkflowConfig:
    """``[workflow]`` in config.toml: the PRODUCT **(decision)** items of the loop.

    - ``max_rounds``: unsatisfied call-back rounds after which a leader must sign off (签批).
    - ``repeat_window_days``: an earlier ticket closed within this many days makes a repeat.
    - ``general_department``: 综合管理部, which routes complex and major tickets.
    - ``max_extension_workdays``: the longest extension (延期) an officer may grant.
    """

    max_rounds: int = 3
    repeat_window_days: int = 30
    general_department: str = "综合管理部"
    max_extension_workdays: int = 20


@dataclass(frozen=True)
class Move:
    """What someone asked for. ``department_name``/``handler_name`` only feed the timeline text."""

    kind: str
    department_id: int | None = None
    handler_id: int | None = None
    text: str = ""
    severity: Severity | None = None
    workdays: int | None = None
    money_kind: str = ""
    amount: str = ""
    approve: bool | None = None
    satisfied: bool | None = None
    department_name: str = ""
    handler_name: str = ""


@dataclass(frozen=True)
class Notice:
    """A notification row to write.

    ``recipient``: "officer" | "leader" | "executive" | "customer" | "dept_head" | "staff:<id>";
    "dept_head" means the head of ``payload.department_id``. Every payload carries
    ``ticket_id`` and ``number``.
    """

    recipient: str
    kind: str
    payload: Payload


@dataclass(frozen=True)
class ClockChange:
    """An SLA clock operation.

    start: begin the clock now (no-op if already running); stop: stop it (no-op if not running);
    restart: stop and begin afresh now with the ticket's current severity; extend: push the
    running deadline back by ``workdays`` working days, keeping the original in the record.
    """

    action: str
    clock: str
    workdays: int | None = None


@dataclass(frozen=True)
class Outcome:
    """What an accepted move does; the database layer applies it in one transaction."""

    changes: dict
    event_kind: str
    event_text: str
    notices: tuple[Notice, ...] = ()
    clocks: tuple[ClockChange, ...] = ()


class MoveRefused(Exception):
    """A move that is not allowed; ``reason`` is Chinese, ready for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
