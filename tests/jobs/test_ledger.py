"""The ledger (台账) built by a real rq worker in pages, opened with openpyxl, cell by cell;
its filters select what the ticket list selects; the CLI writes the same file."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import select

from bot.db import transaction
from bot.policies import rating_policy
from jobs.ledger import export_path, request_export
from models.demo import seed_demo
from models.rating import service as ratings
from models.ticket import ledger
from models.ticket.filters import FilterError, TicketFilter
from models.ticket.tables import LedgerExport, Ticket
from tests.factories import add_ticket, invoke, move, run_worker

ZONE = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=ZONE)


@pytest.fixture
def tickets(runtime, tmp_path) -> list[str]:
    with transaction(runtime.sessions) as session:
        seed_demo(session, runtime.settings.workflow.general_department)
        numbers = [
            add_ticket(session, at(day, 9), "received", None, None, phone=f"1380013800{day}",
                       address=f"幸福路{day}号", matter="=HYPERLINK(\"x\")").number
            for day in range(2, 7)
        ]  # fmt: skip
    first = numbers[0]
    move(runtime, first, "周敏", "assign", at(2, 10), handler_name="王芳")
    move(runtime, first, "王芳", "ack", at(2, 11))
    move(runtime, first, "王芳", "resolve", at(4, 15), text="已更换燃气表")
    move(runtime, first, "周敏", "callback", at(4, 16), satisfied=False, text="仍有异味")
    move(runtime, first, "王芳", "ack", at(4, 17))
    move(runtime, first, "王芳", "resolve", at(5, 9), text="已复查")
    move(runtime, first, "周敏", "callback", at(5, 10), satisfied=True)
    with transaction(runtime.sessions) as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == first))
        policy = rating_policy(runtime.settings)
        target = ratings.ticket_target(ticket)
        ratings.rate(session, target, 4, at(5, 11), policy, ZONE, channel="wechat", comment="还行")
    return numbers


def export(runtime, selection: TicketFilter, monkeypatch, tmp_path) -> tuple[LedgerExport, list]:
    monkeypatch.setattr(ledger, "BATCH", 2)  # several pages even for a few tickets
    settings = runtime.settings.override(ledger={"folder": str(tmp_path)})
    runtime.settings = settings
    export_id = request_export(runtime, selection, staff_id=None)
    from jobs import runtime as job_runtime

    job_runtime.bind(runtime)
    try:
        run_worker(runtime)
    finally:
        job_runtime.bind(None)
    with runtime.sessions() as session:
        row = session.get(LedgerExport, export_id)
    path = export_path(runtime, row)
    sheet = openpyxl.load_workbook(path, read_only=True).active
    return row, [list(cells) for cells in sheet.iter_rows(values_only=True)]


def column(header: str) -> int:
    return [c.header for c in ledger.COLUMNS].index(header)


def test_the_ledger_has_every_ticket_with_its_clocks_call_backs_and_rating(
    runtime, tickets, monkeypatch, tmp_path
):
    row, sheet = export(runtime, TicketFilter(), monkeypatch, tmp_path)
    assert (row.status, row.rows_done, row.rows_total) == ("done", 5, 5)
    assert sheet[0] == [c.header for c in ledger.COLUMNS]
    assert [line[0] for line in sheet[1:]] == tickets
    first = sheet[1]
    assert first[column("受理部门")] == "综合管理部"
    assert first[column("联系电话")] == "13800138002"
    assert first[column("投诉时间")] == datetime(2026, 11, 2, 9, 0)
    assert first[column("处理结果")] == "已复查"
    assert first[column("承办部门")] == "运行维护部"
    assert first[column("负责人")] == "李强"  # the handling department's head, as on the form
    assert first[column("办结日期")] == datetime(2026, 11, 5)
    assert first[column("状态")] == "已归档"
    assert first[column("重办轮次")] == 1
    assert first[column("办结时限")] == datetime(2026, 11, 5, 16, 0)  # the second round's
    assert first[column("办结是否按时")] == "按时"
    assert first[column("调查是否按时")] == "按时"
    assert first[column("回访是否按时")] == "按时"
    assert (first[column("回访次数")], first[column("首次回访")]) == (2, "不满意")
    assert first[column("最终回访")] == "满意"
    assert (first[column("评价星级")], first[column("评价留言")]) == (4, "还行")
    untouched = sheet[2]
    assert untouched[column("状态")] == "已受理"
    assert untouched[column("办结时限")] is None and untouched[column("评价星级")] is None
    assert untouched[column("诉求事项")] == '=HYPERLINK("x")'  # text, never a formula


def test_the_ledger_exports_the_lists_filters(runtime, tickets, monkeypatch, tmp_path):
    selection = TicketFilter.from_params(
        {"status": "received", "from": "2026-11-04", "to": "2026-11-05"}, "Asia/Shanghai"
    )
    row, sheet = export(runtime, selection, monkeypatch, tmp_path)
    assert [line[0] for line in sheet[1:]] == tickets[2:4]
    assert row.params == {"status": "received", "from": "2026-11-04", "to": "2026-11-05"}


def test_a_search_finds_a_ticket_by_phone_number_or_address(runtime, tickets):
    now = at(30, 12)

    def found(text):
        pages = ledger.rows(runtime.sessions, TicketFilter(search=text), now, ZONE)
        return [cells[0] for page in pages for cells in page]

    assert found("13800138003") == [tickets[1]]
    assert found(tickets[4].lower()) == [tickets[4]]
    assert found("幸福路5") == [tickets[3]]
    assert found("100%") == []


@pytest.mark.parametrize(
    ("params", "named"),
    [({"status": "closed"}, "status"), ({"dept": "x"}, "dept"), ({"from": "11月"}, "from")],
)
def test_a_bad_filter_names_the_parameter(params, named):
    with pytest.raises(FilterError, match=named):
        TicketFilter.from_params(params, "Asia/Shanghai")


def test_the_cli_writes_the_same_ledger(runtime, tickets, tmp_path):
    output = tmp_path / "台账.xlsx"
    result = invoke(runtime, "ledger", "export", "--status", "archived", "-o", str(output))
    assert result.exit_code == 0, result.output
    assert "已导出 1 件工单" in result.output
    sheet = openpyxl.load_workbook(output, read_only=True).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == tickets[:1]
