"""What a handler gets: the open transaction, the time, the settings and the domain policy,
the per-openid stores (working in that same transaction), and after-commit hooks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from models.core.policy import DomainPolicy
from models.people.customers import StaffLookup

if TYPE_CHECKING:  # the edges hand these in; handlers never build them
    from bot.conversations import ConversationStore
    from bot.settings import Settings
    from bot.stores import Stores


@dataclass
class Context:
    session: Session
    settings: Settings
    policy: DomainPolicy
    stores: Stores
    now: datetime
    # A signed link to a stored attachment (None: links cannot be made in this process).
    media_link: Callable[[int], str] | None = None
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    # The sender's staff binding, read with the push's first statements (None: not read).
    sender_staff: StaffLookup | None = None

    @property
    def conversations(self) -> ConversationStore:
        return self.stores.conversations

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.policy.timezone)

    def on_commit(self, action: Callable[[], None]) -> None:
        """Run `action` only once the transaction has committed (jobs, anything outside the
        database; the stores need no hook, they write in the transaction)."""
        self.after_commit.append(action)
