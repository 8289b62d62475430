"""The `bihuan` command line."""

from __future__ import annotations

import json
import sys
from zoneinfo import ZoneInfo

import click

from bot.cli.apikey import apikey
from bot.cli.bulletin import bulletin
from bot.cli.business import business
from bot.cli.calendar import calendar
from bot.cli.jobs import cron, sweep, worker
from bot.cli.ledger import ledger
from bot.cli.menu import push
from bot.cli.obj import Obj
from bot.cli.staff import staff
from bot.cli.user import user
from bot.logs import setup_logging
from bot.settings import SettingsError


@click.group()
@click.pass_context
def cli(ctx: click.Context) -> None:
    """投诉闭环 Bihuan: complaint handling over a WeChat Official Account."""
    ctx.ensure_object(Obj)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except SettingsError as exc:
        click.echo(f"配置错误 / invalid setting: {exc}", err=True)
        sys.exit(2)


@cli.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.pass_obj
def serve(obj: Obj, host: str, port: int) -> None:
    """Development server (production: gunicorn 'bot.app:create_app()')."""
    from bot.dev.serve import run_development_server

    setup_logging(obj.settings.app.log_level)
    run_development_server(obj.settings, host, port)


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head")
@click.pass_obj
def db_upgrade(obj: Obj, revision: str) -> None:
    """Apply the Alembic migrations."""
    from models.migrate import upgrade

    upgrade(obj.runtime.engine, revision)
    click.echo(f"database upgraded to {revision}")


@cli.command()
@click.pass_obj
def demo(obj: Obj) -> None:
    """Seed the policy's departments and a few staff (idempotent)."""
    from bot.db import transaction
    from models.demo import seed_demo

    with transaction(obj.runtime.sessions) as session:
        created = seed_demo(session, obj.settings.workflow.general_department)
    click.echo(f"demo data ready ({created} new rows)")


@cli.group()
def ticket() -> None:
    """Tickets."""


@ticket.command("show")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_obj
def ticket_show(obj: Obj, number: str, as_json: bool) -> None:
    """Show one ticket with its status, deadlines and events."""
    from bot.db import transaction
    from models.ticket.export import ticket_as_dict
    from models.ticket.intake import find_by_number

    with transaction(obj.runtime.sessions) as session:
        found = find_by_number(session, number)
        if found is None:
            click.echo(f"no ticket {number}", err=True)
            sys.exit(1)
        link = obj.runtime.media_links.url if obj.settings.web.secret_key else None
        data = ticket_as_dict(found, ZoneInfo(obj.settings.app.timezone), link)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        for key, value in data.items():
            if key not in ("events", "attachments"):
                click.echo(f"{key}: {value}")
        for item in data["attachments"]:
            where = item["url"] or item["path"] or item["last_error"] or ""
            click.echo(f"  附件 {item['kind_label']} {item['status_label']} {where}")
        for item in data["events"]:
            click.echo(f"  {item['at']} {item['actor']} {item['kind']}: {item['text']}")


@cli.group()
def menu() -> None:
    """The official account's menu."""


@menu.command("show")
@click.pass_obj
def menu_show(obj: Obj) -> None:
    """Print the menu from config.toml and check it against WeChat's limits."""
    from bot.menu import check_menu, menu_payload

    payload = menu_payload(obj.settings)
    problems = check_menu(payload)
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    if problems:
        for problem in problems:
            click.echo(f"菜单错误：{problem}", err=True)
        sys.exit(1)
    click.echo("菜单符合微信限制。")


menu.add_command(push)


@cli.command()
@click.option("--openid", required=True, help="the WeChat user to pretend to be")
@click.option("--url", default="http://127.0.0.1:5000/wechat", show_default=True)
@click.pass_obj
def simulate(obj: Obj, openid: str, url: str) -> None:
    """Chat with a running server as WeChat would (type /help for commands)."""
    from bot.dev.simulate import Simulator, repl

    repl(Simulator(obj.settings, url, openid))


@cli.group()
def inbound() -> None:
    """Pushes received from WeChat."""


@inbound.command("replay")
@click.pass_obj
def inbound_replay(obj: Obj) -> None:
    """Handle the pushes waiting in the local spool, the abandoned ones, and again every push
    whose handler failed; each answer goes to its sender as a customer-service message."""
    from bot.replay import reclaim_abandoned, replay_failed, replay_spool

    spooled, waiting = replay_spool(obj.runtime)
    reclaimed = reclaim_abandoned(obj.runtime)
    done, failed = replay_failed(obj.runtime)
    click.echo(
        f"spool: {spooled} handled, {waiting} still waiting; abandoned: {reclaimed} handled; "
        f"failed: replayed {done}, still failing {failed}"
    )


cli.add_command(staff)
cli.add_command(user)
cli.add_command(business)
cli.add_command(calendar)
cli.add_command(worker)
cli.add_command(cron)
cli.add_command(sweep)
cli.add_command(ledger)
cli.add_command(bulletin)
cli.add_command(apikey)

if __name__ == "__main__":
    main()
