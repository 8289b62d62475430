"""`bihuan bulletin`: issue a periodic bulletin (定期通报) now, or print one."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import click


@click.group()
def bulletin() -> None:
    """Periodic bulletins (定期通报): rq's cron issues them; these commands are for operators."""


@bulletin.command("issue")
@click.argument("kind", type=click.Choice(["weekly", "monthly"]))
@click.pass_obj
def bulletin_issue(obj, kind: str) -> None:
    """Issue the last full week's or month's bulletin now (nothing when it exists)."""
    from jobs.bulletins import issue_bulletin

    issued = issue_bulletin(obj.runtime, kind, datetime.now(UTC))
    click.echo(f"已发布通报 #{issued}" if issued else "该期通报已发布过。")


@bulletin.command("show")
@click.argument("bulletin_id", type=int)
@click.pass_obj
def bulletin_show(obj, bulletin_id: int) -> None:
    """Print a bulletin's frozen content as JSON."""
    from models.bulletin.tables import Bulletin

    with obj.runtime.sessions() as session:
        found = session.get(Bulletin, bulletin_id)
        if found is None:
            click.echo(f"没有通报 #{bulletin_id}", err=True)
            sys.exit(1)
        data = {"id": found.id, "kind": found.kind, "title": found.title, **found.content}
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))
