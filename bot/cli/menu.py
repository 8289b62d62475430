"""`bihuan menu push`: publish the configured menu to the official account."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from bot.cli.obj import Obj


@click.command("push")
@click.pass_obj
def push(obj: Obj) -> None:
    """Check the menu from config.toml and publish it (clients see it after ~5 minutes)."""
    from bot.menu import check_menu, menu_payload
    from bot.wechat_api import ApiError, WeChatApi

    payload = menu_payload(obj.settings)
    problems = check_menu(payload)
    if problems:
        for problem in problems:
            click.echo(f"菜单错误：{problem}", err=True)
        click.echo("菜单未发布。", err=True)
        sys.exit(1)
    config = obj.settings.wechat
    if not config.app_id or not config.app_secret:
        click.echo("未配置公众号：请设置 wechat.app_id 和 BIHUAN_WECHAT__APP_SECRET。", err=True)
        sys.exit(1)
    try:
        WeChatApi(obj.settings, obj.runtime.redis).create_menu(payload)
    except ApiError as exc:
        click.echo(f"菜单发布失败（错误码 {exc.code}）：{exc.message}", err=True)
        sys.exit(1)
    click.echo("菜单已发布，微信客户端约5分钟后生效。")
