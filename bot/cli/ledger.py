"""`bihuan ledger export`: the ledger (台账) as .xlsx, with the ticket list's filters."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click


@click.group()
def ledger() -> None:
    """The ledger (台账) of complaints."""


@ledger.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--status", help="received/assigned/processing/resolved/archived/invalid/open")
@click.option("--dept", help="department name (handling, or receiving while unassigned)")
@click.option("--type", "appeal_type", help="appeal type (诉求类型)")
@click.option("--channel", help="source channel (投诉来源)")
@click.option("--severity", help="general/complex/major")
@click.option("--person", help="handler's name (承办人)")
@click.option("--overdue", is_flag=True)
@click.option("--repeat", is_flag=True)
@click.option("--accountability", is_flag=True)
@click.option("--from", "first", help="received from this day, e.g. 2026-11-01")
@click.option("--to", "last", help="received up to this day (included)")
@click.option("--search", help="ticket number, phone, 户号 or part of the address")
@click.pass_obj
def ledger_export(obj, output: Path, **options) -> None:
    """Write the ledger of the selected tickets to OUTPUT (.xlsx), no row cap."""
    from bot.db import transaction
    from jobs.ledger import write_workbook
    from models.ticket.filters import FilterError, TicketFilter

    settings = obj.settings
    now = datetime.now(UTC)
    with transaction(obj.runtime.sessions) as session:
        try:
            params = _params(session, options)
            selection = TicketFilter.from_params(params, settings.app.timezone)
        except FilterError as exc:
            click.echo(f"筛选条件无效：{exc}", err=True)
            sys.exit(2)
    zone = ZoneInfo(settings.app.timezone)
    written = write_workbook(obj.runtime.sessions, selection, output, now, zone, _echo_progress)
    click.echo(f"已导出 {written} 件工单到 {output}")


def _echo_progress(done: int, total: int) -> None:
    click.echo(f"\r{done}/{total}", nl=False, err=True)
    if done >= total:
        click.echo("", err=True)


def _params(session, options: dict) -> dict[str, str]:
    """URL-style parameters of `TicketFilter`, with names turned into ids."""
    from sqlalchemy import select

    from models.people.tables import Department, Staff
    from models.ticket.filters import FilterError

    keys = {"status": "status", "appeal_type": "type", "channel": "channel"}
    keys |= {"severity": "severity", "first": "from", "last": "to", "search": "q"}
    params = {key: options[name] for name, key in keys.items() if options.get(name)}
    for flag in ("overdue", "repeat", "accountability"):
        if options.get(flag):
            params[flag] = "1"
    for option, table, key in (("dept", Department, "dept"), ("person", Staff, "person")):
        if options.get(option):
            found = session.scalar(select(table.id).where(table.name == options[option]))
            if found is None:
                raise FilterError(f"未找到「{options[option]}」")
            params[key] = str(found)
    return params
