"""`bihuan staff`: add, edit, deactivate and list staff, issue WeChat binding codes (绑定码),
unbind, designate the call-back staff and the officer on duty. The same functions as the back
office's /staff page (`models.people.staff`, `models.people.designations`), audited as 命令行."""

from __future__ import annotations

import sys
import unicodedata
from datetime import UTC, datetime
from typing import NoReturn
from zoneinfo import ZoneInfo

import click

HEADERS = ("编号", "姓名", "部门", "角色", "绑定", "手机")


@click.group()
def staff() -> None:
    """Staff accounts (员工) and their WeChat binding."""


@staff.command("add")
@click.argument("name")
@click.option("--dept", "department", required=True, help="部门名称，如 运行维护部")
@click.option("--role", required=True, help="handler|dept_head|officer|leader|executive|clerk")
@click.option("--phone", default="", help="手机号码")
@click.pass_obj
def staff_add(obj, name: str, department: str, role: str, phone: str) -> None:
    """Add a staff member to an existing department."""
    from sqlalchemy.exc import IntegrityError

    from bot.db import transaction
    from models.audit.log import Who
    from models.core.labels import ROLE_LABELS
    from models.people.staff import StaffError, add_staff

    try:
        with transaction(obj.runtime.sessions) as session:
            member = add_staff(session, name, department, role, _now(), phone=phone, who=Who.cli())
            member_id = member.id
    except StaffError as exc:
        _fail(str(exc))
    except IntegrityError:
        _fail(f"员工 {name.strip()} 已存在")
    click.echo(
        f"已添加员工 {name.strip()}（编号 {member_id}，{department}，{ROLE_LABELS[role]}）。"
        f"发送绑定码：bihuan staff code {name.strip()}"
    )


@staff.command("list")
@click.pass_obj
def staff_list(obj) -> None:
    """Every staff member: department, role, bound or not, masked phone."""
    from bot.db import transaction
    from models.people.staff import all_staff

    with transaction(obj.runtime.sessions) as session:
        rows = [_row(member) for member in all_staff(session)]
    if not rows:
        click.echo("还没有员工。添加：bihuan staff add 姓名 --dept 部门 --role 角色")
        return
    for line in format_table(HEADERS, rows):
        click.echo(line)


def _row(member) -> tuple[str, ...]:
    from models.core.labels import ROLE_LABELS
    from models.core.phones import mask_phone

    department = member.department.name if member.department is not None else "—"
    role = f"{ROLE_LABELS.get(member.role, member.role)}({member.role})"
    bound = "已绑定" if member.openid else "未绑定"
    if not member.active:
        bound += "(停用)"
    phone = mask_phone(member.phone) if member.phone else "—"
    return (str(member.id), member.name, department, role, bound, phone)


@staff.command("code")
@click.argument("name")
@click.option("--qr", is_flag=True, help="also print the QR code in the terminal")
@click.pass_obj
def staff_code(obj, name: str, qr: bool) -> None:
    """Issue a one-time six-digit binding code, valid 10 minutes."""
    from models.audit.log import Who
    from models.people.staff import CODE_VALID_MINUTES, binding_text, issue_code

    issued = _on_member(
        obj, name, lambda session, member: issue_code(session, member, _now(), who=Who.cli())
    )
    until = issued.expires_at.astimezone(ZoneInfo(obj.settings.app.timezone))
    click.echo(
        f"{name.strip()} 的绑定码：{issued.code}"
        f"（{CODE_VALID_MINUTES}分钟内有效，至 {until:%H:%M}，仅可使用一次）"
    )
    click.echo(f"请本人在公众号发送：{binding_text(issued.code)}")
    if qr:
        import segno

        segno.make(binding_text(issued.code)).terminal(compact=True)


@staff.command("edit")
@click.argument("name")
@click.option("--name", "new_name", default=None, help="新姓名")
@click.option("--dept", "department", default=None, help="新部门")
@click.option("--role", default=None, help="新角色")
@click.option("--phone", default=None, help="新手机号码")
@click.pass_obj
def staff_edit(obj, name: str, new_name, department, role, phone) -> None:
    """Change a member's name, department, role or phone."""
    from models.audit.log import Who
    from models.people.staff import edit_staff

    changes = _on_member(
        obj,
        name,
        lambda session, member: edit_staff(
            session,
            member,
            Who.cli(),
            _now(),
            name=new_name,
            department_name=department,
            role=role,
            phone=phone,
        ),
    )
    click.echo("；".join(changes) if changes else "没有变化。")


@staff.command("deactivate")
@click.argument("name")
@click.pass_obj
def staff_deactivate(obj, name: str) -> None:
    """停用: the member's WeChat binding stops at once."""
    from models.audit.log import Who
    from models.people.staff import deactivate

    _on_member(obj, name, lambda session, member: deactivate(session, member, Who.cli(), _now()))
    click.echo(f"已停用 {name.strip()}，其微信绑定已解除。")


@staff.command("activate")
@click.argument("name")
@click.pass_obj
def staff_activate(obj, name: str) -> None:
    """启用 a deactivated member again (they bind with a new code)."""
    from models.audit.log import Who
    from models.people.staff import activate

    _on_member(obj, name, lambda session, member: activate(session, member, Who.cli(), _now()))
    click.echo(f"已启用 {name.strip()}。发送绑定码：bihuan staff code {name.strip()}")


@staff.command("unbind")
@click.argument("name")
@click.pass_obj
def staff_unbind(obj, name: str) -> None:
    """Release a member's WeChat binding."""
    from models.audit.log import Who
    from models.people.staff import unbind

    _on_member(obj, name, lambda session, member: unbind(session, member, _now(), who=Who.cli()))
    click.echo(f"已解除 {name.strip()} 的微信绑定。")


@staff.command("designate")
@click.argument("post", type=click.Choice(["callback_staff", "officer"]))
@click.argument("name", required=False)
@click.pass_obj
def staff_designate(obj, post: str, name: str | None) -> None:
    """Designate the low-rating call-back staff or the officer on duty (no name: default)."""
    from bot.db import transaction
    from models.audit.log import Who
    from models.people import designations

    if name is None:
        with transaction(obj.runtime.sessions) as session:
            designations.clear(session, post, Who.cli(), _now())
        click.echo(f"{designations.POSTS[post]}：恢复默认。")
        return
    _on_member(
        obj,
        name,
        lambda session, member: designations.designate(session, post, member, Who.cli(), _now()),
    )
    click.echo(f"{designations.POSTS[post]}：{name.strip()}")


def _on_member(obj, name: str, action):
    """Run `action(session, member)` in one transaction; a refusal ends the command."""
    from bot.db import transaction
    from models.people.staff import StaffError, staff_by_name

    try:
        with transaction(obj.runtime.sessions) as session:
            member = staff_by_name(session, name)
            if member is None:
                raise StaffError(f"未知员工：{name.strip()}")
            return action(session, member)
    except StaffError as exc:
        _fail(str(exc))


def format_table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """Columns padded by display width (a Chinese character takes two columns)."""
    widths = [max(_width(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    return [
        "  ".join(_pad(cell, width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in (headers, *rows)
    ]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _now() -> datetime:
    return datetime.now(UTC)


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(1)
