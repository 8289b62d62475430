"""One customer message being answered (`Turn`): the message, its normalised words, and what
the routes need to know about the customer, each looked up at most once per message."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy import select

from handlers.context import Context
from handlers.incoming import IncomingMessage
from models.core.comment import CommentState
from models.core.conversation import ConversationState
from models.people import customers
from models.people.tables import Customer
from models.ticket import intake as tickets
from models.ticket.tables import Ticket


class Turn:
    def __init__(self, ctx: Context, message: IncomingMessage) -> None:
        self.ctx = ctx
        self.message = message
        self.note = ""  # said before the answer (e.g. the comment time is past)

    @cached_property
    def word(self) -> str:
        """The text as one normalised word ("" for anything but text)."""
        if self.message.kind != "text":
            return ""
        normal = tickets.normalize_number(self.message.text)
        return normal.replace("　", " ").strip(" 。.!！?？")

    @cached_property
    def customer(self) -> Customer:
        """The follower, created on first contact; this message opens their service window."""
        customer = customers.get_or_create_customer(
            self.ctx.session, self.message.openid, self.ctx.now
        )
        customer.last_inbound_at = self.ctx.now
        return customer

    @cached_property
    def conversation(self) -> ConversationState | None:
        return self.ctx.stores.conversations.get(self.message.openid)

    @cached_property
    def comment_step(self) -> CommentState | None:
        return self.ctx.stores.comments.get(self.message.openid)

    @cached_property
    def awaiting_callback(self) -> Ticket | None:
        """The customer's most recent resolved ticket, locked: it awaits their 满意/不满意."""
        statement = (
            select(Ticket)
            .where(Ticket.customer_id == self.customer.id, Ticket.status == "resolved")
            .order_by(Ticket.updated_at.desc())
            .limit(1)
            .with_for_update()
        )
        return self.ctx.session.scalar(statement)

    def with_note(self, reply: str) -> str:
        return f"{self.note}\n{reply}" if self.note and reply else reply
