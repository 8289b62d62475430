"""The back office (后台): sign-in and roles, the ticket list and page with every action of the
workflow, intake from the channels other than WeChat, and the printable form.

Server-rendered Chinese pages (Jinja), vendored assets only, every form works without
JavaScript; errors are Chinese pages. Moves go through ``models.ticket.service.perform`` with
an actor on the "web" channel, so the rules and refusal texts are the workflow's own.
"""

from bot.web.setup import init_web

__all__ = ["init_web"]
