"""Picks the handler for a message by who sent it (explicit table, no magic)."""

from __future__ import annotations

from handlers import binding, customer, platform_events
from handlers.context import Context
from handlers.incoming import IncomingMessage
from models.people.customers import staff_by_openid


def dispatch(ctx: Context, message: IncomingMessage) -> str:
    """The reply text for one message; "" to answer nothing."""
    if platform_events.is_platform_event(message):
        return platform_events.record_delivery(ctx, message)
    staff = staff_by_openid(ctx.session, message.openid, ctx.sender_staff)
    if message.kind == "text" or binding.scene_code(message) is not None:
        reply = binding.try_binding(ctx, message, staff)
        if reply is not None:
            return reply
    if staff is not None:
        from handlers import staff as staff_handlers

        return staff_handlers.handle(ctx, staff, message)
    return customer.handle(ctx, message)
