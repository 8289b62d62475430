"""Every table, registered on one metadata (used by Alembic and by tests)."""

from models.base import Base
from models.inbound import InboundMessage
from models.people import Customer, Department, Staff
from models.ticket import Deadline, Ticket, TicketEvent, TicketSequence

metadata = Base.metadata

__all__ = [
    "Base",
    "Customer",
    "Deadline",
    "Department",
    "InboundMessage",
    "Staff",
    "Ticket",
    "TicketEvent",
    "TicketSequence",
    "metadata",
]
