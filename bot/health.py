"""`/healthz`: the database, Redis, the sweeps, the spool, and whether the working-day
calendar is provisional. Answers within `CHECK_SECONDS` whatever those do: each check runs in
a thread of its own and one that has not answered in time is reported as a timeout.

503 when the database or Redis is down; 200 with `"status": "warning"` and the reasons in
`warnings` when a sweep is late (not finished for `outbox.sweep_late_seconds`, or three of its
intervals), has never run, pushes wait in the spool or abandoned pushes wait for the sweep.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import current_app, jsonify
from sqlalchemy import func, select, text

from bot.cron import PERIODIC
from bot.db import deadline, transaction
from bot.runtime import Runtime
from bot.spool import Spool
from models.inbound import InboundMessage, status_is
from models.sweeps import all_runs

CHECK_SECONDS = 3.0


def healthz():
    runtime: Runtime = current_app.extensions["bihuan"]
    now = datetime.now(UTC)
    results = _bounded(
        {"database": lambda: _database(runtime, now), "redis": lambda: _redis(runtime)},
        CHECK_SECONDS,
    )
    database = results["database"]
    checks = {
        "database": database if isinstance(database, str) else "ok",
        "redis": results["redis"],
    }
    healthy = all(value == "ok" for value in checks.values())
    body: dict[str, Any] = {**checks, "calendar": _calendar(runtime, now)}
    warnings = []
    if isinstance(database, dict):
        body["sweeps"] = database["sweeps"]
        body["abandoned_pushes"] = database["abandoned"]
        warnings += database["warnings"]
    body["spool"] = Spool(
        runtime.settings.spool_path, runtime.settings.wechat.spool_max_files
    ).count()
    if body["spool"]:
        warnings.append(f"{body['spool']} pushes wait in the local spool for the database")
    body["warnings"] = warnings
    body["status"] = "degraded" if not healthy else ("warning" if warnings else "ok")
    return jsonify(body), 200 if healthy else 503


def _bounded(checks: dict[str, Callable[[], Any]], timeout: float) -> dict[str, Any]:
    results: dict[str, Any] = {}

    def run(name: str, check: Callable[[], Any]) -> None:
        try:
            results[name] = check()
        except Exception as exc:  # noqa: BLE001 - any failure is reported, never raised
            results[name] = f"error: {type(exc).__name__}"

    threads = [
        threading.Thread(target=run, args=item, daemon=True, name=f"healthz-{item[0]}")
        for item in checks.items()
    ]
    for thread in threads:
        thread.start()
    until = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, until - time.monotonic()))
    return {name: results.get(name, "error: timeout") for name in checks}


def _database(runtime: Runtime, now: datetime) -> dict[str, Any]:
    settings = runtime.settings
    with deadline(CHECK_SECONDS), transaction(runtime.sessions) as session:
        session.execute(text("SELECT 1"))
        runs = all_runs(session)
        abandoned = session.scalar(
            select(func.count(InboundMessage.id)).where(
                status_is("processing"), InboundMessage.lease_until < now
            )
        )
    sweeps, warnings = {}, []
    for periodic in PERIODIC:
        run = runs.get(periodic.name)
        finished = run.finished_at if run is not None else None
        late = finished is None or (now - finished).total_seconds() > periodic.late_after(settings)
        sweeps[periodic.name] = {
            "last_run": finished.isoformat() if finished else None,
            "late": late,
            "last_error": _last_error(run),
        }
        if late:
            when = finished.isoformat() if finished else "never"
            warnings.append(f"sweep {periodic.name} is late (last finished: {when})")
    if abandoned:
        warnings.append(f"{abandoned} abandoned pushes wait for the push sweep")
    return {"sweeps": sweeps, "abandoned": abandoned, "warnings": warnings}


def _last_error(run) -> str:
    """The error of the last run when it failed after the last success."""
    if run is None or run.failed_at is None:
        return ""
    if run.finished_at is not None and run.finished_at > run.failed_at:
        return ""
    return run.last_error


def _redis(runtime: Runtime) -> str:
    runtime.redis.ping()
    return "ok"


def _calendar(runtime: Runtime, now: datetime) -> dict[str, str]:
    calendar = runtime.deadline_policy().calendar
    # "official" (chinese_calendar), "configured" (config.toml) or "provisional" (fallback).
    return {str(y): calendar.year_status(y) for y in (now.year, now.year + 1)}
