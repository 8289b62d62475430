"""Every table, registered on one metadata (used by Alembic and by tests)."""

from models.base import Base
from models.inbound import InboundMessage
from models.notification.tables import Digest, Notification
from models.people.tables import BindingCode, Customer, Department, Staff
from models.rating.tables import BusinessRecord, Rating, RatingCallback, RatingNotice, RatingRecord
from models.ticket.tables import (
    Attachment,
    Deadline,
    DeadlineAlert,
    SlaBreach,
    Ticket,
    TicketEvent,
    TicketSequence,
)

metadata = Base.metadata

__all__ = [
    "Attachment",
    "Base",
    "Digest",
    "BindingCode",
    "BusinessRecord",
    "Notification",
    "Customer",
    "Deadline",
    "DeadlineAlert",
    "SlaBreach",
    "Department",
    "InboundMessage",
    "Rating",
    "RatingCallback",
    "RatingNotice",
    "RatingRecord",
    "Staff",
    "Ticket",
    "TicketEvent",
    "TicketSequence",
    "metadata",
]
