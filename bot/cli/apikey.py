"""`bihuan apikey`: keys of the systems that call the JSON API (燃气业务管理系统)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from models.access.keys import SCOPES


@click.group()
def apikey() -> None:
    """API keys (shown once, stored hashed, revocable)."""


@apikey.command("create")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(sorted(SCOPES)),
    help="what the key may do (repeat the option for several)",
)
@click.pass_obj
def apikey_create(obj, name: str, scopes: tuple[str, ...]) -> None:
    """Issue a key for the system NAME; prints it once."""
    from bot.db import transaction
    from models.access.keys import create

    with transaction(obj.runtime.sessions) as session:
        issued = create(session, name, list(scopes), datetime.now(UTC))
        prefix = issued.key.prefix
    click.echo(issued.secret)
    click.echo(
        f"已为「{name}」签发密钥（前缀 {prefix}，权限 {', '.join(sorted(scopes))}）。"
        "密钥只显示这一次，请妥善保存；请求时放在请求头 Authorization: Bearer <密钥>。",
        err=True,
    )


@apikey.command("list")
@click.pass_obj
def apikey_list(obj) -> None:
    """Keys with their prefix, scopes and state (never the key itself)."""
    from models.access.keys import all_keys

    with obj.runtime.sessions() as session:
        for key in all_keys(session):
            state = f"已吊销 {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "有效"
            used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "从未使用"
            click.echo(f"{key.prefix}  {key.name}  {','.join(key.scopes)}  {state}  {used}")


@apikey.command("revoke")
@click.argument("prefix")
@click.pass_obj
def apikey_revoke(obj, prefix: str) -> None:
    """Revoke the key with this prefix (it answers 401 from now on)."""
    from bot.db import transaction
    from models.access.keys import revoke

    with transaction(obj.runtime.sessions) as session:
        key = revoke(session, prefix, datetime.now(UTC))
    if key is None:
        click.echo(f"没有前缀为 {prefix} 的密钥", err=True)
        sys.exit(1)
    click.echo(f"已吊销「{key.name}」的密钥 {key.prefix}")
