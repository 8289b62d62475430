"""The ledger (台账) download: the ticket list's button queues `jobs.ledger.request_export`
with the list's filters; `/exports/<id>` shows the worker's progress (it refreshes itself with
a meta refresh, no JavaScript) and offers the .xlsx when ready, only to whoever asked for it
and to the officer. The export covers every ticket the filter selects (no viewer scope), so
only the roles that see the whole company may start one."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask import redirect, send_file
from flask_login import login_required
from werkzeug.datastructures import MultiDict

from bot.web.access import roles_required, user
from bot.web.auditing import who
from bot.web.blueprint import blueprint
from bot.web.context import PageError, close_db, db, page, runtime
from bot.web.forms import CSRF_PROBLEM, ExportForm
from bot.web.ticket_list import read_args
from jobs import ledger as ledger_jobs
from models.ticket.tables import LedgerExport

EXPORT_ROLES = frozenset({"officer", "leader", "executive"})
REFRESH_SECONDS = 2


@blueprint.post("/exports")
@login_required
@roles_required(EXPORT_ROLES, "导出台账")
def request_export():
    form = ExportForm()
    if not form.validate_on_submit():
        raise PageError(400, "页面已过期", CSRF_PROBLEM)
    args = read_args(MultiDict(parse_qsl(form.query.data or "")))
    if args.problems:
        raise PageError(400, "筛选条件有误", args.problems[0])
    staff_id, requester = user().staff_id, who()  # audited with the client's address
    close_db()  # the job's own transaction follows; SQLite allows one writer at a time
    export_id = ledger_jobs.request_export(runtime(), args.chosen, staff_id, requester)
    return redirect(f"/exports/{export_id}", code=303)


@blueprint.get("/exports/<int:export_id>")
@login_required
def export_status(export_id: int):
    row = _own_export(export_id)
    ready = ledger_jobs.export_path(runtime(), row) is not None
    return page(
        "web/reports/export.html",
        row=row,
        ready=ready,
        refresh=REFRESH_SECONDS if row.status in ("queued", "running") else None,
        list_url="/tickets?" + _query(row.params),
    )


@blueprint.get("/exports/<int:export_id>/file")
@login_required
def export_file(export_id: int):
    row = _own_export(export_id)
    path = ledger_jobs.export_path(runtime(), row)
    if path is None:
        raise PageError(404, "文件未就绪", "台账尚未生成完毕，或文件已过期清理，请重新导出。")
    return send_file(
        path,
        as_attachment=True,
        download_name=f"投诉台账-{export_id}.xlsx",
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _own_export(export_id: int) -> LedgerExport:
    """The export, if this person asked for it or is the officer; otherwise a 404 as if it
    did not exist."""
    row = db().get(LedgerExport, export_id)
    me = user()
    if row is None or (row.staff_id != me.staff_id and me.role != "officer"):
        raise PageError(404, "导出不存在", f"没有编号为 {export_id} 的台账导出。")
    return row


def _query(params: dict) -> str:
    return urlencode(params)
