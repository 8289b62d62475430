"""One customer message being answered (`Turn`): the message, its normalised words, and what
the routes need to know about the customer, each looked up at most once per message."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy import select

from handlers.context import Context
from handlers.incoming import IncomingMessage
from models.core import replies
from models.core.callback_answer import CallbackAnswer, PendingChoice, read_answer
from models.core.comment import CommentState
from models.core.conversation import ConversationState, text_of
from models.people import customers
from models.people.tables import Customer
from models.ticket import intake as tickets
from models.ticket.tables import Ticket


class Turn:
    def __init__(self, ctx: Context, message: IncomingMessage) -> None:
        self.ctx = ctx
        self.message = message
        self.notes: list[str] = []  # said before the answer (safety advice, comment time past)

    @cached_property
    def word(self) -> str:
        """The text as one normalised word ("" for anything but text)."""
        if self.message.kind != "text":
            return ""
        normal = tickets.normalize_number(self.message.text)
        return normal.replace("　", " ").strip(" 。.!！?？")

    @cached_property
    def text(self) -> str:
        """What the customer said in words: typed text or a voice message's recognition."""
        return text_of(self.message.as_conversation_input()) or ""

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
    def callback_choice(self) -> PendingChoice | None:
        return self.ctx.stores.callback_choices.get(self.message.openid)

    @cached_property
    def callback_answer(self) -> CallbackAnswer | None:
        """满意/不满意 (1/2, words, with a ticket number or a remark) in a text message."""
        return read_answer(self.message.text) if self.message.kind == "text" else None

    @cached_property
    def awaiting_callbacks(self) -> list[Ticket]:
        """The customer's resolved tickets, locked, oldest first: each awaits 满意/不满意."""
        statement = (
            select(Ticket)
            .where(Ticket.customer_id == self.customer.id, Ticket.status == "resolved")
            .order_by(Ticket.updated_at, Ticket.id)
            .with_for_update()
        )
        return list(self.ctx.session.scalars(statement))

    def add_note(self, note: str) -> None:
        self.notes.append(note)

    def with_note(self, reply: str) -> str:
        """The notes first (safety advice is never cut), then the reply, within 2048 bytes."""
        head = "\n".join(self.notes)
        if not head:
            return reply
        if not reply:
            return head
        room = replies.MAX_REPLY_BYTES - len(head.encode("utf-8")) - 2
        return f"{head}\n\n{replies.clip(reply, max(room, 0))}"
