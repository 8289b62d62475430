"""`bihuan staff`: add and list staff, issue WeChat binding codes (绑定码)."""

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
    from models.core.labels import ROLE_LABELS
    from models.people.staff import StaffError, add_staff

    try:
        with transaction(obj.runtime.sessions) as session:
            member = add_staff(session, name, department, role, _now(), phone=phone)
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
@click.pass_obj
def staff_code(obj, name: str) -> None:
    """Issue a one-time six-digit binding code, valid 10 minutes."""
    from bot.db import transaction
    from models.people.staff import CODE_VALID_MINUTES, StaffError, issue_code, staff_by_name

    try:
        with transaction(obj.runtime.sessions) as session:
            member = staff_by_name(session, name)
            if member is None:
                raise StaffError(f"未知员工：{name.strip()}")
            issued = issue_code(session, member, _now())
    except StaffError as exc:
        _fail(str(exc))
    until = issued.expires_at.astimezone(ZoneInfo(obj.settings.app.timezone))
    click.echo(
        f"{name.strip()} 的绑定码：{issued.code}"
        f"（{CODE_VALID_MINUTES}分钟内有效，至 {until:%H:%M}，仅可使用一次）"
    )
    click.echo(f"请本人在公众号发送：绑定 {issued.code}")


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
