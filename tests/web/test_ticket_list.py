"""The ticket list: filters and search in the URL, keyset paging, and the list's visibility
rule agreeing with the workflow's ``can_view`` for every kind of person."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.db import transaction
from models.people.tables import Department
from models.ticket.tables import Deadline, Ticket
from tests.factories import make_ticket
from tests.web.office import office_runtime, set_passwords, signed_in

NUMBER = re.compile(r"/tickets/(TS\d{12})\"")


@pytest.fixture
def site(runtime, demo):
    site = office_runtime(runtime, page_size=3)
    set_passwords(site)
    yield site
    site.close()


def listed(client, query: str = "") -> list[str]:
    response = client.get(f"/tickets{query}")
    assert response.status_code == 200
    return NUMBER.findall(response.get_data(as_text=True))


def test_filters_each_narrow_the_list(site):
    now = datetime.now(UTC)
    numbers = {
        "plain": make_ticket(site),
        "complex": make_ticket(site, severity="complex", appeal_type="安装"),
        "hotline": make_ticket(site, source_channel="24小时客服热线", status="processing"),
        "repeat": make_ticket(site, repeat_flag=True, accountability_flag=True),
        "urgent": make_ticket(site, urgent=True),
        "callback": make_ticket(site, status="resolved", phone_callback=True),
        "market": make_ticket(site, handler="陈静", department="市场发展部"),
        "old": make_ticket(site, status="archived", created_at=now - timedelta(days=40)),
    }
    with transaction(site.sessions) as session:
        late = session.scalar(select(Ticket).where(Ticket.number == numbers["plain"]))
        session.add(
            Deadline(
                ticket_id=late.id,
                clock="resolve",
                started_at=now - timedelta(days=2),
                due_at=now - timedelta(hours=1),
                state="running",
            )
        )
        market = session.scalar(select(Department.id).where(Department.name == "市场发展部"))
    client = signed_in(site, "officer")

    def only(query: str) -> set[str]:
        found = set()
        for page in pages(client, query):
            found.update(page)
        return {key for key, number in numbers.items() if number in found}

    assert only("?severity=complex") == {"complex"}
    assert only("?type=安装") == {"complex"}
    assert only("?channel=24小时客服热线") == {"hotline"}
    assert only("?status=processing") == {"hotline"}
    assert only("?status=open") == set(numbers) - {"old"}
    assert only("?repeat=1") == only("?accountability=1") == {"repeat"}
    assert only("?urgent=1") == {"urgent"}
    assert only("?callback=1") == {"callback"}
    assert only("?overdue=1") == {"plain"}
    assert only(f"?dept={market}") == {"market"}
    since = (now - timedelta(days=41)).date().isoformat()
    until = (now - timedelta(days=39)).date().isoformat()
    assert only(f"?from={since}&to={until}") == {"old"}
    assert only("?repeat=1&severity=complex") == set()


def pages(client, query: str) -> list[list[str]]:
    """Every page of a list, following its 下一页 links."""
    found, url = [], f"/tickets{query}"
    while url:
        html = client.get(url).get_data(as_text=True)
        found.append(NUMBER.findall(html))
        following = re.search(r'href="([^"]*after=\d+[^"]*)">下一页', html)
        url = following.group(1).replace("&amp;", "&") if following else None
    return found


def test_search_by_number_phone_account_address_or_name(site):
    numbers = {
        "a": make_ticket(
            site, phone="13912345678", gas_account="88001234", address="阜阳市幸福路1号"
        ),
        "b": make_ticket(
            site,
            phone="0558-2703802",
            customer_name="刘先生",
            address="清河路9号",
            external_number="12345-2026-0815",
        ),
    }
    client = signed_in(site, "officer")

    def found(text: str) -> set[str]:
        return {k for k, n in numbers.items() if n in listed(client, f"?q={text}")}

    assert found(numbers["a"]) == {"a"}
    assert found(numbers["a"].lower()) == {"a"}
    assert found("139 1234 5678") == {"a"}
    assert found("5678") == {"a"}  # 尾号
    assert found("88001234") == {"a"}
    assert found("幸福路") == {"a"}
    assert found("05582703802") == {"b"}
    assert found("刘先生") == {"b"}
    assert found("12345-2026-0815") == {"b"}
    assert found("100%") == set()  # LIKE wildcards are searched for, not obeyed


def test_keyset_paging_walks_every_ticket_once_in_both_directions(site):
    made = [make_ticket(site) for _ in range(8)]
    client = signed_in(site, "officer")
    forward = pages(client, "")
    assert [len(page) for page in forward] == [3, 3, 2]
    assert list(itertools.chain(*forward)) == list(reversed(made))
    html = client.get(f"/tickets?after={_id(site, made[2])}").get_data(as_text=True)
    back = re.search(r'href="([^"]*before=\d+[^"]*)">‹ 上一页', html).group(1)
    assert listed(client, back.removeprefix("/tickets").replace("&amp;", "&")) == [
        made[4],
        made[3],
        made[2],
    ]


def _id(site, number: str) -> int:
    with site.sessions() as session:
        return session.scalar(select(Ticket.id).where(Ticket.number == number))


def test_the_filters_live_in_the_url_and_survive_paging(site):
    for _ in range(4):
        make_ticket(site, severity="major", address="幸福路1号")
    make_ticket(site, address="幸福路1号")
    client = signed_in(site, "officer")
    html = client.get("/tickets?severity=major&q=幸福路").get_data(as_text=True)
    assert "共 4 件" in html
    following = re.search(r'href="([^"]*after=\d+[^"]*)">下一页', html).group(1)
    assert "severity=major" in following and "q=" in following
    assert 'value="幸福路"' in html  # the search box shows the search


def test_a_bad_date_is_answered_with_a_note(site):
    make_ticket(site)
    response = signed_in(site, "officer").get("/tickets?from=2026-13-45")
    assert response.status_code == 200
    assert "参数 from / to 须为日期" in response.get_data(as_text=True)
