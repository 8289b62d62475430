"""The back office's ticket list (`/tickets`) at 100,000 tickets: whole requests, signed in.

    BIHUAN_DATABASE__URL=postgresql+psycopg://postgres@127.0.0.1:5432/bihuan_bench \
        python bench/list_bench.py --tickets 100000

Creates the tickets (five statuses, six departments, every channel, 1 % overdue) with
set-based SQL, signs in as the officer and as a handler, and times each view of the list
through the app (query, count and the page's HTML): the first page, a page deep in the list
(keyset `after`), filters and searches. Prints the median and the slowest of the runs, and
the plan of the first page's query.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select, text  # noqa: E402

from bench.sweep_bench import naive, reset  # noqa: E402
from bot.app import create_app  # noqa: E402
from bot.db import transaction  # noqa: E402
from bot.passwords import hash_password  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from models.demo import seed_demo  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from models.people.tables import Staff  # noqa: E402

PASSWORD = "Bench-2026-list"
COLUMNS = (
    "number, status, severity, appeal_type, customer_name, phone, source_channel, "
    "complained_at, address, matter, content, attachments, handler_id, handling_department_id, "
    "receiving_department_id, result, responsible_person, external_number, gas_account, "
    "invalid_reason, money_status, money_kind, repeat_flag, accountability_flag, "
    "escalation_level, rounds, leader_signed_off, explanation_pending, phone_callback, urgent, "
    "created_at, updated_at"
)
VALUES = (
    "SELECT 'TS' || {pad12}, "
    "CASE {g} % 5 WHEN 0 THEN 'received' WHEN 1 THEN 'assigned' WHEN 2 THEN 'processing' "
    "WHEN 3 THEN 'resolved' ELSE 'archived' END, "
    "CASE WHEN {g} % 10 = 0 THEN 'complex' ELSE 'general' END, "
    "CASE {g} % 7 WHEN 0 THEN '报装' WHEN 1 THEN '设计' WHEN 2 THEN '安装' WHEN 3 THEN '点火' "
    "WHEN 4 THEN '维修' WHEN 5 THEN '服务态度' ELSE '其他' END, "
    "'客户' || ({g} % 997), '139' || {pad8}, "
    "CASE {g} % 8 WHEN 0 THEN '微信公众号' WHEN 1 THEN '24小时客服热线' WHEN 2 THEN '投诉电话' "
    "WHEN 3 THEN '门户网站' WHEN 4 THEN '意见箱/意见簿' WHEN 5 THEN '董事长信箱' "
    "WHEN 6 THEN '政府投诉平台' ELSE '来访' END, "
    ":now, '幸福路' || ({g} % 500) || '号', '燃气表读数异常', '燃气表读数异常，请上门核查', '[]', "
    "CASE WHEN {g} % 5 <> 0 AND {g} % 6 = :handler_slot THEN :handler END, "
    "CASE WHEN {g} % 5 = 0 THEN NULL ELSE :first_dept + {g} % 6 END, :general, "
    "'', '', '', {pad8}, '', 'none', '', {flag10}, {no}, 0, 0, {no}, {no}, {no}, {no}, :now, :now "
    "FROM {rows}"
)
SQL = {
    "postgresql": f"INSERT INTO tickets ({COLUMNS}) "
    + VALUES.format(
        g="g",
        pad12="lpad(g::text, 12, '0')",
        pad8="lpad(g::text, 8, '0')",
        flag10="(g % 7 = 3)",
        no="false",
        rows="generate_series(1, :n) AS g",
    ),
    "sqlite": "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < :n) "
    + f"INSERT INTO tickets ({COLUMNS}) "
    + VALUES.format(
        g="x",
        pad12="printf('%012d', x)",
        pad8="printf('%08d', x)",
        flag10="(x % 7 = 3)",
        no="0",
        rows="s",
    ),
}
VIEWS = {
    "officer: first page": ("officer", "/tickets"),
    "officer: page after 50,000": ("officer", "/tickets?after=50000"),
    "officer: last page": ("officer", "/tickets?after=20"),
    "officer: status=processing": ("officer", "/tickets?status=processing"),
    "officer: one department": ("officer", "/tickets?dept={dept}"),
    "officer: overdue": ("officer", "/tickets?overdue=1"),
    "officer: repeat + complex": ("officer", "/tickets?repeat=1&severity=complex"),
    "officer: government channel": ("officer", "/tickets?channel=政府投诉平台"),
    "officer: search phone": ("officer", "/tickets?q=13900012345"),
    "officer: search 户号": ("officer", "/tickets?q=00054321"),
    "officer: search number": ("officer", "/tickets?q=TS000000077777"),
    "officer: search address": ("officer", "/tickets?q=幸福路123号"),
    "handler: own department": ("handler", "/tickets"),
    "handler: department, deep": ("handler", "/tickets?after=30000"),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    environ = dict(os.environ)
    environ.setdefault("BIHUAN_DATABASE__URL", f"sqlite:///{tempfile.mkdtemp()}/list.sqlite3")
    environ.setdefault("BIHUAN_WEB__SECRET_KEY", "list-bench-secret")
    runtime = build_runtime(load_settings(environ=environ))
    reset(runtime)
    upgrade(runtime.engine)
    started = time.perf_counter()
    dept = populate(runtime, args.tickets, datetime.now(UTC))
    print(
        f"{runtime.engine.dialect.name}: {args.tickets} tickets "
        f"(populated in {time.perf_counter() - started:.1f} s)"
    )
    explain(runtime)
    measure(runtime, dept, args.runs)


def populate(runtime, count: int, now: datetime) -> int:
    with transaction(runtime.sessions) as session:
        seed_demo(session, runtime.settings.workflow.general_department)
        hashed = hash_password(PASSWORD)
        for staff in session.scalars(select(Staff).where(Staff.name.in_(("周敏", "王芳")))):
            staff.password_hash = hashed
    with runtime.engine.begin() as connection:
        handler = connection.execute(
            text("SELECT id, department_id FROM staff WHERE name = '王芳'")
        ).one()
        first_dept, general = connection.execute(
            text("SELECT min(id), min(id) FILTER (WHERE is_general) FROM departments")
            if connection.dialect.name == "postgresql"
            else text("SELECT min(id), min(CASE WHEN is_general THEN id END) FROM departments")
        ).one()
        connection.execute(
            text(SQL[connection.dialect.name]),
            {
                "n": count,
                "now": naive(connection, now),
                "handler": handler[0],
                "handler_slot": handler[1] - first_dept,
                "first_dept": first_dept,
                "general": general,
            },
        )
        connection.execute(
            text(
                "INSERT INTO deadlines (ticket_id, clock, started_at, due_at, provisional, state, "
                "next_alert_at) SELECT id, 'resolve', :start, CASE WHEN id % 100 = 1 THEN :past "
                "ELSE :later END, false, 'running', NULL FROM tickets "
                "WHERE status IN ('assigned', 'processing')"
            ),
            {
                "start": naive(connection, now - timedelta(days=1)),
                "past": naive(connection, now - timedelta(hours=1)),
                "later": naive(connection, now + timedelta(days=2)),
            },
        )
        if connection.dialect.name == "postgresql":
            connection.execute(text("ANALYZE"))
    return handler[1]


def explain(runtime) -> None:
    with runtime.engine.connect() as connection:
        prefix = "EXPLAIN" if connection.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN"
        rows = connection.execute(
            text(f"{prefix} SELECT id FROM tickets WHERE id < 50000 ORDER BY id DESC LIMIT 26")
        ).all()
    print("plan of a page's query:")
    for row in rows:
        print("   ", row[-1])


def measure(runtime, dept: int, runs: int) -> None:
    clients = {
        role: signed_in(runtime, name) for role, name in (("officer", "周敏"), ("handler", "王芳"))
    }
    print(f"{'view':32} {'median':>9} {'slowest':>9}  shown / total")
    for label, (role, path) in VIEWS.items():
        url = path.format(dept=dept)
        timings, body = [], ""
        for _ in range(runs):
            started = time.perf_counter()
            response = clients[role].get(url)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
            body = response.get_data(as_text=True)
        shown = body.count('<td data-label="单号"')
        total = body.split("共 ", 1)[1].split("</small>", 1)[0] if "共 " in body else "?"
        print(
            f"{label:32} {statistics.median(timings):7.1f}ms {max(timings):7.1f}ms  "
            f"{shown} / {total}"
        )


def signed_in(runtime, name: str):
    import re

    client = create_app(runtime=runtime).test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"csrf_token": token, "username": name, "password": PASSWORD}
    )
    assert response.status_code == 303, response.status_code
    return client


if __name__ == "__main__":
    main()
