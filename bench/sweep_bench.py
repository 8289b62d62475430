"""The deadline sweep over many open tickets of which few are due (target on PostgreSQL:
at most 50 ms of database time, and as many statements for 10 due clocks as for 100).

    BIHUAN_DATABASE__URL=postgresql+psycopg://postgres@127.0.0.1:5432/bihuan_bench \
        python bench/sweep_bench.py --tickets 100000 --due 10 100

For each number due, creates the tickets and their running resolve clocks with set-based SQL
(all breached, so that each due clock records its breach and notifies several people), then
times one sweep: its wall time, its database time (from each statement's start to its end,
as the driver sees it) and the SQL statements it ran. That first sweep is cold: a new
connection, whose server process has yet to load the tables' catalog entries. The same clocks
are then re-armed (their alerts, breaches and notifications deleted, their next alert due
again) and swept `--repeat` more times on the warm connection, as `bihuan cron` sweeps every
minute on its pooled one; the median of those is printed beside the cold figure. Prints the
plan of the selecting query once, and the statement counts side by side last.
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

from sqlalchemy import event, text  # noqa: E402

from bot.db import transaction  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from models.demo import seed_demo  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from models.schema import metadata  # noqa: E402
from models.ticket import alerts  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--due", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--repeat", type=int, default=5, help="warm sweeps after the cold one")
    args = parser.parse_args()
    environ = dict(os.environ)
    environ.setdefault("BIHUAN_DATABASE__URL", f"sqlite:///{tempfile.mkdtemp()}/sweep.sqlite3")
    environ.setdefault("BIHUAN_DATABASE__STATEMENT_TIMEOUT_MS", "600000")  # the seeding
    settings = load_settings(environ=environ)
    runtime = build_runtime(settings)
    counts = {}
    for due in args.due:
        reset(runtime)
        upgrade(runtime.engine)
        now = datetime.now(UTC)
        started = time.perf_counter()
        populate(runtime, args.tickets, due, now)
        print(
            f"{runtime.engine.dialect.name}: {args.tickets} open tickets, {due} due "
            f"(populated in {time.perf_counter() - started:.1f} s)"
        )
        if due == args.due[0]:
            explain(runtime, now)
        counts[due], cold = measure(runtime, now)
        warm = []
        for _ in range(args.repeat):
            rearm(runtime, due)
            warm.append(measure(runtime, now, verbose=False)[1])
        if warm:
            print(
                f"database time with {due} due: cold {cold:.1f} ms; warm, median of "
                f"{len(warm)}: {statistics.median(warm):.1f} ms (max {max(warm):.1f} ms)"
            )
    print("statements of one sweep: " + ", ".join(f"{n} with {d} due" for d, n in counts.items()))


def reset(runtime) -> None:
    with runtime.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        else:
            metadata.drop_all(connection)
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def populate(runtime, count: int, due: int, now: datetime) -> None:
    with transaction(runtime.sessions) as session:
        seed_demo(session, runtime.settings.workflow.general_department)
    later, past = now + timedelta(days=2), now - timedelta(minutes=5)
    with runtime.engine.begin() as connection:
        handler = connection.execute(
            text("SELECT id, department_id FROM staff WHERE role = 'handler' ORDER BY id")
        ).first()
        connection.execute(
            text(TICKETS_SQL[connection.dialect.name]),
            {"n": count, "now": naive(connection, now), "handler": handler[0], "dept": handler[1]},
        )
        connection.execute(
            text(
                "INSERT INTO deadlines (ticket_id, clock, started_at, due_at, provisional, state, "
                "next_alert_at) SELECT id, 'resolve', :start, "
                "CASE WHEN id <= :due THEN :past ELSE :later END, false, 'running', "
                "CASE WHEN id <= :due THEN :past ELSE :later END FROM tickets"
            ),
            {
                "start": naive(connection, now - timedelta(days=1)),
                "due": due,
                "later": naive(connection, later),
                "past": naive(connection, past),
            },
        )
        if connection.dialect.name == "postgresql":
            connection.execute(text("ANALYZE"))


def rearm(runtime, due: int) -> None:
    """The due clocks as they were before the sweep: nothing judged, their alert due."""
    with runtime.engine.begin() as connection:
        for table in ("notifications", "sla_breaches", "deadline_alerts"):
            connection.execute(text(f"DELETE FROM {table}"))
        connection.execute(
            text("UPDATE deadlines SET next_alert_at = due_at WHERE ticket_id <= :due"),
            {"due": due},
        )
        connection.execute(
            text("UPDATE tickets SET phone_callback = :no WHERE id <= :due"),
            {"due": due, "no": False},
        )


def naive(connection, moment: datetime):
    return moment.replace(tzinfo=None) if connection.dialect.name == "sqlite" else moment


INSERT_TICKETS = (
    "INSERT INTO tickets (number, status, severity, appeal_type, customer_name, phone, "
    "source_channel, complained_at, address, matter, content, attachments, handler_id, "
    "handling_department_id, result, responsible_person, external_number, gas_account, "
    "invalid_reason, money_status, money_kind, repeat_flag, accountability_flag, "
    "escalation_level, rounds, leader_signed_off, explanation_pending, phone_callback, "
    "created_at, updated_at, completion_due_at) "
    "SELECT 'TB' || {padded}, 'assigned', 'general', '维修', '测试', '13800138000', "
    "'微信公众号', :now, '', '', '', '[]', :handler, :dept, '', '', '', '', '', 'none', '', "
    "{no}, {no}, 0, 0, {no}, {no}, {no}, :now, :now, :now FROM {rows}"
)
TICKETS_SQL = {
    "postgresql": INSERT_TICKETS.format(
        padded="lpad(g::text, 12, '0')", no="false", rows="generate_series(1, :n) AS g"
    ),
    "sqlite": "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < :n) "
    + INSERT_TICKETS.format(padded="printf('%012d', x)", no="0", rows="g"),
}


def explain(runtime, now: datetime) -> None:
    with runtime.engine.connect() as connection:
        prefix = "EXPLAIN" if connection.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN"
        rows = connection.execute(
            text(
                f"{prefix} SELECT id FROM deadlines WHERE state = 'running' "
                "AND next_alert_at <= :now ORDER BY next_alert_at LIMIT 500"
            ),
            {"now": naive(connection, now)},
        ).all()
    print("plan of the selecting query:")
    for row in rows:
        print("   ", row[-1])


def measure(runtime, now: datetime, verbose: bool = True) -> tuple[int, float]:
    """One sweep: how many SQL statements it ran (the commit included), and its database
    time in milliseconds."""
    ran: list[tuple[str, float]] = []  # (statement, seconds from its start to its end)
    begun: list[float] = []

    def before(connection, cursor, statement, *args) -> None:
        begun.append(time.perf_counter())

    def after(connection, cursor, statement, *args) -> None:
        ran.append((statement, time.perf_counter() - begun.pop()))

    policy = runtime.deadline_policy()  # the calendar, read once per process: not the sweep's
    listeners = (("before_cursor_execute", before), ("after_cursor_execute", after))
    for name, listener in listeners:
        event.listen(runtime.engine, name, listener)
    started = time.perf_counter()
    with transaction(runtime.sessions) as session:
        sent = alerts.sweep(session, now, policy, limit=500)
        committing = time.perf_counter()
    ran.append(("COMMIT", time.perf_counter() - committing))
    elapsed = time.perf_counter() - started
    for name, listener in listeners:
        event.remove(runtime.engine, name, listener)
    database = sum(seconds for _, seconds in ran)
    if not verbose:
        return len(ran), database * 1000
    print(
        f"one sweep: {sent} alerts in {elapsed * 1000:.0f} ms wall, "
        f"{database * 1000:.1f} ms in the database, {len(ran)} SQL statements"
    )
    kinds: dict[str, list[float]] = {}
    for statement, seconds in ran:
        kinds.setdefault(" ".join(statement.split()[:4]), []).append(seconds)
    for head, times in sorted(kinds.items(), key=lambda item: -len(item[1])):
        print(f"   {len(times):5d} × {head} … {sum(times) * 1000:.1f} ms")
    return len(ran), database * 1000


if __name__ == "__main__":
    main()
