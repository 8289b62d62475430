"""The dashboard's figures over a year of tickets on PostgreSQL (target: about a second).

    BIHUAN_DATABASE__URL=postgresql+psycopg://postgres@127.0.0.1:5432/bihuan_bench \
        python bench/figures_bench.py --tickets 1000000

Seeds a year (2026) of tickets with their clocks, call-backs, ratings, praise, criticism and
breaches by set-based SQL (INSERT … SELECT over generate_series, no ORM rows), then times
what the dashboard asks for: the month's figures, the year's monthly trend, the month per
department, the people table; and each query of `models.figures` separately. `--reuse` keeps
the data of an earlier run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from bot.db import transaction  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from models.core.figures import between, named_period  # noqa: E402
from models.demo import seed_demo  # noqa: E402
from models.figures import compute, people  # noqa: E402
from models.migrate import upgrade  # noqa: E402

ZONE = "Asia/Shanghai"
NOW = datetime(2026, 12, 20, 10, 0, tzinfo=ZoneInfo(ZONE))
YEAR_START = datetime(2026, 1, 1, tzinfo=ZoneInfo(ZONE))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep the data of an earlier run")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    environ = dict(os.environ)
    environ.setdefault("BIHUAN_DATABASE__STATEMENT_TIMEOUT_MS", "900000")  # the seeding
    settings = load_settings(environ=environ)
    runtime = build_runtime(settings)
    if runtime.engine.dialect.name != "postgresql":
        sys.exit("this benchmark needs PostgreSQL (BIHUAN_DATABASE__URL)")
    if not args.reuse:
        seed(runtime, args.tickets)
    counts(runtime)
    for _ in range(args.repeat):
        measure(runtime)


def seed(runtime, count: int) -> None:
    with runtime.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(runtime.engine)
    with transaction(runtime.sessions) as session:
        seed_demo(session, runtime.settings.workflow.general_department)
    started = time.perf_counter()
    seconds = (datetime(2026, 12, 20, tzinfo=ZoneInfo(ZONE)) - YEAR_START).total_seconds()
    parameters = {"n": count, "start": YEAR_START, "step": seconds / count, "now": NOW}
    with runtime.engine.begin() as connection:
        for label, statement in SEED:
            begun = time.perf_counter()
            connection.execute(text(statement), parameters)
            print(f"  {label}: {time.perf_counter() - begun:.1f} s", flush=True)
    with runtime.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    print(f"seeded {count} tickets in {time.perf_counter() - started:.0f} s")


STAFF = "(SELECT array_agg(id ORDER BY id) FROM staff WHERE role IN ('handler', 'dept_head'))"
SEED = (
    (
        "tickets",
        f"""
        WITH handlers AS (SELECT {STAFF} AS ids),
        s AS (SELECT g, :start + (g * :step) * interval '1 second' AS at
              FROM generate_series(1, :n) AS g)
        INSERT INTO tickets (number, status, severity, receiving_department_id, appeal_type,
            customer_name, phone, source_channel, complained_at, address, matter, content,
            attachments, handling_department_id, handler_id, result, responsible_person,
            external_number, gas_account, invalid_reason, money_status, money_kind,
            repeat_flag, accountability_flag, escalation_level, rounds, leader_signed_off,
            explanation_pending, phone_callback, created_at, updated_at, completion_due_at)
        SELECT 'TB' || lpad(g::text, 10, '0'),
            CASE WHEN g % 50 = 0 THEN 'invalid'
                 WHEN at > :now - interval '4 days'
                     THEN (ARRAY['received','assigned','processing','resolved'])[1 + g % 4]
                 WHEN g % 97 = 0 THEN 'processing'
                 ELSE 'archived' END,
            (ARRAY['general','general','general','complex','major'])[1 + g % 5],
            (SELECT id FROM departments WHERE is_general),
            (ARRAY['报装','设计','安装','点火','维修','服务态度','其他'])[1 + g % 7],
            '客户', '138' || lpad((g % 100000000)::text, 8, '0'),
            (ARRAY['24小时客服热线','投诉电话','门户网站','微信公众号','意见箱/意见簿',
                   '董事长信箱','政府投诉平台','来访'])[1 + g % 8],
            at, '幸福路' || (g % 500) || '号', '燃气问题', '燃气问题的详细描述', '[]',
            (SELECT department_id FROM staff WHERE id = h.ids[1 + g % cardinality(h.ids)]),
            h.ids[1 + g % cardinality(h.ids)], '已处理', '', '', '', '', 'none', '',
            g % 31 = 0, g % 311 = 0, 0, CASE WHEN g % 10 = 0 THEN 1 ELSE 0 END,
            false, false, false, at, at + interval '31 hours', at + interval '25 hours'
        FROM s, handlers h
        """,
    ),
    (
        "call-back columns",
        """
        UPDATE tickets SET
            first_callback_at = created_at
                + CASE WHEN rounds = 1 THEN interval '26 hours' ELSE interval '30 hours' END,
            first_callback_satisfied = rounds = 0,
            first_callback_staff_id = handler_id,
            last_callback_at = created_at + interval '30 hours',
            last_callback_satisfied = true,
            last_callback_staff_id = handler_id
        WHERE status = 'archived'
        """,
    ),
    (
        "clocks",
        """
        INSERT INTO deadlines (ticket_id, clock, started_at, due_at, provisional, state,
            stopped_at, next_alert_at)
        SELECT t.id, c.clock, t.created_at + c.start_after, t.created_at + c.due_after,
            t.created_at > '2026-12-01' AND c.clock = 'resolve',
            CASE WHEN t.status IN ('archived', 'invalid') OR c.clock <> 'resolve'
                 THEN CASE WHEN t.id % c.late_every = 0 THEN 'late' ELSE 'met' END
                 ELSE 'running' END,
            CASE WHEN t.status IN ('archived', 'invalid') OR c.clock <> 'resolve'
                 THEN t.created_at + c.start_after + interval '90 minutes' END,
            NULL
        FROM tickets t
        CROSS JOIN (VALUES ('investigate', interval '1 hour', interval '3 hours', 9),
                           ('resolve', interval '1 hour', interval '25 hours', 13),
                           ('callback', interval '26 hours', interval '28 hours', 17))
            AS c(clock, start_after, due_after, late_every)
        WHERE t.status <> 'received'
        """,
    ),
    (
        "events",
        """
        INSERT INTO ticket_events (ticket_id, kind, actor_role, actor_name, actor_staff_id,
            channel, text, from_status, to_status, created_at)
        SELECT t.id, e.kind, e.role, '', CASE WHEN e.kind = 'resolve' THEN t.handler_id END,
            'wechat', '', '', '', t.created_at + e.after
        FROM tickets t
        CROSS JOIN (VALUES (1, 'resolve', 'handler', interval '20 hours'),
                           (2, 'reopened', 'customer', interval '26 hours'),
                           (3, 'resolve', 'handler', interval '27 hours'),
                           (4, 'archived', 'customer', interval '30 hours'),
                           (5, 'return', 'handler', interval '2 hours'))
            AS e(step, kind, role, after)
        WHERE (t.status = 'archived' AND e.step IN (1, 4))
           OR (t.status = 'archived' AND t.rounds = 1 AND e.step IN (2, 3))
           OR (t.id % 83 = 0 AND e.step = 5)
        ORDER BY t.id, e.step
        """,
    ),
    (
        "ratings",
        """
        INSERT INTO ratings (target, ticket_id, staff_id, stars, comment, channel, phone,
            created_at, updated_at)
        SELECT 'ticket', id, handler_id, 1 + (id * 7) % 5, '', 'wechat', '',
            created_at + interval '31 hours', created_at + interval '31 hours'
        FROM tickets WHERE status = 'archived' AND id % 3 = 0
        """,
    ),
    (
        "praise and criticism",
        """
        INSERT INTO rating_records (rating_id, staff_id, kind, stars, created_at)
        SELECT id, staff_id, CASE WHEN stars = 5 THEN 'praise' ELSE 'criticism' END, stars,
            created_at
        FROM ratings WHERE stars = 5 OR stars <= 3
        """,
    ),
    (
        "breaches",
        """
        INSERT INTO sla_breaches (deadline_id, ticket_id, staff_id, clock, breached_at)
        SELECT d.id, d.ticket_id, t.handler_id, d.clock, d.due_at
        FROM deadlines d JOIN tickets t ON t.id = d.ticket_id
        WHERE d.state = 'late' OR (d.state = 'running' AND d.due_at < :now)
        """,
    ),
)


def counts(runtime) -> None:
    with runtime.engine.connect() as connection:
        for table in ("tickets", "deadlines", "ticket_events", "ratings", "sla_breaches"):
            rows = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            print(f"  {table}: {rows}")


def measure(runtime) -> None:
    month = named_period("month", NOW, ZONE)
    year = between(YEAR_START.date(), datetime(2026, 12, 31).date(), ZONE)
    timings = {}

    def timed(label, action):
        begun = time.perf_counter()
        with runtime.sessions() as session:
            result = action(session)
        timings[label] = time.perf_counter() - begun
        return result

    board = timed(
        "month (per department, summed) and the year's trend by month",
        lambda s: compute.dashboard(s, month, year, NOW, "month", ZONE),
    )
    timed("month per person", lambda s: people.people(s, month))
    total = sum(timings.values())
    print(f"dashboard: {total:.2f} s in all")
    figures = board.figures
    timed("  month's figures alone", lambda s: compute.figures(s, month, NOW))
    timed("  year's trend alone", lambda s: compute.trend(s, year, NOW, "month", ZONE))
    for label, seconds in timings.items():
        print(f"   {seconds * 1000:7.0f} ms  {label}")
    for count in compute.COUNTS:
        timed(count.__name__, lambda s, c=count: c(s, month, NOW, compute.EVERYTHING,
                                                  compute.Grouping()))  # fmt: skip
        print(f"   {timings[count.__name__] * 1000:7.0f} ms    month: {count.__name__}")
    print(
        f"   month: received {figures.received}, due {figures.due}, archived {figures.archived},"
        f" first call-backs {figures.first_answered}, satisfied {figures.first_satisfied},"
        f" final {figures.final_satisfied}/{figures.final_answered},"
        f" clocks due {figures.clocks_due}, open {figures.open_now}, overdue {figures.overdue_now}"
    )


if __name__ == "__main__":
    main()
