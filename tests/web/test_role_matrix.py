"""Every back-office route × every role, over HTTP: allowed, or refused (403, or 404 for a
ticket the person may not see, exactly like one that does not exist); signed out, to /login.

Tickets: one of 运行维护部 (王芳 handles it, 李强 heads it), one of 市场发展部 that only its
people and the whole-company roles see, and one registered by the clerk 吴文.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from bot.app import create_app
from models.ticket.tables import Ticket
from tests.factories import event_count, make_ticket
from tests.web.office import (
    INTAKE,
    PEOPLE,
    act,
    office_runtime,
    register,
    set_passwords,
    signed_in,
)

ROLES = tuple(PEOPLE)  # handler, dept_head, officer, leader, executive, clerk, other_handler
EVERYONE = set(ROLES)
WHOLE_COMPANY = {"officer", "leader", "executive"}
OWN_DEPARTMENT = {"handler", "dept_head"}


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # {own}, {other} and {clerks} are ticket numbers
    allowed: frozenset[str]
    ticket: str = ""  # whose event count must change when allowed (for posts)
    action: tuple = ()  # (kind, fields) of a ticket action


CASES = {
    "list": Case("GET", "/tickets", frozenset(EVERYONE)),
    "intake page": Case(
        "GET",
        "/tickets/new",
        frozenset({"handler", "dept_head", "officer", "clerk", "other_handler"}),
    ),
    "own department's ticket": Case(
        "GET", "/tickets/{own}", frozenset(OWN_DEPARTMENT | WHOLE_COMPANY)
    ),
    "another department's ticket": Case(
        "GET", "/tickets/{other}", frozenset({"other_handler"} | WHOLE_COMPANY)
    ),
    "a ticket the clerk registered": Case(
        "GET", "/tickets/{clerks}", frozenset({"clerk"} | WHOLE_COMPANY)
    ),
    "print form": Case("GET", "/tickets/{own}/print", frozenset(OWN_DEPARTMENT | WHOLE_COMPANY)),
    "password page": Case("GET", "/account/password", frozenset(EVERYONE)),
    "ack (接单)": Case("POST", "", frozenset(OWN_DEPARTMENT), ticket="own", action=("ack", {})),
    "urge (催办)": Case(
        "POST", "", frozenset({"officer", "leader"}), ticket="own", action=("urge", {})
    ),
    "escalate (升级)": Case(
        "POST",
        "",
        frozenset({"officer", "leader"}),
        ticket="own",
        action=("escalate", {"severity": "complex"}),
    ),
    "invalid (无效)": Case(
        "POST",
        "",
        frozenset({"officer", "dept_head"}),
        ticket="own",
        action=("invalid", {"text": "重复提交"}),
    ),
}


@pytest.fixture
def site(runtime, demo):
    site = office_runtime(runtime)
    set_passwords(site)
    yield site
    site.close()


@pytest.fixture
def numbers(site):
    return {
        "own": make_ticket(site),
        "other": make_ticket(
            site, handler="陈静", department="市场发展部", receiving_department_id=None
        ),
        "clerks": make_ticket(
            site,
            status="received",
            handler=None,
            department=None,
            receiving_department_id=None,
            registered_by="吴文",
        ),
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(CASES))
def test_route_by_role(site, numbers, name: str, role: str) -> None:
    case = CASES[name]
    client = signed_in(site, role)
    if case.action:
        kind, fields = case.action
        number = numbers[case.ticket]
        before = event_count(site, number)
        response = act(client, number, kind, **fields)
        changed = event_count(site, number) > before
        if role in case.allowed:
            assert response.status_code == 303 and changed, response.get_data(as_text=True)
        else:
            assert response.status_code in (403, 404) and not changed
        return
    response = client.get(case.path.format(**numbers))
    expected = 200 if role in case.allowed else (404 if "{" in case.path else 403)
    assert response.status_code == expected, (name, role)
    if expected != 200:
        assert "<html" in response.get_data(as_text=True)  # a Chinese page, not a trace


@pytest.mark.parametrize("role", ROLES)
def test_registering_a_ticket_by_role(site, role: str) -> None:
    client = signed_in(site, role)
    with site.sessions() as session:
        before = session.scalar(select(func.count(Ticket.id)))
    if role in CASES["intake page"].allowed:
        assert register(client).status_code == 303
        expected = before + 1
    else:
        response = client.post("/tickets/new", data=INTAKE)
        assert response.status_code == 403 and "登记投诉仅限" in response.get_data(as_text=True)
        expected = before
    with site.sessions() as session:
        assert session.scalar(select(func.count(Ticket.id))) == expected


@pytest.mark.parametrize("name", list(CASES))
def test_signed_out_every_route_goes_to_login(site, numbers, name: str) -> None:
    case = CASES[name]
    client = create_app(runtime=site).test_client()
    if case.action:
        number = numbers[case.ticket]
        response = client.post(f"/tickets/{number}/actions/{case.action[0]}")
        assert response.headers["Location"] == f"/login?next=/tickets/{number}"
    else:
        path = case.path.format(**numbers)
        response = client.get(path)
        assert response.headers["Location"] == f"/login?next={path}"
    assert response.status_code == 303


def test_the_list_shows_each_role_only_what_it_may_see(site, numbers) -> None:
    seen = {}
    for role in ROLES:
        page = signed_in(site, role).get("/tickets").get_data(as_text=True)
        seen[role] = {key for key, number in numbers.items() if number in page}
    assert seen == {
        "handler": {"own"},
        "dept_head": {"own"},
        "officer": {"own", "other", "clerks"},
        "leader": {"own", "other", "clerks"},
        "executive": {"own", "other", "clerks"},
        "clerk": {"clerks"},
        "other_handler": {"other"},
    }
