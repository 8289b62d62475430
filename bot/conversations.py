"""Complaint conversations in progress (投诉草稿), kept in the database (`chat_states`), one
row per openid, and the `StateAccess` every per-openid store reads and writes through.

A store bound to a push (`StateAccess.bound`) works in that push's transaction, so a step is
saved exactly when the push is recorded as handled, and a restart of Redis loses nothing.
Unbound (tests, the command line) each call is a short transaction of its own.

The state machine itself decides expiry from `updated_at`; the row's `expires_at` only
collects garbage, and is later than the idle limit so that the next message can still say
the draft expired.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from bot.db import transaction
from models import chat_state
from models.core.conversation import ConversationState
from models.pipeline import Step, run_together

GRACE_SECONDS = 24 * 3600
KIND = "conversation"
T = TypeVar("T")


class StateAccess:
    """The session a store uses (the push's own, or a transaction per call) and its clock.

    Bound to a push, the first look at an openid loads all its rows in one query; every
    later read, write or delete of that openid in the push works on those rows (all state
    goes through here, so they stay the truth for the transaction)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        session: Session | None = None,
        now: datetime | None = None,
        deferred: bool = False,
    ) -> None:
        self._sessions = sessions
        self._session = session
        self._now = now
        self._rows: dict[str, dict[str, chat_state.State]] = {}
        self._deferred = deferred and session is not None
        self._pending: list[Step] = []

    def bound(self, session: Session, now: datetime, *, deferred: bool = False) -> StateAccess:
        """Working in `session` at `now`. `deferred`: writes and deletes are kept as steps
        (`take_pending`) for the caller to send with its own last statements, before the
        COMMIT (reads here see them at once)."""
        return StateAccess(self._sessions, session, now, deferred)

    def take_pending(self) -> list[Step]:
        """The writes kept since the last call, in order (deferred access only)."""
        pending, self._pending = self._pending, []
        return pending

    def preload(self, openid: str, rows: dict[str, chat_state.State]) -> None:
        """The openid's rows, already read in the bound session (`inbound.open_push`)."""
        if self._session is not None:
            self._rows[openid] = dict(rows)

    def now(self) -> datetime:
        return self._now or datetime.now(UTC)

    def run(self, work: Callable[[Session], T]) -> T:
        if self._session is not None:
            return work(self._session)
        with transaction(self._sessions) as session:
            return work(session)

    def row(self, openid: str, kind: str) -> chat_state.State | None:
        """The live (unexpired) row, or None."""
        now = self.now()
        return self.run(lambda s: chat_state.live(self._rows_of(s, openid).get(kind), now))

    def read(self, openid: str, kind: str) -> str | None:
        row = self.row(openid, kind)
        return None if row is None else row.data

    def write(self, openid: str, kind: str, data: str, ttl_seconds: int) -> None:
        self.write_until(openid, kind, data, self.now() + timedelta(seconds=ttl_seconds))

    def write_until(self, openid: str, kind: str, data: str, expires_at: datetime) -> None:
        now = self.now()

        def work(session: Session) -> None:
            rows = self._rows_of(session, openid)
            dialect = session.get_bind().dialect.name
            step, rows[kind] = chat_state.put_step(
                dialect, rows.get(kind), (openid, kind), data, expires_at, now
            )
            self._write(session, step)

        self.run(work)

    def delete(self, openid: str, kind: str) -> None:
        def work(session: Session) -> None:
            row = self._rows_of(session, openid).pop(kind, None)
            if row is not None:
                self._write(session, chat_state.drop_step(row))

        self.run(work)

    def _write(self, session: Session, step: Step) -> None:
        if self._deferred:
            self._pending.append(step)
        else:
            run_together(session, [step])

    def _rows_of(self, session: Session, openid: str) -> dict[str, chat_state.State]:
        if self._session is None:  # a transaction per call: nothing is kept between calls
            return chat_state.load_all(session, openid)
        if openid not in self._rows:
            self._rows[openid] = chat_state.load_all(session, openid)
        return self._rows[openid]


class ConversationStore:
    def __init__(self, access: StateAccess, idle_minutes: int):
        self._access = access
        self._idle_minutes = idle_minutes
        self._ttl = idle_minutes * 60 + GRACE_SECONDS

    def rebound(self, access: StateAccess) -> ConversationStore:
        return ConversationStore(access, self._idle_minutes)

    def get(self, openid: str) -> ConversationState | None:
        raw = self._access.read(openid, KIND)
        if raw is None:
            return None
        try:
            return ConversationState.from_dict(json.loads(raw))
        except (ValueError, KeyError, TypeError):
            self.clear(openid)
            return None

    def save(self, openid: str, state: ConversationState) -> None:
        payload = json.dumps(state.to_dict(), ensure_ascii=False)
        self._access.write(openid, KIND, payload, self._ttl)

    def clear(self, openid: str) -> None:
        self._access.delete(openid, KIND)
