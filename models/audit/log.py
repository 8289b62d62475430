"""The one writer of the audit log (审计日志), and its reading for the /audit page.

Every audited action calls `record` in the transaction of the change it reports, so the entry
exists exactly when the change does. Sign-in events have no other change: the back office
calls `record` in a transaction of their own. `Who` says who acted and from where; the CLI
and the jobs use `Who.cli()` and `Who.system()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.audit.tables import AuditEntry
from models.core.workflow import Actor, Role
from models.people.tables import Staff

# What is audited (the /audit page shows the Chinese label).
ACTIONS = {
    "sign_in": "登录",
    "sign_in_failed": "登录失败",
    "sign_out": "退出登录",
    "password": "修改密码",
    "staff_add": "添加员工",
    "staff_edit": "修改员工",
    "staff_role": "变更角色",
    "staff_deactivate": "停用员工",
    "staff_activate": "启用员工",
    "department_add": "添加部门",
    "department_edit": "修改部门",
    "designation": "指定专人",
    "binding_code": "发放绑定码",
    "bind": "绑定微信",
    "unbind": "解除绑定",
    "notice_edit": "修改通报",
    "notice_draft": "起草通报",
    "notice_publish": "发布通报",
    "notice_withdraw": "撤回通报",
    "calendar_change": "修改工作日历",
    "calendar_remove": "删除工作日历",
    "message_resend": "重发消息",
    "export": "导出",
}


@dataclass(frozen=True)
class Who:
    """Who acted, in which role, from where (a client address, "cli", "wechat", "system")."""

    name: str
    role: str
    address: str
    staff_id: int | None = None

    @classmethod
    def staff(cls, member: Staff, address: str) -> Who:
        return cls(name=member.name, role=member.role, address=address, staff_id=member.id)

    @classmethod
    def cli(cls) -> Who:
        return cls(name="命令行", role="system", address="cli")

    @classmethod
    def system(cls) -> Who:
        return cls(name="系统", role="system", address="system")

    def actor(self, channel: str) -> Actor:
        """The same person as a workflow actor, for timeline events."""
        role = Role(self.role) if self.role in Role._value2member_map_ else Role.SYSTEM
        return Actor(role=role, staff_id=self.staff_id, name=self.name, channel=channel)


def record(
    session: Session, who: Who, action: str, now: datetime, *, target: str = "", detail: str = ""
) -> AuditEntry:
    """Append one entry; `action` is a key of ACTIONS. Never commits."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(
        at=now,
        actor_staff_id=who.staff_id,
        actor_name=who.name[:50],
        actor_role=who.role[:20],
        address=who.address[:64],
        action=action,
        target=target[:100],
        detail=detail,
    )
    session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    staff_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def entries(
    session: Session, where: AuditFilter, *, before_id: int | None = None, limit: int = 50
) -> list[AuditEntry]:
    """Newest first, a page at a time (keyset on the id: pass the last id shown)."""
    statement = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if where.action:
        statement = statement.where(AuditEntry.action == where.action)
    if where.staff_id is not None:
        statement = statement.where(AuditEntry.actor_staff_id == where.staff_id)
    if where.since is not None:
        statement = statement.where(AuditEntry.at >= where.since)
    if where.until is not None:
        statement = statement.where(AuditEntry.at < where.until)
    if before_id is not None:
        statement = statement.where(AuditEntry.id < before_id)
    return list(session.scalars(statement))
