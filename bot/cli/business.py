"""`bihuan business`: business records of the gas business system (燃气业务管理系统).

`import` loads a CSV export (type, order_no, phone, openid, staff, completed_at); `link` prints
the signed /rate URL the business system would send the customer for one order.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import click

ENCODINGS = ("utf-8-sig", "gb18030")  # Excel in China saves CSV as GBK
MAX_REPORTED = 50


@click.group()
def business() -> None:
    """Business records (业务记录) that ratings can credit to the responsible staff."""


@business.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def business_import(obj, path: Path) -> None:
    """Import a CSV file; idempotent on order_no (a changed row is updated).

    Valid rows are imported even when others are rejected; the exit status is then 1.
    """
    from bot.db import transaction
    from models.rating.business import BusinessImportError, import_csv

    text = _read(path)
    settings = obj.settings
    try:
        with transaction(obj.runtime.sessions) as session:
            report = import_csv(
                session,
                text,
                datetime.now(UTC),
                types=settings.rating.business_types,
                timezone=settings.app.timezone,
            )
    except BusinessImportError as exc:
        _fail(f"无法导入 {path.name}：{exc}")
    counts = f"新增 {report.created}，更新 {report.updated}，未变 {report.unchanged}"
    click.echo(f"导入完成：成功 {report.imported} 行（{counts}），拒绝 {len(report.rejected)} 行。")
    for line, reason in report.rejected[:MAX_REPORTED]:
        click.echo(f"  第{line}行：{reason}")
    if len(report.rejected) > MAX_REPORTED:
        click.echo(f"  …另有 {len(report.rejected) - MAX_REPORTED} 行被拒绝")
    if report.rejected:
        sys.exit(1)


@business.command("link")
@click.argument("order_no")
@click.pass_obj
def business_link(obj, order_no: str) -> None:
    """Print the signed /rate URL for one business record."""
    from bot.db import transaction
    from bot.rate_page import business_link as make_link
    from models.rating.business import find_by_order_no

    settings = obj.settings
    if not settings.web.secret_key:
        _fail(
            "未设置 BIHUAN_WEB__SECRET_KEY：评价链接需要与网站相同的密钥签名，"
            "请在运行网站和本命令时设置同一个值。"
        )
    with transaction(obj.runtime.sessions) as session:
        record = find_by_order_no(session, order_no)
        if record is None:
            _fail(f"没有业务单号为 {order_no.strip()} 的业务记录")
        record_id = record.id
    click.echo(make_link(settings.web.base_url, settings.web.secret_key, record_id))
    days = settings.rating.link_max_age_days
    click.echo(f"（{days}天内有效）", err=True)


def _read(path: Path) -> str:
    data = path.read_bytes()
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    _fail(f"无法读取 {path.name}：文件编码不是 UTF-8 或 GBK")


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(1)
