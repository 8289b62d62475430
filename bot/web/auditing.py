"""Who acts in a back-office request, for the audit log: the signed-in person and their
client address (behind the configured trusted proxies)."""

from __future__ import annotations

from flask import request

from bot.client import client_address
from bot.web.access import user
from bot.web.context import runtime
from models.audit.log import Who


def address() -> str:
    return client_address(request, runtime().settings.rating.proxy_hops)


def who() -> Who:
    person = user()
    return Who(name=person.name, role=person.role, address=address(), staff_id=person.staff_id)
