"""Every table, registered on one metadata (used by Alembic and by tests)."""

from models.base import Base
from models.inbound import InboundMessage
from models.notification import Notification
from models.people import BindingCode, Customer, Department, Staff
from models.rating import BusinessRecord, Rating, RatingCallback, RatingNotice, RatingRecord
from models.ticket import (
    Deadline,
    DeadlineAlert,
    SlaBreach,
    Ticket,
    TicketEvent,
    TicketSequence,
)

metadata = Base.metadata

__all__ = [
    "Base",
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
