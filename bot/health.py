"""`/healthz`: the database, Redis, and whether the working-day calendar is provisional."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError


def healthz():
    runtime = current_app.extensions["bihuan"]
    checks = {"database": _database(runtime), "redis": _redis(runtime)}
    year = datetime.now(UTC).year
    calendar = runtime.deadline_policy().calendar
    # "official" (chinese_calendar), "configured" (config.toml) or "provisional" (fallback).
    years = {str(y): calendar.year_status(y) for y in (year, year + 1)}
    healthy = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if healthy else "degraded", **checks, "calendar": years}
    return jsonify(body), 200 if healthy else 503


def _database(runtime) -> str:
    try:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return "ok"
    except SQLAlchemyError as exc:
        return f"error: {type(exc).__name__}"


def _redis(runtime) -> str:
    try:
        runtime.redis.ping()
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is reported, never raised
        return f"error: {type(exc).__name__}"
