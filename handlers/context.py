"""What a handler gets: the open transaction, settings, the time, and after-commit hooks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.settings import Settings


@dataclass
class Context:
    session: Session
    settings: Settings
    now: datetime
    conversations: Any  # bot.conversations.ConversationStore
    services: Any = None  # bot.runtime.Runtime, for the few handlers that need more
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    def on_commit(self, action: Callable[[], None]) -> None:
        """Run `action` only once the transaction has committed (Redis writes, jobs)."""
        self.after_commit.append(action)
