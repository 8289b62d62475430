"""The dashboard, the ledger download and the bulletins in the back office, over HTTP: who may
open each page; a dashboard number's link lists exactly the tickets it counts; a ledger
requested from the list is built by a real rq worker and downloaded as a workbook; a bulletin's
page shows the figures frozen when it was issued."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.db import transaction
from bot.policies import rating_policy
from jobs import runtime as job_runtime
from jobs.bulletins import bulletin_config
from models.bulletin import service as bulletins
from models.people.tables import Department, Staff
from models.rating import service as ratings
from models.rating.tables import BusinessRecord
from models.ticket import ledger
from models.ticket.tables import Deadline, LedgerExport, SlaBreach, Ticket
from tests.factories import make_ticket, rate_ticket, run_worker
from tests.web.office import PEOPLE, csrf_token, office_runtime, set_passwords, signed_in
from tests.web.support import make_business

NUMBER = re.compile(r"/tickets/(TS\d{12})\"")
REPORT_VIEWERS = {"officer", "leader", "executive"}
BULLETIN_READERS = {"officer", "leader"}


@pytest.fixture
def site(runtime, demo, tmp_path):
    site = office_runtime(runtime, page_size=100)
    site.settings = site.settings.override(ledger={"folder": str(tmp_path)})
    set_passwords(site)
    yield site
    site.close()


def work(site) -> None:
    """The rq worker, in burst mode, running jobs with this test's runtime."""
    job_runtime.bind(site)
    try:
        run_worker(site)
    finally:
        job_runtime.bind(None)


def issue_bulletin(site, now: datetime) -> int:
    with transaction(site.sessions) as session:
        bulletin, _ = bulletins.issue(session, "weekly", now, bulletin_config(site.settings))
        return bulletin.id


@pytest.mark.parametrize("role", list(PEOPLE))
def test_each_role_reaches_only_its_report_pages(site, role):
    bulletin_id = issue_bulletin(site, datetime.now(UTC))
    client = signed_in(site, role)
    expected = {
        "/dashboard": REPORT_VIEWERS,
        "/dashboard?period=month": REPORT_VIEWERS,
        "/bulletins": BULLETIN_READERS,
        f"/bulletins/{bulletin_id}": BULLETIN_READERS,
    }
    for path, allowed in expected.items():
        status = client.get(path).status_code
        assert status == (200 if role in allowed else 403), (role, path, status)
    token = csrf_token(client, "/account/password")
    answer = client.post("/exports", data={"csrf_token": token, "query": ""})
    assert answer.status_code == (303 if role in REPORT_VIEWERS else 403), role


def test_signed_out_report_pages_go_to_sign_in(site):
    client = create_app(runtime=site).test_client()
    for path in ("/dashboard", "/bulletins", "/bulletins/1", "/exports/1", "/exports/1/file"):
        assert client.get(path).status_code == 303, path
        assert "/login" in client.get(path).headers["Location"]


def test_bad_dashboard_period_is_a_400_naming_it(site):
    client = signed_in(site, "officer")
    for query, words in (
        ("period=year", "period"),
        ("from=2026-13-01", "from"),
        ("from=2026-11-10&to=2026-11-01", "to"),
    ):
        answer = client.get(f"/dashboard?{query}")
        assert answer.status_code == 400, query
        assert words in answer.get_data(as_text=True)


def dashboard_links(client, query: str = "") -> dict[str, tuple[int, str]]:
    """Each department row's received link: department id → (number shown, link)."""
    html = client.get(f"/dashboard{query}").get_data(as_text=True)
    found = re.findall(
        r'<tr data-department="(\d+)">.*?<a data-measure="received" href="([^"]+)">(\d+)</a>',
        html,
        re.S,
    )
    return {dept: (int(count), href.replace("&amp;", "&")) for dept, href, count in found}


def test_a_department_number_links_to_exactly_the_tickets_it_counts(site):
    now = datetime.now(UTC)
    ours = {make_ticket(site) for _ in range(3)} | {make_ticket(site, status="archived")}
    theirs = {make_ticket(site, handler="陈静", department="市场发展部") for _ in range(2)}
    make_ticket(site, created_at=now - timedelta(days=70))  # before the month: not counted
    with site.sessions() as session:
        ops = session.scalar(select(Department.id).where(Department.name == "运行维护部"))
        market = session.scalar(select(Department.id).where(Department.name == "市场发展部"))
    client = signed_in(site, "officer")
    links = dashboard_links(client, "?period=month")
    for dept, numbers in ((ops, ours), (market, theirs)):
        count, href = links[str(dept)]
        assert count == len(numbers)
        params = parse_qs(urlparse(href).query)
        assert params["measure"] == ["received"] and params["dept"] == [str(dept)]
        listed = set(NUMBER.findall(client.get(href).get_data(as_text=True)))
        assert listed == numbers


def completion_card(site) -> str:
    html = signed_in(site, "leader").get("/dashboard?period=month").get_data(as_text=True)
    return re.search(r'data-figure="completion">(.*?)</article>', html, re.S).group(1)


def test_missed_target_is_marked_and_each_figure_shows_its_definition(site):
    make_ticket(site, status="archived")
    html = signed_in(site, "leader").get("/dashboard?period=month").get_data(as_text=True)
    for words in ("办结率", "首次回访满意率", "分子：", "分母：", "期间：", "<svg", "个人记录"):
        assert words in html, words
    kept = completion_card(site)
    assert "100.0%" in kept and "未达标" not in kept
    make_ticket(site, status="processing")  # due this month, not archived: 1 ÷ 2
    missed = completion_card(site)
    assert "50.0%" in missed and "未达标" in missed


def test_ledger_from_the_list_is_built_by_the_worker_and_downloaded(site):
    numbers = {make_ticket(site, appeal_type="安装") for _ in range(2)}
    make_ticket(site, appeal_type="维修")
    officer = signed_in(site, "officer")
    listing = officer.get("/tickets?type=安装").get_data(as_text=True)
    button = re.search(r'name="query" value="([^"]*)"', listing).group(1)
    assert parse_qs(button) == {"type": ["安装"]}  # the button keeps the list's filters
    token = csrf_token(officer, "/tickets?type=安装")
    answer = officer.post("/exports", data={"csrf_token": token, "query": button})
    assert answer.status_code == 303
    status_url = answer.headers["Location"]
    waiting = officer.get(status_url).get_data(as_text=True)
    assert 'http-equiv="refresh"' in waiting and "排队" in waiting
    work(site)
    done = officer.get(status_url).get_data(as_text=True)
    assert "共 2 行" in done and 'http-equiv="refresh"' not in done
    file = officer.get(f"{status_url}/file")
    assert file.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(file.data)).active
    column = [cell.value for cell in sheet[1]].index(ledger.COLUMNS[0].header)
    assert {row[column].value for row in sheet.iter_rows(min_row=2)} == numbers
    # only the requester and the officer: a leader who did not ask gets a 404
    leader = signed_in(site, "leader")
    assert leader.get(status_url).status_code == 404
    assert leader.get(f"{status_url}/file").status_code == 404


def test_a_leaders_export_is_theirs_and_the_officers(site):
    make_ticket(site)
    leader = signed_in(site, "leader")
    token = csrf_token(leader, "/tickets")
    url = leader.post("/exports", data={"csrf_token": token, "query": ""}).headers["Location"]
    work(site)
    assert leader.get(f"{url}/file").status_code == 200
    assert signed_in(site, "officer").get(f"{url}/file").status_code == 200
    assert signed_in(site, "executive").get(url).status_code == 404
    with site.sessions() as session:
        row = session.scalar(select(LedgerExport))
        assert row.staff_id is not None and row.status == "done"


def test_bulletin_page_shows_the_figures_frozen_at_issue(site):
    now = datetime.now(UTC)
    last_week = now - timedelta(days=7)
    for _ in range(3):
        make_ticket(site, created_at=last_week)
    bulletin_id = issue_bulletin(site, now)
    make_ticket(site, created_at=last_week)  # after issue: not in the published bulletin
    with site.sessions() as session:
        counted = len(session.scalars(select(Ticket)).all())
    assert counted == 4
    client = signed_in(site, "officer")
    html = client.get(f"/bulletins/{bulletin_id}").get_data(as_text=True)
    received = re.search(r'<th scope="row">受理</th><td class="num">(\d+)</td>', html).group(1)
    assert received == "3"
    assert "发布后不再变动" in html
    listing = client.get("/bulletins").get_data(as_text=True)
    assert f"/bulletins/{bulletin_id}" in listing
    assert client.get("/bulletins/999999").status_code == 404


def add_breaches(site, number: str, staff: str, *clocks: str, when: datetime) -> None:
    """One breach of `staff` per clock on the ticket, as the sweep records them."""
    with transaction(site.sessions) as session:
        ticket_id = session.scalar(select(Ticket.id).where(Ticket.number == number))
        member = session.scalar(select(Staff.id).where(Staff.name == staff))
        for clock in clocks:
            deadline = Deadline(
                ticket_id=ticket_id, clock=clock, started_at=when - timedelta(hours=5),
                due_at=when - timedelta(hours=1), state="breached",
            )  # fmt: skip
            session.add(deadline)
            session.flush()
            session.add(
                SlaBreach(deadline_id=deadline.id, ticket_id=ticket_id, staff_id=member,
                          clock=clock, breached_at=when)
            )  # fmt: skip


def rate_business(site, stars: int) -> None:
    """A customer's rating of 陈静's business order: a record with no ticket."""
    record_id = make_business(site)
    with transaction(site.sessions) as session:
        record = session.get(BusinessRecord, record_id)
        target = ratings.business_target(record, ZoneInfo(site.settings.app.timezone))
        ratings.rate(
            session, target, stars, datetime.now(UTC), rating_policy(site.settings),
            ZoneInfo(site.settings.app.timezone), channel="web",
        )  # fmt: skip


def people_links(client) -> dict[tuple[str, str], tuple[int, str, str]]:
    """(person, record kind) → (number shown, link, title) from the dashboard's people table."""
    html = client.get("/dashboard?period=month").get_data(as_text=True)
    table = html.split('id="people"', 1)[1].split("</table>", 1)[0]
    links = {}
    for name, row in re.findall(r'<th scope="row">([^<]+)</th>(.*?)</tr>', table, re.S):
        for kind, href, title, count in re.findall(
            r'<a data-record="(\w+)" href="([^"]+)" title="([^"]+)">(\d+)</a>', row
        ):
            links[name, kind] = (int(count), href.replace("&amp;", "&"), title)
    return links


def test_a_persons_records_link_to_the_distinct_tickets_behind_them(site):
    now = datetime.now(UTC)
    old = now - timedelta(days=70)  # before the month: neither counted nor listed
    wang_a, wang_b, wang_c, wang_old = (make_ticket(site, status="resolved") for _ in range(4))
    chen_d, chen_e = (
        make_ticket(site, status="resolved", handler="陈静", department="市场发展部")
        for _ in range(2)
    )
    for number, stars in ((wang_a, 5), (wang_b, 5), (wang_c, 1), (chen_d, 5), (chen_e, 2)):
        rate_ticket(site, number, stars)
    rate_ticket(site, wang_old, 5, now=old)
    rate_business(site, 1)  # 陈静 criticised without a ticket: counted, not listed
    add_breaches(site, wang_a, "王芳", "investigate", "resolve", when=now)  # 2 on one ticket
    add_breaches(site, wang_c, "王芳", "resolve", when=now)
    add_breaches(site, wang_old, "王芳", "resolve", when=old)
    add_breaches(site, chen_e, "陈静", "resolve", when=now)
    expected = {
        ("王芳", "praise"): (2, {wang_a, wang_b}),
        ("王芳", "criticism"): (1, {wang_c}),
        ("王芳", "breach"): (3, {wang_a, wang_c}),
        ("陈静", "praise"): (1, {chen_d}),
        ("陈静", "criticism"): (2, {chen_e}),
        ("陈静", "breach"): (1, {chen_e}),
    }
    for role in ("officer", "leader"):
        client = signed_in(site, role)
        links = people_links(client)
        assert set(expected) <= set(links), links.keys()
        for key, (count, numbers) in expected.items():
            shown, href, title = links[key]
            assert shown == count, key
            assert "同一工单的多条记录只列一次" in title and "无工单的记录" in title
            params = parse_qs(urlparse(href).query)
            assert params["record"] == [key[1]] and "measure" not in params
            page = client.get(href)
            assert page.status_code == 200, key
            listed = NUMBER.findall(page.get_data(as_text=True))
            assert sorted(listed) == sorted(numbers), key  # each ticket once, no one else's
