"""Every table, registered on one metadata (used by Alembic and by tests)."""

from models.access.tables import ApiKey
from models.audit.tables import AuditEntry
from models.base import Base
from models.bulletin.tables import Bulletin
from models.calendar.tables import CalendarDay, CalendarVersion, CalendarYear
from models.chat_state import ChatState
from models.inbound import InboundMessage, PushNonce
from models.notification.tables import Digest, Notification
from models.people.tables import (
    BindingCode,
    Customer,
    Department,
    Designation,
    LoginThrottle,
    Staff,
)
from models.rating.tables import BusinessRecord, Rating, RatingCallback, RatingNotice, RatingRecord
from models.sweeps import SweepRun
from models.ticket.tables import (
    AccountabilityReview,
    Attachment,
    Deadline,
    DeadlineAlert,
    LedgerExport,
    SlaBreach,
    Ticket,
    TicketEvent,
    TicketSequence,
)

metadata = Base.metadata

__all__ = [
    "AccountabilityReview",
    "AuditEntry",
    "CalendarDay",
    "CalendarVersion",
    "CalendarYear",
    "Designation",
    "ApiKey",
    "Attachment",
    "Base",
    "Bulletin",
    "Digest",
    "LedgerExport",
    "BindingCode",
    "BusinessRecord",
    "ChatState",
    "Notification",
    "Customer",
    "Deadline",
    "DeadlineAlert",
    "SlaBreach",
    "Department",
    "InboundMessage",
    "LoginThrottle",
    "PushNonce",
    "Rating",
    "RatingCallback",
    "RatingNotice",
    "RatingRecord",
    "Staff",
    "SweepRun",
    "Ticket",
    "TicketEvent",
    "TicketSequence",
    "metadata",
]
