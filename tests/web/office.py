"""Shared steps of the back-office tests: passwords for the demo staff, a signed-in client,
forms posted with their CSRF token, and the ticket behind a page."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache

from sqlalchemy import select

from bot.app import create_app
from bot.db import transaction
from bot.passwords import hash_password
from bot.runtime import build_runtime
from models.people.accounts import set_password_hash
from models.people.tables import Staff
from models.ticket.tables import Ticket

PASSWORD = "Gas-2026-safe"
SECRET = "back-office-test-secret"
# Who plays each role: the demo staff (models/demo.py).
PEOPLE = {
    "handler": "王芳",
    "dept_head": "李强",
    "officer": "周敏",
    "leader": "钱立",
    "executive": "孙总",
    "clerk": "吴文",
    "other_handler": "陈静",  # 市场发展部
}
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
INTAKE = {
    "source_channel": "24小时客服热线",
    "external_number": "",
    "appeal_type": "维修",
    "severity": "general",
    "name": "李四",
    "phone": "13912345678",
    "gas_account": "100234",
    "address": "幸福路2号5栋302",
    "complained_at": "",
    "matter": "",
    "content": "燃气灶打不着火，报修两天没人来",
}


def office_runtime(runtime, **web):
    """A runtime on the test database and Redis with a fixed secret key."""
    settings = runtime.settings.override(web={"secret_key": SECRET, **web})
    return build_runtime(settings, redis=runtime.redis)


def set_passwords(site, names=None, password: str = PASSWORD) -> None:
    with transaction(site.sessions) as session:
        for name in names or PEOPLE.values():
            staff = session.scalar(select(Staff).where(Staff.name == name))
            set_password_hash(session, staff, _hashed(password), datetime.now(UTC))


@cache
def _hashed(password: str) -> str:
    """One scrypt hash per password for the whole run (hashing is slow on purpose)."""
    return hash_password(password)


def csrf_token(client, url: str = "/login") -> str:
    page = client.get(url)
    found = CSRF.search(page.get_data(as_text=True))
    assert found is not None, f"no CSRF token on {url}"
    return found.group(1)


def sign_in(client, name: str, password: str = PASSWORD, address: str = "10.0.0.1"):
    token = csrf_token(client)
    return client.post(
        "/login",
        data={"csrf_token": token, "username": name, "password": password, "next": "/tickets"},
        environ_base={"REMOTE_ADDR": address},
    )


def signed_in(site, role: str):
    """A test client of a fresh app, signed in as the person playing ``role``."""
    client = create_app(runtime=site).test_client()
    response = sign_in(client, PEOPLE[role])
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def post_form(client, form_url: str, action_url: str, data: dict):
    """Post ``data`` to ``action_url`` with the CSRF token of the page at ``form_url``."""
    return client.post(action_url, data={"csrf_token": csrf_token(client, form_url), **data})


def act(client, number: str, kind: str, **fields):
    """One action of the ticket page, its fields named as the page names them."""
    data = {f"{kind}-{name}": value for name, value in fields.items()}
    data[f"{kind}-csrf_token"] = csrf_token(client, f"/tickets/{number}")
    return client.post(f"/tickets/{number}/actions/{kind}", data=data)


def register(client, **changes):
    """Post the intake form (a hotline complaint unless changed)."""
    page = client.get("/tickets/new").get_data(as_text=True)
    key = re.search(r'name="intake_key" type="hidden" value="([^"]+)"', page).group(1)
    department = re.search(r'<option selected value="(\d+)">', page)
    data = {**INTAKE, "intake_key": key, "csrf_token": CSRF.search(page).group(1)}
    data["receiving_department"] = department.group(1) if department else ""
    data.update(changes)
    return client.post("/tickets/new", data=data)


def ticket_of(site, number: str) -> Ticket:
    with site.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        session.expunge_all()
        return ticket


def text_of(response) -> str:
    """The visible text of a page, roughly: tags dropped, whitespace folded."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())
