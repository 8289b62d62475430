"""The ledger (台账) as .xlsx, built by an rq job in XlsxWriter's constant-memory mode.

`request_export` records what to export (a `LedgerExport` row) and queues the job after the
commit; the job writes the file page by page (`models.ticket.ledger.rows`), recording its
progress on the row, so a year of tickets neither exhausts memory nor holds a web request.
There is no row cap. Text cells are written as text, never as formulas.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import xlsxwriter
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from bot.db import transaction
from bot.runtime import Runtime
from jobs.queue import make_queue
from models.ticket import ledger
from models.ticket.filters import TicketFilter
from models.ticket.tables import LedgerExport

log = logging.getLogger(__name__)
BUILD_LEDGER = "jobs.ledger.build_ledger_export"
SHEET = "投诉台账"
JOB_TIMEOUT = 3600

Progress = Callable[[int, int], None]


def write_workbook(
    sessions: Callable[[], Session],
    selection: TicketFilter,
    path: Path,
    now: datetime,
    zone: ZoneInfo,
    progress: Progress | None = None,
) -> int:
    """Write the ledger of the selected tickets to `path`; returns the number of rows."""
    with sessions() as session:
        total = ledger.count(session, selection, now)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_formulas": False}
    )
    try:
        sheet = workbook.add_worksheet(SHEET)
        formats = _formats(workbook)
        for index, column in enumerate(ledger.COLUMNS):
            sheet.set_column(index, index, column.width)
            sheet.write_string(0, index, column.header, formats["header"])
        sheet.freeze_panes(1, 1)
        written = 0
        for page in ledger.rows(sessions, selection, now, zone):
            for cells in page:
                written += 1
                _write_row(sheet, written, cells, formats)
            if progress is not None:
                progress(written, total)
    finally:
        workbook.close()
    return written


def _formats(workbook) -> dict:
    return {
        "header": workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1}),
        "time": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
    }


def _write_row(sheet, row: int, cells: list, formats: dict) -> None:
    for index, (column, value) in enumerate(zip(ledger.COLUMNS, cells, strict=True)):
        if value is None or value == "":
            continue
        if isinstance(value, datetime):
            sheet.write_datetime(row, index, value, formats["time"])
        elif isinstance(value, date):
            sheet.write_datetime(row, index, value, formats["date"])
        elif isinstance(value, int) and column.kind == "number":
            sheet.write_number(row, index, value)
        else:
            sheet.write_string(row, index, str(value))


# --- the background export -----------------------------------------------------------------


def request_export(runtime: Runtime, selection: TicketFilter, staff_id: int | None) -> int:
    """Record an export and queue its job (after the commit); returns the export's id."""
    timezone = runtime.settings.app.timezone
    with transaction(runtime.sessions) as session:
        row = LedgerExport(
            params=selection.to_params(timezone), staff_id=staff_id, created_at=datetime.now(UTC)
        )
        session.add(row)
        session.flush()
        export_id = row.id
    try:
        make_queue(runtime).enqueue(
            BUILD_LEDGER,
            export_id,
            job_id=f"ledger-{export_id}",
            job_timeout=JOB_TIMEOUT,
            description=f"ledger export {export_id}",
        )
    except RedisError:
        log.exception("could not queue ledger export %s", export_id)
        _finish(runtime, export_id, "failed", error="队列不可用，请稍后重试")
    return export_id


def build_ledger_export(export_id: int) -> str:
    """The rq job."""
    from jobs.runtime import current

    return build(current(), export_id, datetime.now(UTC))


def build(runtime: Runtime, export_id: int, now: datetime) -> str:
    """Build one export (a second run of a finished export does nothing)."""
    settings = runtime.settings
    with transaction(runtime.sessions) as session:
        row = session.get(LedgerExport, export_id, with_for_update=True)
        if row is None or row.status == "done":
            return "done-before"
        row.status, row.rows_done = "running", 0
        params = dict(row.params)
    folder = settings.ledger_folder
    _remove_old(folder, now, settings.ledger.keep_hours)
    filename = (
        f"ledger-{export_id}-{now.astimezone(ZoneInfo(settings.app.timezone)):%Y%m%d%H%M}.xlsx"
    )
    try:
        selection = TicketFilter.from_params(params, settings.app.timezone)
        written = write_workbook(
            runtime.sessions,
            selection,
            folder / filename,
            now,
            ZoneInfo(settings.app.timezone),
            progress=_progress(runtime, export_id),
        )
    except Exception as exc:
        _finish(runtime, export_id, "failed", error=f"{type(exc).__name__}: {exc}"[:500])
        raise
    _finish(runtime, export_id, "done", filename=filename, rows=written)
    return "done"


def _progress(runtime: Runtime, export_id: int, every_seconds: float = 1.0) -> Progress:
    last = [0.0]

    def report(done: int, total: int) -> None:
        if time.monotonic() - last[0] < every_seconds and done < total:
            return
        last[0] = time.monotonic()
        with transaction(runtime.sessions) as session:
            row = session.get(LedgerExport, export_id)
            row.rows_done, row.rows_total = done, max(total, done)

    return report


def _finish(runtime: Runtime, export_id: int, status: str, **values) -> None:
    with transaction(runtime.sessions) as session:
        row = session.get(LedgerExport, export_id)
        row.status, row.finished_at = status, datetime.now(UTC)
        row.error = values.get("error", "")
        if "filename" in values:
            row.filename = values["filename"]
            row.rows_done = row.rows_total = values["rows"]


def _remove_old(folder: Path, now: datetime, keep_hours: int) -> None:
    cutoff = (now - timedelta(hours=keep_hours)).timestamp()
    for path in folder.glob("ledger-*.xlsx") if folder.exists() else ():
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def export_path(runtime: Runtime, row: LedgerExport) -> Path | None:
    """The finished file of an export (what the back office's download serves)."""
    if row.status != "done" or not row.filename:
        return None
    path = runtime.settings.ledger_folder / row.filename
    return path if path.exists() else None
