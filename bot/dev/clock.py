"""The development server's clock and sweep, for trying time-based behaviour without waiting
(reminders, breaches, the call-back timeout, idle expiry, the daily digest).

Registered only by `bihuan serve` when no real 公众号 is configured (the local fake WeChat API
is in use), never by `create_app` for gunicorn:
- POST /_dev/clock {"advance": "2h"} | {"at": "2026-11-30T12:05"} | {"reset": true}: shifts the
  process's clock; every later message and the embedded sweeps run at the shifted time.
- POST /_dev/sweep {"at": ISO (optional)}: runs the sweeps once at that moment.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, jsonify, request

from bot.runtime import Runtime
from jobs.sweeps import run_all

blueprint = Blueprint("dev_clock", __name__)
STEP = re.compile(r"^\+?(\d+)\s*([dhm])$")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}


class BadMoment(ValueError):
    """A clock argument that is neither +N[dhm] nor an ISO 8601 time."""


def parse_moment(text: str, now: datetime, timezone: str) -> datetime:
    """+2h / +30m / +1d from ``now``, or an ISO time (local when it has no offset)."""
    text = text.strip()
    step = STEP.match(text)
    if step:
        return now + timedelta(**{UNITS[step.group(2)]: int(step.group(1))})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise BadMoment(f"不认识的时间：{text}（例如 +2h、+30m、2026-11-30T12:05）") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(timezone))


@blueprint.post("/_dev/clock")
def clock() -> Response:
    runtime = _runtime()
    body = request.get_json(silent=True) or {}
    if body.get("reset"):
        runtime.clock_offset = timedelta(0)
    else:
        now = runtime.now()
        target = _moment(runtime, body.get("at") or body.get("advance") or "", now)
        if isinstance(target, Response):
            return target
        runtime.clock_offset += target - now
    return jsonify(now=_local(runtime, runtime.now()), offset_minutes=_offset(runtime))


@blueprint.post("/_dev/sweep")
def sweep() -> Response:
    runtime = _runtime()
    body = request.get_json(silent=True) or {}
    now = runtime.now()
    moment = _moment(runtime, body["at"], now) if body.get("at") else now
    if isinstance(moment, Response):
        return moment
    return jsonify(at=_local(runtime, moment), **run_all(runtime, moment))


def _moment(runtime: Runtime, text: str, now: datetime) -> datetime | Response:
    try:
        return parse_moment(str(text), now, runtime.settings.app.timezone)
    except BadMoment as exc:
        response = jsonify(error=str(exc))
        response.status_code = 400
        return response


def _runtime() -> Runtime:
    return current_app.extensions["bihuan"]


def _local(runtime: Runtime, moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(runtime.settings.app.timezone)).isoformat(timespec="minutes")


def _offset(runtime: Runtime) -> int:
    return round(runtime.clock_offset.total_seconds() / 60)
