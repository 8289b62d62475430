"""The JSON API for the gas business system: keys issued by the CLI (good, revoked, missing,
wrong scope), business records pushed idempotently, change feeds read by cursor, figures,
bad input named by field, the per-key rate limit, and /api/openapi.json checked against
the answers the code really gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import select

from bot.app import create_app
from bot.db import transaction
from models.access.tables import ApiKey
from models.rating.tables import BusinessRecord
from models.ticket.tables import Ticket
from tests.factories import add_ticket, invoke, move

ALL_SCOPES = ("records:write", "tickets:read", "ratings:read", "callbacks:read", "figures:read")
RECORD = {
    "type": "报装",
    "order_no": "BZ2026001",
    "phone": "13800138000",
    "staff": "王芳",
    "completed_at": "2026-11-20 14:30",
}


def issue_key(runtime, *scopes: str, name: str = "燃气业务管理系统") -> str:
    args = ["apikey", "create", name]
    for scope in scopes:
        args += ["--scope", scope]
    result = invoke(runtime, *args)
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()[0]


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def api(runtime, demo):
    runtime.settings = runtime.settings.override(api={"cursor_lag_seconds": 0})
    return create_app(runtime=runtime).test_client()


@pytest.fixture
def key(runtime, api) -> str:
    return issue_key(runtime, *ALL_SCOPES)


# --- keys ----------------------------------------------------------------------------------


def test_a_key_is_shown_once_and_stored_only_as_a_hash(runtime, key):
    with runtime.sessions() as session:
        (row,) = session.scalars(select(ApiKey)).all()
    assert key.startswith(f"bhk_{row.prefix}_") and len(key) > 40
    assert key not in (row.key_hash, row.prefix) and len(row.key_hash) == 64
    listed = invoke(runtime, "apikey", "list").output
    assert row.prefix in listed and key not in listed


def test_a_good_key_is_answered(api, key):
    assert api.get("/api/tickets", headers=auth(key)).status_code == 200


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({}, "缺少 API 密钥"),
        ({"Authorization": "Basic abc"}, "缺少 API 密钥"),
        ({"Authorization": "Bearer bhk_00000000_notthekeyatallnotthekeyatall"}, "API 密钥无效"),
    ],
)
def test_no_key_or_an_unknown_key_is_401(api, key, headers, error):
    response = api.get("/api/tickets", headers=headers)
    assert response.status_code == 401
    assert error in response.get_json()["error"]
    assert response.get_json()["field"] == "Authorization"


def test_a_forged_key_with_a_real_prefix_is_401(api, key):
    forged = key[:13] + "x" * (len(key) - 13)
    assert api.get("/api/tickets", headers=auth(forged)).status_code == 401


def test_a_revoked_key_is_401(runtime, api, key):
    prefix = key.split("_")[1]
    assert invoke(runtime, "apikey", "revoke", prefix).exit_code == 0
    response = api.get("/api/tickets", headers=auth(key))
    assert response.status_code == 401
    assert response.get_json()["error"] == "API 密钥已吊销"


def test_the_wrong_scope_is_403(runtime, api):
    reader = issue_key(runtime, "tickets:read", name="只读")
    response = api.post("/api/business-records", json={"records": [RECORD]}, headers=auth(reader))
    assert response.status_code == 403
    assert "records:write" in response.get_json()["error"]
    assert api.get("/api/tickets", headers=auth(reader)).status_code == 200


def test_each_key_is_rate_limited(runtime, api, key):
    runtime.settings = runtime.settings.override(api={"requests_per_minute": 3})
    other = issue_key(runtime, "tickets:read", name="另一个系统")
    codes = [api.get("/api/tickets", headers=auth(key)).status_code for _ in range(4)]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    limited = api.get("/api/tickets", headers=auth(key))
    assert int(limited.headers["Retry-After"]) <= 60
    assert api.get("/api/tickets", headers=auth(other)).status_code == 200


# --- business records ----------------------------------------------------------------------


def test_pushing_business_records_is_idempotent_on_the_order_number(runtime, api, key):
    push = lambda records: api.post(  # noqa: E731
        "/api/business-records", json={"records": records}, headers=auth(key)
    )
    assert push([RECORD]).get_json() == {"created": 1, "updated": 0, "unchanged": 0}
    assert push([RECORD]).get_json() == {"created": 0, "updated": 0, "unchanged": 1}
    changed = {**RECORD, "staff": "陈静"}
    assert push([changed]).get_json() == {"created": 0, "updated": 1, "unchanged": 0}
    with runtime.sessions() as session:
        (record,) = session.scalars(select(BusinessRecord)).all()
    assert (record.order_no, record.staff_name, record.kind) == ("BZ2026001", "陈静", "报装")


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"records": [{**RECORD, "staff": "无名氏"}]}, 422, "records.0.staff"),
        ({"records": [RECORD, {**RECORD, "type": "抄表"}]}, 422, "records.1.type"),
        ({"records": [{**RECORD, "phone": "12345"}]}, 422, "records.0.phone"),
        ({"records": [{**RECORD, "completed_at": "昨天"}]}, 422, "records.0.completed_at"),
        ({"records": [RECORD, RECORD]}, 422, "records.1.order_no"),
        ({"records": [{**RECORD, "order_no": None}]}, 400, "records.0.order_no"),
        ({"records": []}, 400, "records"),
        ({"records": [{**RECORD, "colour": "red"}]}, 400, "records.0.colour"),
        ({}, 400, "records"),
    ],
)  # fmt: skip
def test_bad_records_answer_4xx_naming_the_field_and_write_nothing(
    runtime, api, key, body, status, field
):
    response = api.post("/api/business-records", json=body, headers=auth(key))
    assert response.status_code == status
    assert response.get_json()["field"] == field
    with runtime.sessions() as session:
        assert session.scalars(select(BusinessRecord)).all() == []


def test_a_body_that_is_not_json_is_400(api, key):
    response = api.post(
        "/api/business-records", data="records=1", headers=auth(key), content_type="text/plain"
    )
    assert response.status_code == 400 and response.get_json()["field"] == "body"


# --- change feeds --------------------------------------------------------------------------


def test_tickets_changed_since_a_cursor_come_page_by_page(runtime, api, key):
    earlier = datetime.now(UTC) - timedelta(hours=1)
    with transaction(runtime.sessions) as session:
        numbers = [add_ticket(session, earlier + timedelta(minutes=i)).number for i in range(3)]
    first = api.get("/api/tickets?limit=2", headers=auth(key)).get_json()
    assert [item["number"] for item in first["items"]] == numbers[:2]
    cursor = first["next_cursor"]
    second = api.get(f"/api/tickets?cursor={cursor}", headers=auth(key)).get_json()
    assert [item["number"] for item in second["items"]] == numbers[2:]
    again = api.get(f"/api/tickets?cursor={second['next_cursor']}", headers=auth(key))
    assert again.get_json()["items"] == []
    assert again.get_json()["next_cursor"] == second["next_cursor"]
    move(runtime, numbers[0], "周敏", "urge", text="请尽快")  # a change: it comes again
    later = api.get(f"/api/tickets?cursor={second['next_cursor']}", headers=auth(key))
    assert [item["number"] for item in later.get_json()["items"]] == numbers[:1]


def test_a_change_younger_than_the_lag_waits_for_the_next_page(runtime, api, key):
    runtime.settings = runtime.settings.override(api={"cursor_lag_seconds": 60})
    with transaction(runtime.sessions) as session:
        add_ticket(session, datetime.now(UTC))
    assert api.get("/api/tickets", headers=auth(key)).get_json()["items"] == []


def test_a_bad_cursor_is_400_naming_it(api, key):
    response = api.get("/api/tickets?cursor=not-a-cursor", headers=auth(key))
    assert response.status_code == 400 and response.get_json()["field"] == "cursor"


def test_call_back_results_and_ratings_are_read_back(runtime, api, key):
    when = datetime.now(UTC) - timedelta(hours=2)
    with transaction(runtime.sessions) as session:
        number = add_ticket(session, when, "assigned").number
    move(runtime, number, "王芳", "ack", when)
    move(runtime, number, "王芳", "resolve", when + timedelta(minutes=1), text="已修复")
    move(runtime, number, "周敏", "callback", when + timedelta(minutes=2), satisfied=False)
    move(runtime, number, "王芳", "ack", when + timedelta(minutes=3))
    move(runtime, number, "王芳", "resolve", when + timedelta(minutes=4), text="已复查")
    move(runtime, number, "周敏", "callback", when + timedelta(minutes=5), satisfied=True)
    answers = api.get("/api/callbacks", headers=auth(key)).get_json()["items"]
    assert [(a["ticket_number"], a["satisfied"], a["first"]) for a in answers] == [
        (number, False, True),
        (number, True, False),
    ]
    api.post("/api/business-records", json={"records": [RECORD]}, headers=auth(key))
    assert api.get("/api/ratings", headers=auth(key)).get_json()["items"] == []


def test_the_figures_of_a_period_with_their_definitions(runtime, api, key):
    with transaction(runtime.sessions) as session:
        add_ticket(session, datetime(2026, 11, 10, 2, tzinfo=UTC), "received")
        add_ticket(session, datetime(2026, 11, 11, 2, tzinfo=UTC), "invalid")
    response = api.get("/api/figures?from=2026-11-01&to=2026-11-30", headers=auth(key))
    body = response.get_json()
    assert response.status_code == 200
    assert (body["received"], body["valid"], body["invalid"]) == (2, 1, 1)
    assert body["completion"] == {
        "numerator": 0, "denominator": 1, "rate": 0.0, "target": 1.0, "missed": True
    }  # fmt: skip
    assert body["definitions"]["first_satisfaction"]["label"] == "首次回访满意率"
    scoped = api.get(
        "/api/figures?from=2026-11-01&to=2026-11-30&department=市场发展部", headers=auth(key)
    ).get_json()
    assert scoped["received"] == 0


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("from=2026-11-01", 400, "to"),
        ("from=2026-11-31&to=2026-12-01", 400, "from"),
        ("from=2026-11-30&to=2026-11-01", 400, "to"),
        ("from=2026-11-01&to=2026-11-30&department=无此部门", 422, "department"),
        ("from=2026-11-01&to=2026-11-30&severity=huge", 400, "severity"),
    ],
)
def test_bad_figure_queries_name_the_field(api, key, query, status, field):
    response = api.get(f"/api/figures?{query}", headers=auth(key))
    assert response.status_code == status
    assert response.get_json()["field"] == field


# --- the OpenAPI document ------------------------------------------------------------------


def test_the_openapi_document_lists_every_api_route_with_its_security(app, api):
    document = api.get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    routes = {
        (rule.rule, method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") and rule.rule != "/api/openapi.json"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert routes == documented
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    for path, item in document["paths"].items():
        for operation in item.values():
            assert {"200", "400", "401", "403", "429"} <= set(operation["responses"]), path


def test_real_answers_match_the_openapi_document(runtime, api, key):
    """Every answer of a scenario, good and bad, validates against the schema the document
    gives for its path, method and status."""
    document = api.get("/api/openapi.json").get_json()
    with transaction(runtime.sessions) as session:
        number = add_ticket(session, datetime.now(UTC) - timedelta(hours=1), "assigned").number
    move(runtime, number, "王芳", "ack", datetime.now(UTC) - timedelta(minutes=50))
    calls = [
        ("post", "/api/business-records", {"records": [RECORD]}, auth(key)),
        ("post", "/api/business-records", {"records": [{**RECORD, "staff": "无名"}]}, auth(key)),
        ("post", "/api/business-records", {"records": []}, auth(key)),
        ("get", "/api/tickets", None, auth(key)),
        ("get", "/api/tickets?cursor=x", None, auth(key)),
        ("get", "/api/tickets", None, {}),
        ("get", "/api/ratings", None, auth(key)),
        ("get", "/api/callbacks", None, auth(key)),
        ("get", "/api/figures?from=2026-11-01&to=2026-11-30", None, auth(key)),
        ("get", "/api/figures?from=2026-11-01&to=2026-11-30&person=无名", None, auth(key)),
    ]
    checked = set()
    for method, url, body, headers in calls:
        response = getattr(api, method)(url, json=body, headers=headers)
        path = url.split("?")[0]
        responses = document["paths"][path][method]["responses"]
        schema = responses[str(response.status_code)]["content"]["application/json"]["schema"]
        validator = Draft202012Validator({**schema, "components": document["components"]})
        errors = list(validator.iter_errors(response.get_json()))
        assert errors == [], (url, response.status_code, errors[:1])
        checked.add((path, response.status_code))
    assert {code for _, code in checked} == {200, 400, 401, 422}


def test_a_ticket_in_the_feed_matches_the_ticket(runtime, api, key):
    with transaction(runtime.sessions) as session:
        ticket = add_ticket(session, datetime.now(UTC) - timedelta(hours=1), gas_account="H001")
        number = ticket.number
    (item,) = api.get("/api/tickets", headers=auth(key)).get_json()["items"]
    with runtime.sessions() as session:
        stored = session.scalar(select(Ticket).where(Ticket.number == number))
    assert item["number"] == number and item["gas_account"] == "H001"
    assert item["handling_department"] == "运行维护部" and item["handler"] == "王芳"
    assert item["status"] == stored.status == "assigned"
