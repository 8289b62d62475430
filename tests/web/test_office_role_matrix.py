"""Every office route (work queues, notices, staff, departments, messages, calendar, audit) ×
every role, over HTTP: allowed, or refused with a 403 page naming who may (404 for a draft
notice, which only its readers know of); signed out, to /login."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.app import create_app
from tests.web.office import PEOPLE, csrf_token, office_runtime, set_passwords, signed_in
from tests.web.office_work import fill_office

ROLES = tuple(PEOPLE)
EVERYONE = frozenset(ROLES)
OFFICER = frozenset({"officer"})
SUPERVISORS = frozenset({"officer", "leader"})
READERS = frozenset({"officer", "leader", "executive"})
NEXT_YEAR = datetime.now(UTC).year + 1

GETS = {
    "/work": EVERYONE,
    "/work/phone_callbacks": OFFICER,
    "/work/rating_callbacks": frozenset(
        {"officer", "handler", "dept_head", "clerk", "other_handler"}
    ),
    "/work/money": frozenset({"leader", "executive"}),
    "/work/signoff": frozenset({"leader"}),
    "/work/extensions": SUPERVISORS,
    "/work/returned": SUPERVISORS,
    "/work/unassigned": frozenset({"officer", "leader", "dept_head"}),
    "/work/accountability": SUPERVISORS,
    "/notices": EVERYONE,
    "/notices/{published}": EVERYONE,
    "/notices/{draft}": SUPERVISORS,
    "/staff": READERS,
    "/staff/{handler}": READERS,
    "/departments": READERS,
    "/messages": SUPERVISORS,
    "/calendar": SUPERVISORS,
    f"/calendar/{NEXT_YEAR}": OFFICER,
    "/audit": READERS,
}

# path → (roles allowed, form fields); a refused role gets 403 before anything changes.
POSTS = {
    "/work/phone_callbacks/tickets/{phone_callback}": (
        OFFICER,
        lambda o: {f"i{o['phone_callback_id']}-satisfied": "yes"},
    ),
    "/work/money/tickets/{money}": (
        frozenset({"leader", "executive"}),
        lambda o: {f"i{o['money_id']}-approve": "yes"},
    ),
    "/work/signoff/tickets/{signoff}": (
        frozenset({"leader"}),
        lambda o: {f"i{o['signoff_id']}-text": "同意办结"},
    ),
    "/work/extensions/tickets/{extension}": (
        SUPERVISORS,
        lambda o: {f"i{o['extension_id']}-workdays": "3"},
    ),
    "/work/accountability/{flagged}": (
        SUPERVISORS,
        lambda o: {f"i{o['flagged_id']}-decision": "clear", f"i{o['flagged_id']}-note": "已核实"},
    ),
    "/work/rating_callbacks/{task}": (
        OFFICER,  # the task is 周敏's (rating.callback_staff): others are refused
        lambda o: {f"i{o['task']}-reached": "yes", f"i{o['task']}-result": "已道歉"},
    ),
    "/work/unassigned/tickets/{unassigned}": (
        frozenset({"officer", "leader"}),  # 李强 heads 运行维护部, not the receiving 综合管理部
        lambda o: {f"i{o['unassigned_id']}-target": o["dept"]},
    ),
    "/notices/{draft}/edit": (OFFICER, lambda o: {"title": "通报批评", "body": "正文"}),
    "/notices/{draft}/publish": (OFFICER, lambda o: {}),
    "/notices/{published}/withdraw": (OFFICER, lambda o: {"reason": "评价撤回"}),
    "/notices/praise/{praise}": (OFFICER, lambda o: {}),
    "/staff": (
        OFFICER,
        lambda o: {"name": "新员工", "department": o["dept"], "role": "handler", "phone": ""},
    ),
    "/staff/{handler}/edit": (
        OFFICER,
        lambda o: {"name": "王芳", "department": o["dept"], "role": "handler", "phone": "139"},
    ),
    "/staff/{handler}/code": (OFFICER, lambda o: {}),
    "/staff/{handler}/deactivate": (OFFICER, lambda o: {}),
    "/staff/designations": (OFFICER, lambda o: {"callback_staff": "", "officer": ""}),
    "/departments": (OFFICER, lambda o: {"new-name": "计量中心"}),
    "/messages/{failed}/resend": (OFFICER, lambda o: {}),
    f"/calendar/{NEXT_YEAR}": (OFFICER, lambda o: {"days": f"{NEXT_YEAR}-01-01 休 元旦"}),
}


# The queue is theirs but the ticket is not: answered like a ticket that does not exist.
HIDDEN = {"/work/unassigned/tickets/{unassigned}": {"dept_head"}}


@pytest.fixture
def site(runtime, demo):
    site = office_runtime(runtime)
    set_passwords(site)
    yield site
    site.close()


def _values(site) -> dict:
    from sqlalchemy import select

    from models.people.tables import Department
    from models.ticket.tables import Ticket

    office = fill_office(site)
    values = {
        "published": office.published_notice,
        "draft": office.draft_notice,
        "handler": office.handler_id,
        "praise": office.praise_record,
        "task": office.rating_task,
        "failed": office.failed_message,
    }
    with site.sessions() as session:
        for key in ("phone_callback", "money", "signoff", "extension", "flagged", "unassigned"):
            number = getattr(office, key)
            values[key] = number
            values[f"{key}_id"] = session.scalar(select(Ticket.id).where(Ticket.number == number))
        values["dept"] = str(
            session.scalar(select(Department.id).where(Department.name == "运行维护部"))
        )
    return values


@pytest.mark.parametrize("path", list(GETS))
def test_pages_answer_each_role_as_the_matrix_says(site, path):
    values = _values(site)
    url = path.format(**values)
    for role in ROLES:
        response = signed_in(site, role).get(url)
        if role in GETS[path]:
            assert response.status_code == 200, (role, url, response.status_code)
        else:
            expected = 404 if path == "/notices/{draft}" else 403
            assert response.status_code == expected, (role, url, response.status_code)
            if expected == 403:
                assert "无权" in response.get_data(as_text=True)
    signed_out = create_app(runtime=site).test_client().get(url)
    assert signed_out.status_code == 303 and "/login" in signed_out.headers["Location"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", list(POSTS))
def test_actions_answer_each_role_as_the_matrix_says(site, path, role):
    from sqlalchemy import func, select

    from models.audit.tables import AuditEntry

    values = _values(site)
    allowed, fields = POSTS[path]
    client = signed_in(site, role)
    with site.sessions() as session:
        before = session.scalar(select(func.count(AuditEntry.id)))
    data = {"csrf_token": csrf_token(client, "/notices"), **fields(values)}
    response = client.post(path.format(**values), data=_with_prefixed_token(data))
    if role in allowed:
        assert response.status_code in (200, 303), (role, path, response.status_code)
    else:
        expected = 404 if role in HIDDEN.get(path, ()) else 403
        assert response.status_code == expected, (role, path, response.status_code)
        with site.sessions() as session:
            after = session.scalar(select(func.count(AuditEntry.id)))
        assert after == before


def _with_prefixed_token(data: dict) -> dict:
    """Forms with a prefix (i<id>-, new-, publish-…) read their token under that prefix."""
    token = data["csrf_token"]
    prefixes = {key.split("-")[0] for key in data if "-" in key} | {"publish", "remove"}
    return {**data, **{f"{prefix}-csrf_token": token for prefix in prefixes}}
