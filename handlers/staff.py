"""What a bound staff member can say in WeChat: the commands of PRODUCT §6.

An explicit table maps each command to its function, the roles that may use it and its usage
line. The order of checks: the sender's role, the arguments, the ticket (one they cannot see
answers exactly like one that does not exist), then the workflow's own rules. State-changing
commands lock the ticket row and go through ``models.ticket.service.perform``; the caller owns
the transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from handlers import staff_texts as texts
from handlers.context import Context
from handlers.incoming import IncomingMessage
from models.core import commands as staff_commands
from models.core.commands import ParsedCommand
from models.core.figures import named_period
from models.core.labels import ROLE_LABELS, STAFF_ROLES
from models.core.workflow import MOVE_LABELS, Move, MoveRefused, Severity, can_view
from models.core.workflow_rules import MOVE_ROLES
from models.figures import compute as figures
from models.people.tables import Department, Staff
from models.ticket import intake as tickets
from models.ticket import queries as ticket_queries
from models.ticket.service import actor_for_staff, perform, snapshot

LIST_LIMIT = 10
SILENT_EVENTS = frozenset(
    {"unsubscribe", "view", "location", "templatesendjobfinish", "view_miniprogram"}
)

Args = Mapping[str, Any]
Runner = Callable[[Context, Staff, ParsedCommand], str]
MoveBuilder = Callable[[Context, Args], Move]


@dataclass(frozen=True)
class StaffCommand:
    """One row of the command table: what runs, who may run it, how it is typed."""

    run: Runner
    roles: frozenset[str]
    usage: str


def handle(ctx: Context, staff: Staff, message: IncomingMessage) -> str:
    """The reply to one message from a bound staff member ("" means say nothing)."""
    if message.kind == "event":
        return _event(staff, message)
    parsed = staff_commands.parse(message.text) if message.kind == "text" else None
    if parsed is None:
        return texts.UNKNOWN_HINT
    return texts.scrub_phones(_command_reply(ctx, staff, parsed))


def _command_reply(ctx: Context, staff: Staff, parsed: ParsedCommand) -> str:
    """Role first, then arguments, then the command itself."""
    command = COMMANDS[parsed.name]
    if staff.role not in command.roles:
        labels = [ROLE_LABELS[role] for role in STAFF_ROLES if role in command.roles]
        return texts.role_refused(parsed.name, labels, command.usage)
    if not parsed.ok:
        return texts.failure(parsed.error, command.usage)
    return command.run(ctx, staff, parsed)


def _event(staff: Staff, message: IncomingMessage) -> str:
    if message.event in SILENT_EVENTS:
        return ""
    return texts.WELCOME.format(name=staff.name, role=ROLE_LABELS.get(staff.role, staff.role))


def allowed_commands(role: str) -> list[str]:
    """Commands a role may use, in table order (for 帮助)."""
    return [name for name, command in COMMANDS.items() if role in command.roles]


# --- read-only commands --------------------------------------------------------------------


def _help(ctx: Context, staff: Staff, parsed: ParsedCommand) -> str:
    table = COMMANDS
    usages = [table[name].usage for name in allowed_commands(staff.role)]
    return texts.help_text(
        staff.name,
        ROLE_LABELS.get(staff.role, staff.role),
        usages,
        ctx.policy.workflow.general_department,
    )


def _todo(ctx: Context, staff: Staff, parsed: ParsedCommand) -> str:
    page = ticket_queries.todo(ctx.session, staff.role, staff.id, staff.department_id, LIST_LIMIT)
    return texts.todo_list(page, _zone(ctx), ctx.now)


def _overdue(ctx: Context, staff: Staff, parsed: ParsedCommand) -> str:
    page = ticket_queries.overdue(ctx.session, ctx.now, LIST_LIMIT)
    return texts.overdue_list(page, _zone(ctx), ctx.now)


def _stats(ctx: Context, staff: Staff, parsed: ParsedCommand) -> str:
    period = named_period(parsed.args["period"], ctx.now, ctx.policy.timezone)
    values = figures.figures(ctx.session, period, ctx.now)
    return texts.stats(values, period, ctx.settings.figures, _zone(ctx))


def _show(ctx: Context, staff: Staff, parsed: ParsedCommand) -> str:
    number = parsed.args["number"]
    ticket = tickets.find_by_number(ctx.session, number)
    if ticket is None or not can_view(snapshot(ticket), actor_for_staff(staff)):
        return texts.failure(texts.NOT_FOUND.format(number=number), _usage(parsed))
    return texts.ticket_detail(ticket, _zone(ctx), ctx.now)


# --- moves ---------------------------------------------------------------------------------


def _move(kind: str, build: MoveBuilder) -> Runner:
    """A command that makes one workflow move on a locked ticket."""

    def run(ctx: Context, staff: Staff, parsed: ParsedCommand) -> str:
        number = parsed.args["number"]
        ticket = ticket_queries.lock_by_number(ctx.session, number)
        actor = actor_for_staff(staff)
        if ticket is None or not can_view(snapshot(ticket), actor):
            return texts.failure(texts.NOT_FOUND.format(number=number), _usage(parsed))
        try:
            move = build(ctx, parsed.args)
            outcome = perform(ctx.session, ticket, actor, move, ctx.now, ctx.policy)
        except MoveRefused as refused:
            return texts.failure(refused.reason, _usage(parsed))
        return texts.move_done(MOVE_LABELS[kind], ticket, outcome.event_text, _zone(ctx), ctx.now)

    return run


def _note(kind: str) -> MoveBuilder:
    """A move whose only argument is its (required or optional) text."""
    return lambda ctx, args: Move(kind, text=args.get("text", ""))


def _assign_move(ctx: Context, args: Args) -> Move:
    department = find_department(ctx, args["department"])
    handler = find_handler(ctx, department, args.get("handler"))
    return Move(
        "assign",
        department_id=department.id,
        handler_id=handler.id if handler else None,
        text=args.get("text", ""),
        department_name=department.name,
        handler_name=handler.name if handler else "",
    )


def find_department(ctx: Context, name: str) -> Department:
    """The department named exactly, or the only one whose name starts with ``name``."""
    departments = ticket_queries.departments(ctx.session)
    exact = [d for d in departments if d.name == name]
    matches = exact or [d for d in departments if d.name.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    names = "、".join(d.name for d in (matches or departments)) or "（尚未设置部门）"
    if matches:
        raise MoveRefused(f"部门「{name}」不唯一，请写全称：{names}")
    raise MoveRefused(f"未找到部门「{name}」。可选部门：{names}")


def find_handler(ctx: Context, department: Department, name: str | None) -> Staff | None:
    """The named handler (承办人) within the department; None when no name was given."""
    if name is None:
        return None
    candidates = ticket_queries.assignable_staff(ctx.session, department.id)
    for candidate in candidates:
        if candidate.name == name:
            return candidate
    names = "、".join(c.name for c in candidates) or "（该部门暂无可指定的人员）"
    raise MoveRefused(f"{department.name}没有名为「{name}」的承办人。可选：{names}")


def _escalate_move(ctx: Context, args: Args) -> Move:
    return Move("escalate", severity=Severity(args["severity"]), text=args.get("text", ""))


def _extend_move(ctx: Context, args: Args) -> Move:
    return Move("extend", workdays=args["workdays"], text=args.get("text", ""))


def _money_move(ctx: Context, args: Args) -> Move:
    return Move(
        "request_money",
        money_kind=args["money_kind"],
        amount=args["amount"],
        text=args.get("text", ""),
    )


def _decide_money_move(ctx: Context, args: Args) -> Move:
    return Move("decide_money", approve=args["approve"], text=args.get("text", ""))


def _callback_move(ctx: Context, args: Args) -> Move:
    return Move("callback", satisfied=args["satisfied"], text=args.get("text", ""))


# --- the table -----------------------------------------------------------------------------

HANDLING = frozenset({"handler", "dept_head", "officer"})  # officer: when named handler
READERS = frozenset(STAFF_ROLES)
SUPERVISORS = frozenset({"officer", "leader"})


def _may_move(kind: str) -> frozenset[str]:
    """Staff roles the workflow lets make a move: declared once, in MOVE_ROLES."""
    return frozenset(str(role) for role in MOVE_ROLES[kind]) & READERS


def _moving(name: str, kind: str, build: MoveBuilder) -> tuple[str, Runner, frozenset[str]]:
    return (name, _move(kind, build), _may_move(kind))


COMMAND_ROWS: tuple[tuple[str, Runner, frozenset[str]], ...] = (
    ("待办", _todo, HANDLING),
    ("查看", _show, READERS),
    _moving("接单", "ack", _note("ack")),
    _moving("进展", "progress", _note("progress")),
    _moving("办结", "resolve", _note("resolve")),
    _moving("说明", "explain", _note("explain")),
    _moving("申请", "request_money", _money_move),
    _moving("派单", "assign", _assign_move),
    _moving("无效", "invalid", _note("invalid")),
    _moving("升级", "escalate", _escalate_move),
    _moving("延期", "extend", _extend_move),
    _moving("催办", "urge", _note("urge")),
    _moving("回访", "callback", _callback_move),
    _moving("审批", "decide_money", _decide_money_move),
    _moving("签批", "signoff", _note("signoff")),
    ("超期", _overdue, SUPERVISORS),
    ("统计", _stats, frozenset({"officer", "leader", "executive"})),
    ("帮助", _help, READERS),
)
# Every staff command, in the order 帮助 lists them.
COMMANDS: dict[str, StaffCommand] = {
    name: StaffCommand(run, roles, staff_commands.usage(name)) for name, run, roles in COMMAND_ROWS
}


def _usage(parsed: ParsedCommand) -> str:
    return staff_commands.usage(parsed.name)


def _zone(ctx: Context) -> ZoneInfo:
    return ctx.zone
