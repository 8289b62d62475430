"""`/rate` over plain HTTP (no JavaScript), with the Flask test client: the form, CSRF, linking
to a ticket, signed business links, rate limits, framing, and a Chinese 4xx for bad input."""

from __future__ import annotations

import re

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from bot.app import create_app
from bot.links import TICKET_SALT
from bot.rate_page import CSRF_COOKIE, LINK_SALT
from bot.runtime import build_runtime
from models.notification.tables import Notification
from models.people.tables import Staff
from models.rating.tables import Rating, RatingCallback
from tests.web.support import (
    PORTAL,
    SECRET,
    PastSigner,
    link_query,
    make_business,
    make_customer_ticket,
    rate_runtime,
    ticket_query,
)


@pytest.fixture
def site(runtime, demo):
    other = rate_runtime(runtime)
    yield other
    other.close()


@pytest.fixture
def client(site):
    return create_app(runtime=site).test_client()


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def submit(client, address: str = "10.0.0.1", query: str = "", **fields):
    """Load the form (cookie + token) and post it with these fields."""
    page = client.get(f"/rate{query}", environ_base={"REMOTE_ADDR": address})
    assert page.status_code == 200, page.get_data(as_text=True)
    data = {"csrf_token": csrf_of(page.get_data(as_text=True)), **fields}
    return client.post("/rate", data=data, environ_base={"REMOTE_ADDR": address})


def text_of(response) -> str:
    return response.get_data(as_text=True)


def stored(site) -> list[Rating]:
    with site.sessions() as session:
        return session.scalars(select(Rating).order_by(Rating.id)).all()


# --- the page -------------------------------------------------------------------------------


def test_the_form_works_without_javascript_and_may_be_framed_by_the_portal(client):
    response = client.get("/rate")
    html = text_of(response)
    assert response.status_code == 200 and "<script" not in html
    assert [
        int(v) for v in re.findall(r'type="radio" id="star\d" name="stars" value="(\d)"', html)
    ] == [5, 4, 3, 2, 1]
    assert 'name="comment"' in html
    assert 'name="ticket"' not in html and 'name="tail"' not in html  # no guessable linking
    assert 'name="viewport"' in html and "服务评价" in html
    assert response.headers["Content-Security-Policy"] == f"frame-ancestors 'self' {PORTAL}"
    assert "X-Frame-Options" not in response.headers
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{CSRF_COOKIE}=") and "HttpOnly" in cookie


def test_four_stars_and_a_comment_are_stored_and_thanked(client, site):
    response = submit(client, stars="4", comment="抄表员很负责")
    assert response.status_code == 303
    thanks = client.get(response.headers["Location"])
    assert thanks.status_code == 200 and "感谢您的评价" in text_of(thanks)
    assert "4星（满意）" in text_of(thanks) and "我们的整体服务" in text_of(thanks)
    (rating,) = stored(site)
    assert (rating.target, rating.stars, rating.comment, rating.channel) == (
        "general",
        4,
        "抄表员很负责",
        "web",
    )


def test_the_signed_link_from_the_result_rates_that_ticket(client, site):
    number, ticket_id, customer_id = make_customer_ticket(site)
    query = ticket_query(ticket_id, customer_id)
    page = client.get(f"/rate{query}")
    assert page.status_code == 200 and f"投诉 {number}" in text_of(page)
    response = submit(client, query=query, stars="5", comment="谢谢", t=query[3:])
    assert response.status_code == 303
    (rating,) = stored(site)
    assert (rating.target, rating.ticket_id, rating.customer_id) == (
        "ticket",
        ticket_id,
        customer_id,
    )
    assert number in text_of(client.get(response.headers["Location"]))


def test_number_and_phone_tail_rate_the_service_in_general_not_the_ticket(client, site):
    number, _, _ = make_customer_ticket(site)
    response = submit(client, stars="1", comment="乱评", ticket=number, tail="5678")
    assert response.status_code == 303
    (rating,) = stored(site)
    assert (rating.target, rating.ticket_id) == ("general", None)


def test_someone_elses_rating_never_locks_out_the_customers_own(client, site):
    number, ticket_id, customer_id = make_customer_ticket(site)
    submit(client, "10.9.9.9", stars="1", ticket=number, tail="5678")  # a stranger
    query = ticket_query(ticket_id, customer_id)
    own = submit(client, query=query, stars="4", t=query[3:])
    assert own.status_code == 303
    assert [(r.target, r.stars) for r in stored(site)] == [("general", 1), ("ticket", 4)]


def test_a_forged_expired_or_mismatched_ticket_link_is_refused(client, site):
    number, ticket_id, customer_id = make_customer_ticket(site)
    forged = client.get(f"/rate{ticket_query(ticket_id, customer_id, secret='other')}")
    assert forged.status_code == 403 and "评价链接无效" in text_of(forged)
    old = URLSafeTimedSerializer(SECRET, salt=TICKET_SALT, signer=PastSigner)
    expired = client.get(f"/rate?t={old.dumps([ticket_id, customer_id])}")
    assert expired.status_code == 400 and "已过期" in text_of(expired)
    someone_else = client.get(f"/rate{ticket_query(ticket_id, customer_id + 1)}")
    assert someone_else.status_code == 404
    token = csrf_of(text_of(client.get("/rate")))
    posted = client.post("/rate", data={"csrf_token": token, "stars": "1", "t": "1.abc.def"})
    assert posted.status_code == 403 and stored(site) == []


def test_a_reopened_ticket_waits_for_its_next_result(client, site):
    number, ticket_id, customer_id = make_customer_ticket(site, status="processing")
    response = client.get(f"/rate{ticket_query(ticket_id, customer_id)}")
    assert response.status_code == 409 and "重新处理" in text_of(response)


def test_a_rated_ticket_is_not_rated_twice(client, site):
    number, ticket_id, customer_id = make_customer_ticket(site)
    query = ticket_query(ticket_id, customer_id)
    submit(client, query=query, stars="2", t=query[3:])
    again = client.get(f"/rate{query}")
    assert again.status_code == 409 and "已评价过（2星" in text_of(again)
    assert [r.stars for r in stored(site)] == [2]


def test_a_form_is_kept_single_use_by_the_database_while_redis_is_down(client, site, monkeypatch):
    from redis.exceptions import ConnectionError as RedisDown

    def down(*_args, **_kwargs):
        raise RedisDown("redis is down")

    monkeypatch.setattr(type(site.redis), "pipeline", down)
    page = client.get("/rate")
    data = {"csrf_token": csrf_of(text_of(page)), "stars": "4"}
    assert client.post("/rate", data=data).status_code == 303
    assert client.post("/rate", data=data).status_code == 409
    assert len(stored(site)) == 1


def test_a_low_web_rating_gets_a_call_back_on_the_phone_left(client, site):
    response = submit(client, stars="1", comment="热线打不通", phone="0558 2703802")
    assert response.status_code == 303
    assert "电话回访" in text_of(client.get(response.headers["Location"]))
    with site.sessions() as session:
        task = session.scalar(select(RatingCallback))
        kinds = session.scalars(select(Notification.kind)).all()
    assert task.phone == "0558-2703802" and task.note == "热线打不通"
    assert kinds == ["rating_alert", "rating_warning"]  # the call-back task, the leaders' alert


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({}, "请选择1到5颗星"),
        ({"stars": "6"}, "请选择1到5颗星"),
        ({"stars": "五"}, "请选择1到5颗星"),
        ({"stars": "4", "comment": "长" * 501}, "留言请在500字以内"),
        ({"stars": "4", "phone": "12345"}, "联系电话格式不正确"),
    ],
)
def test_bad_fields_are_a_400_saying_why(client, site, fields, reason):
    response = submit(client, **fields)
    assert response.status_code == 400 and reason in text_of(response)
    assert 'name="csrf_token"' in text_of(response)  # the form again, ready to resubmit
    assert stored(site) == []


# --- CSRF -----------------------------------------------------------------------------------


def test_a_post_without_the_forms_token_is_refused(client, site):
    client.get("/rate")
    response = client.post("/rate", data={"stars": "5"})
    assert response.status_code == 400 and "表单校验失败" in text_of(response)
    forged = client.post("/rate", data={"stars": "5", "csrf_token": "abc.def.ghi"})
    assert forged.status_code == 400
    assert stored(site) == []


def test_the_token_must_match_the_cookie_of_the_same_browser(site):
    first, second = (create_app(runtime=site).test_client() for _ in range(2))
    token = csrf_of(text_of(first.get("/rate")))
    second.get("/rate")
    response = second.post("/rate", data={"csrf_token": token, "stars": "5"})
    assert response.status_code == 400 and "Cookie" in text_of(response)
    no_cookie = create_app(runtime=site).test_client()
    assert no_cookie.post("/rate", data={"csrf_token": token, "stars": "5"}).status_code == 400
    assert stored(site) == []


def test_a_form_is_submitted_once(client, site):
    page = client.get("/rate")
    data = {"csrf_token": csrf_of(text_of(page)), "stars": "5"}
    assert client.post("/rate", data=data).status_code == 303
    again = client.post("/rate", data=data)
    assert again.status_code == 409 and "已经提交过" in text_of(again)
    assert len(stored(site)) == 1


def test_an_expired_form_is_refused(client, site):
    client.get("/rate")
    nonce = client.get_cookie(CSRF_COOKIE, path="/rate").value
    old = URLSafeTimedSerializer(SECRET, salt="bihuan-rate-form", signer=PastSigner).dumps(nonce)
    response = client.post("/rate", data={"csrf_token": old, "stars": "5"})
    assert response.status_code == 400 and "页面停留时间过长" in text_of(response)


# --- business links -------------------------------------------------------------------------


def test_a_signed_business_link_rates_that_business(client, site):
    record_id = make_business(site)
    query = link_query(record_id)
    page = client.get(f"/rate{query}")
    assert page.status_code == 200 and "报装业务（单号 BZ2026001" in text_of(page)
    assert 'name="ticket"' not in text_of(page)
    response = submit(client, query=query, stars="5", b=query.removeprefix("?b="))
    assert response.status_code == 303
    (rating,) = stored(site)
    with site.sessions() as session:
        staff = session.get(Staff, rating.staff_id).name
    assert (rating.target, rating.business_record_id, staff) == ("business", record_id, "陈静")
    again = client.get(f"/rate{query}")
    assert again.status_code == 409 and "该业务已评价过" in text_of(again)


def test_a_forged_business_link_is_refused(client, site):
    record_id = make_business(site)
    forged = client.get(f"/rate{link_query(record_id, secret='someone-else')}")
    assert forged.status_code == 403 and "评价链接无效" in text_of(forged)
    tampered = client.get("/rate?b=" + link_query(record_id)[3:].replace("M", "N", 1) + "x")
    assert tampered.status_code == 403
    token = csrf_of(text_of(client.get("/rate")))
    posted = client.post("/rate", data={"csrf_token": token, "stars": "1", "b": "1.abc.def"})
    assert posted.status_code == 403 and stored(site) == []


def test_an_expired_business_link_is_refused(client, site):
    record_id = make_business(site)
    token = URLSafeTimedSerializer(SECRET, salt=LINK_SALT, signer=PastSigner).dumps(record_id)
    response = client.get(f"/rate?b={token}")
    assert response.status_code == 400 and "已过期" in text_of(response)


def test_a_link_to_a_record_that_is_gone_is_a_404(client, site):
    response = client.get(f"/rate{link_query(424242)}")
    assert response.status_code == 404 and "没有找到" in text_of(response)


# --- limits ---------------------------------------------------------------------------------


def test_submissions_are_limited_per_address(runtime, demo):
    limited = rate_runtime(runtime, limit_per_address=2)
    try:
        client = create_app(runtime=limited).test_client()
        assert submit(client, stars="5").status_code == 303
        assert submit(client, stars="4").status_code == 303
        third = submit(client, stars="3")
        assert third.status_code == 429 and "提交评价过于频繁" in text_of(third)
        assert int(third.headers["Retry-After"]) > 0
        assert submit(client, address="10.0.0.2", stars="3").status_code == 303
        assert len(stored(limited)) == 3
    finally:
        limited.close()


def test_submissions_are_limited_per_phone_across_addresses(runtime, demo):
    limited = rate_runtime(runtime, limit_per_phone=1)
    try:
        client = create_app(runtime=limited).test_client()
        assert submit(client, "10.0.0.1", stars="2", phone="13800001111").status_code == 303
        again = submit(client, "10.0.0.2", stars="1", phone="138 0000 1111")
        assert again.status_code == 429 and "该电话号码" in text_of(again)
        assert len(stored(limited)) == 1
    finally:
        limited.close()


def test_the_client_address_behind_a_trusted_proxy(runtime, demo):
    limited = rate_runtime(runtime, limit_per_address=1, proxy_hops=1)
    try:
        client = create_app(runtime=limited).test_client()
        for forwarded in ("1.1.1.1", "2.2.2.2"):
            page = client.get("/rate")
            response = client.post(
                "/rate",
                data={"csrf_token": csrf_of(text_of(page)), "stars": "5"},
                headers={"X-Forwarded-For": f"9.9.9.9, {forwarded}"},
            )
            assert response.status_code == 303
    finally:
        limited.close()


# --- every bad input is a 4xx in Chinese ----------------------------------------------------


def test_an_oversized_post_is_a_413_in_chinese(client):
    response = client.post("/rate", data={"comment": "长" * 20000})
    assert response.status_code == 413 and "过长" in text_of(response)


def test_a_bad_thanks_link_is_a_400(client):
    response = client.get("/rate/thanks?r=nonsense")
    assert response.status_code == 400 and "已失效" in text_of(response)


def test_without_a_configured_key_the_app_makes_one_per_process(runtime, caplog):
    first = create_app(runtime=runtime)
    other_process = create_app(runtime=build_runtime(runtime.settings, redis=runtime.redis))
    assert first.secret_key == runtime.secret  # the links the webhook signs verify here
    assert other_process.secret_key and other_process.secret_key != first.secret_key
    assert "BIHUAN_WEB__SECRET_KEY" in caplog.text
