"""`bihuan user passwd <姓名>`: set a staff member's back-office password (后台密码)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click


@click.group()
def user() -> None:
    """Back-office sign-in accounts."""


@user.command("passwd")
@click.argument("name")
@click.pass_obj
def passwd(obj, name: str) -> None:
    """Set NAME's password, read from the terminal (twice) or, piped, from the first line of
    standard input. Stored hashed (scrypt); lifts a sign-in lock on the account."""
    from bot.db import transaction
    from bot.passwords import hash_password
    from models.core.signin import password_problem
    from models.people.accounts import set_password_hash
    from models.people.staff import staff_by_name

    password = _read_password()
    problem = password_problem(password, name.strip())
    if problem:
        _fail(problem)
    with transaction(obj.runtime.sessions) as session:
        member = staff_by_name(session, name)
        if member is None:
            _fail(f"未知员工：{name.strip()}")
        if not member.active:
            _fail(f"员工 {member.name} 已停用")
        set_password_hash(session, member, hash_password(password), datetime.now(UTC))
    click.echo(f"已设置 {name.strip()} 的后台密码。登录：{obj.settings.web.base_url}/login")


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("新密码", hide_input=True, confirmation_prompt="再次输入新密码")
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def _fail(message: str):
    click.echo(message, err=True)
    sys.exit(1)
