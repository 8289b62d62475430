"""Every rule's settings in one value (the domain policy), built once per process by the
runtime (`bot.policies.build_policy`) and handed to handlers and jobs. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from models.core.comment import CommentConfig
from models.core.conversation import ConversationConfig
from models.core.deadline_policy import DeadlinePolicy
from models.core.rating_policy import RatingPolicy
from models.core.safety import SafetyConfig
from models.core.workflow import WorkflowConfig


@dataclass(frozen=True)
class DomainPolicy:
    workflow: WorkflowConfig
    deadlines: DeadlinePolicy
    rating: RatingPolicy
    conversation: ConversationConfig
    comment: CommentConfig
    safety: SafetyConfig = SafetyConfig()

    @property
    def timezone(self) -> str:
        return self.deadlines.timezone
