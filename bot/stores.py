"""Small typed stores for the per-openid state besides the complaint draft
(`bot.conversations`), each one kind of `chat_states` row in the database. Each says what its
expiry means; `Stores.bound` gives a push the stores that work in its own transaction.

- `CommentSteps`: the optional comment after a star tap. The step itself decides expiry
  (`rating.comment_minutes`); the row lives a day longer so that the next message can still
  say the comment time is past.
- `CallbackReasons`: after 不满意, which ticket the customer's next text explains; 24 hours.
- `BindingFailures`: wrong binding codes per openid. The window opens at the first failure and
  the lock at the last (`LOCK_SECONDS`).
- `CallbackChoices`: a bare 满意/不满意 while several tickets await their call-back, waiting
  for the customer to pick one by its number; it applies to the next message only and expires
  after 30 minutes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.conversations import ConversationStore, StateAccess
from models.core.callback_answer import PendingChoice
from models.core.comment import CommentState

GRACE_SECONDS = 24 * 3600


class CommentSteps:
    KIND = "rating-comment"

    def __init__(self, access: StateAccess, comment_minutes: int) -> None:
        self._access = access
        self._minutes = comment_minutes
        self._ttl = comment_minutes * 60 + GRACE_SECONDS

    def rebound(self, access: StateAccess) -> CommentSteps:
        return CommentSteps(access, self._minutes)

    def get(self, openid: str) -> CommentState | None:
        raw = self._access.read(openid, self.KIND)
        if raw is None:
            return None
        try:
            return CommentState.from_dict(json.loads(raw))
        except (ValueError, KeyError, TypeError):
            self.clear(openid)
            return None

    def save(self, openid: str, state: CommentState) -> None:
        self._access.write(openid, self.KIND, json.dumps(state.to_dict()), self._ttl)

    def clear(self, openid: str) -> None:
        self._access.delete(openid, self.KIND)


class CallbackReasons:
    KIND = "callback-reason"
    TTL_SECONDS = 24 * 3600

    def __init__(self, access: StateAccess) -> None:
        self._access = access

    def rebound(self, access: StateAccess) -> CallbackReasons:
        return CallbackReasons(access)

    def expect(self, openid: str, ticket_id: int) -> None:
        self._access.write(openid, self.KIND, str(ticket_id), self.TTL_SECONDS)

    def pending(self, openid: str) -> int | None:
        raw = self._access.read(openid, self.KIND)
        return int(raw) if raw is not None and raw.isdigit() else None

    def clear(self, openid: str) -> None:
        self._access.delete(openid, self.KIND)


class CallbackChoices:
    KIND = "callback-choice"
    TTL_SECONDS = 30 * 60

    def __init__(self, access: StateAccess) -> None:
        self._access = access

    def rebound(self, access: StateAccess) -> CallbackChoices:
        return CallbackChoices(access)

    def get(self, openid: str) -> PendingChoice | None:
        raw = self._access.read(openid, self.KIND)
        if raw is None:
            return None
        try:
            return PendingChoice.from_dict(json.loads(raw))
        except (ValueError, KeyError, TypeError):
            self.clear(openid)
            return None

    def save(self, openid: str, choice: PendingChoice) -> None:
        value = json.dumps(choice.to_dict(), ensure_ascii=False)
        self._access.write(openid, self.KIND, value, self.TTL_SECONDS)

    def clear(self, openid: str) -> None:
        self._access.delete(openid, self.KIND)


class BindingFailures:
    KIND = "binding-failures"
    MAX_FAILURES = 5
    LOCK_SECONDS = 3600

    def __init__(self, access: StateAccess) -> None:
        self._access = access

    def rebound(self, access: StateAccess) -> BindingFailures:
        return BindingFailures(access)

    def locked_for(self, openid: str) -> int:
        """Seconds the openid may not bind any more (0: it may try)."""
        row = self._access.row(openid, self.KIND)
        if row is None or _failures(row.data) < self.MAX_FAILURES:
            return 0
        return max(1, math.ceil((row.expires_at - self._access.now()).total_seconds()))

    def fail(self, openid: str) -> int:
        """Count one wrong code; the number of failures so far. (Unbound, the read and the
        write are two transactions; bound to a push, the sender's lock serialises them.)"""
        row = self._access.row(openid, self.KIND)
        failures = (_failures(row.data) if row is not None else 0) + 1
        if row is None or failures >= self.MAX_FAILURES:
            expires_at = self._access.now() + timedelta(seconds=self.LOCK_SECONDS)
        else:
            expires_at = row.expires_at
        self._access.write_until(openid, self.KIND, str(failures), expires_at)
        return failures

    def clear(self, openid: str) -> None:
        self._access.delete(openid, self.KIND)


def _failures(data: str) -> int:
    return int(data) if data.isdigit() else 0


@dataclass(frozen=True)
class Stores:
    """Every per-openid store a handler may use, built once by the runtime."""

    conversations: ConversationStore
    comments: CommentSteps
    callback_reasons: CallbackReasons
    callback_choices: CallbackChoices
    binding_failures: BindingFailures
    access: StateAccess = field(repr=False)

    @classmethod
    def on(cls, sessions: sessionmaker[Session], idle_minutes: int, comment_minutes: int) -> Stores:
        access = StateAccess(sessions)
        return cls(
            conversations=ConversationStore(access, idle_minutes),
            comments=CommentSteps(access, comment_minutes),
            callback_reasons=CallbackReasons(access),
            callback_choices=CallbackChoices(access),
            binding_failures=BindingFailures(access),
            access=access,
        )

    def bound(self, session: Session, now: datetime, *, deferred: bool = False) -> Stores:
        """The same stores, working in `session` (one push's transaction) at time `now`;
        `deferred`: their writes wait in `access.take_pending()` (`StateAccess.bound`)."""
        access = self.access.bound(session, now, deferred=deferred)
        return Stores(
            conversations=self.conversations.rebound(access),
            comments=self.comments.rebound(access),
            callback_reasons=self.callback_reasons.rebound(access),
            callback_choices=self.callback_choices.rebound(access),
            binding_failures=self.binding_failures.rebound(access),
            access=access,
        )
