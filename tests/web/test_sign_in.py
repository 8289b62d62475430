"""Signing in and out of the back office, the session cookie, slowing and locking repeated
failures, changing one's own password, and `bihuan user passwd`."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest
from sqlalchemy import select

from bot.app import create_app
from models.people.tables import LoginThrottle, Staff
from tests.factories import invoke, make_ticket
from tests.web.office import (
    PASSWORD,
    csrf_token,
    office_runtime,
    post_form,
    set_passwords,
    sign_in,
    signed_in,
    text_of,
)


@pytest.fixture
def site(runtime, demo):
    site = office_runtime(runtime)
    set_passwords(site, ["周敏", "王芳"])
    with site.sessions.begin() as session:
        session.scalar(select(Staff).where(Staff.name == "王芳")).phone = "13700137000"
    yield site
    site.close()


@pytest.fixture
def client(site):
    return create_app(runtime=site).test_client()


def session_cookie(response) -> dict:
    for header in response.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie(header)
        if "bihuan_session" in cookie:
            morsel = cookie["bihuan_session"]
            flags = header.lower()
            return {
                "httponly": "httponly" in flags,
                "samesite": morsel["samesite"],
                "secure": "secure" in flags,
            }
    raise AssertionError("no session cookie set")


def test_sign_in_by_name_or_phone_and_the_cookie_is_httponly_and_samesite(client, site):
    response = sign_in(client, "周敏")
    assert response.status_code == 303 and response.headers["Location"] == "/tickets"
    assert session_cookie(response) == {"httponly": True, "samesite": "Lax", "secure": False}
    assert "周敏" in text_of(client.get("/tickets"))
    by_phone = create_app(runtime=site).test_client()
    assert sign_in(by_phone, "137 0013 7000").status_code == 303
    assert "王芳" in text_of(by_phone.get("/tickets"))


def test_behind_https_the_cookie_is_secure(runtime, demo):
    site = office_runtime(runtime, base_url="https://tousu.example.cn")
    set_passwords(site, ["周敏"])
    client = create_app(runtime=site).test_client()
    token = csrf_token(client, "https://tousu.example.cn/login")
    response = client.post(
        "https://tousu.example.cn/login",
        data={"csrf_token": token, "username": "周敏", "password": PASSWORD},
        headers={"Referer": "https://tousu.example.cn/login"},
    )
    assert response.status_code == 303
    assert session_cookie(response)["secure"] is True
    site.close()


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(client):
    wrong = sign_in(client, "周敏", "not-the-password")
    unknown = sign_in(client, "不存在的人", "not-the-password")
    no_password = sign_in(client, "李强", "not-the-password")  # has no password yet
    assert wrong.status_code == unknown.status_code == no_password.status_code == 401
    message = "姓名/手机号或密码不正确。"
    assert message in text_of(wrong) and message in text_of(unknown)
    assert text_of(wrong) == text_of(unknown) == text_of(no_password)
    assert client.get("/tickets").status_code == 303  # still signed out


def test_a_post_without_its_csrf_token_signs_nobody_in(client):
    response = client.post("/login", data={"username": "周敏", "password": PASSWORD})
    assert response.status_code == 400 and "页面已过期" in text_of(response)
    assert client.get("/tickets").status_code == 303


def test_failures_are_slowed_then_the_account_is_locked_for_a_while(client, site):
    for _ in range(3):
        assert sign_in(client, "周敏", "wrong-1").status_code == 401
    slowed = sign_in(client, "周敏", PASSWORD)  # even the right password must wait now
    assert slowed.status_code == 429 and "秒后再试" in text_of(slowed)
    with site.sessions.begin() as session:  # let the waits pass
        for row in session.scalars(select(LoginThrottle)):
            row.blocked_until = None
    for _ in range(7):
        sign_in(client, "周敏", "wrong-2")
        with site.sessions.begin() as session:
            for row in session.scalars(select(LoginThrottle)):
                if row.failures < 10:
                    row.blocked_until = None
    locked = sign_in(client, "周敏", PASSWORD)
    assert locked.status_code == 429 and "已暂时锁定，请 15 分钟后再试" in text_of(locked)
    other = create_app(runtime=site).test_client()
    assert sign_in(other, "王芳", address="10.0.0.2").status_code == 303  # others carry on


def test_the_lock_is_kept_in_the_database_and_survives_a_redis_flush(client, site):
    for _ in range(3):
        sign_in(client, "周敏", "wrong")
    site.redis.flushdb()
    assert sign_in(client, "周敏", PASSWORD).status_code == 429
    with site.sessions() as session:
        keys = [row.key for row in session.scalars(select(LoginThrottle))]
    assert keys and all("周敏" not in key and len(key) == 64 for key in keys)  # hashed


def test_one_address_trying_many_names_is_slowed(runtime, demo):
    site = office_runtime(runtime, login_address_slow_after=4, login_address_lock_after=6)
    set_passwords(site, ["周敏"])
    client = create_app(runtime=site).test_client()
    for index in range(4):
        assert sign_in(client, f"猜测{index}", "guess", address="10.9.9.9").status_code == 401
    slowed = sign_in(client, "周敏", PASSWORD, address="10.9.9.9")
    assert slowed.status_code == 429
    assert sign_in(client, "周敏", PASSWORD, address="10.9.9.10").status_code == 303
    site.close()


def test_a_signed_out_visitor_goes_to_login_and_comes_back(client, site):
    number = make_ticket(site)
    response = client.get(f"/tickets/{number}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/login?next=/tickets/{number}"
    token = csrf_token(client, response.headers["Location"])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'value="/tickets/{number}"' in page  # the form carries where to go back
    back = client.post(
        "/login",
        data={
            "csrf_token": token,
            "username": "周敏",
            "password": PASSWORD,
            "next": f"/tickets/{number}",
        },
    )
    assert back.status_code == 303 and back.headers["Location"] == f"/tickets/{number}"
    assert number in text_of(client.get(back.headers["Location"]))


@pytest.mark.parametrize(
    "target", ["https://evil.example/x", "//evil.example/x", "/\\evil.example", "javascript:x"]
)
def test_sign_in_never_sends_anyone_to_another_site(client, target):
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"csrf_token": token, "username": "周敏", "password": PASSWORD, "next": target},
    )
    assert response.status_code == 303 and response.headers["Location"] == "/tickets"


def test_signing_out_ends_the_session(site):
    client = signed_in(site, "officer")
    assert client.get("/logout").status_code == 200  # a page with the button, no JavaScript
    response = post_form(client, "/logout", "/logout", {})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert client.get("/tickets").status_code == 303


def test_changing_ones_password_ends_the_other_sessions(site):
    here, there = signed_in(site, "officer"), signed_in(site, "officer")
    url = "/account/password"
    refused = {
        "当前密码不正确。": {"current": "wrong", "new": "New-pass-2027", "repeat": "New-pass-2027"},
        "两次输入的新密码不一致。": {"current": PASSWORD, "new": "New-pass-2027", "repeat": "x"},
        "密码须包含字母、数字、符号中的至少两类。": {
            "current": PASSWORD,
            "new": "abcdefghij",
            "repeat": "abcdefghij",
        },
    }
    for message, data in refused.items():
        response = post_form(here, url, url, data)
        assert response.status_code == 422 and message in text_of(response)
    done = post_form(
        here, url, url, {"current": PASSWORD, "new": "New-pass-2027", "repeat": "New-pass-2027"}
    )
    assert done.status_code == 303
    assert here.get("/tickets").status_code == 200  # this one stays signed in
    assert there.get("/tickets").status_code == 303  # the other one is signed out
    fresh = create_app(runtime=site).test_client()
    assert sign_in(fresh, "周敏", PASSWORD).status_code == 401
    assert sign_in(fresh, "周敏", "New-pass-2027").status_code == 303


def test_user_passwd_reads_stdin_and_stores_a_scrypt_hash(runtime, site):
    result = invoke(runtime, "user", "passwd", "李强", input="Pipe-line-2026\n")
    assert result.exit_code == 0 and "已设置 李强 的后台密码" in result.output
    with site.sessions() as session:
        stored = session.scalar(select(Staff.password_hash).where(Staff.name == "李强"))
    assert stored.startswith("scrypt:") and "Pipe-line-2026" not in stored
    client = create_app(runtime=site).test_client()
    assert sign_in(client, "李强", "Pipe-line-2026").status_code == 303


def test_user_passwd_refuses_a_weak_password_and_an_unknown_name(runtime, site):
    weak = invoke(runtime, "user", "passwd", "李强", input="short\n")
    assert weak.exit_code == 1 and "密码至少 8 位" in weak.output
    unknown = invoke(runtime, "user", "passwd", "无名氏", input="Long-enough-1\n")
    assert unknown.exit_code == 1 and "未知员工：无名氏" in unknown.output


def test_setting_a_password_lifts_the_lock(runtime, client, site):
    for _ in range(3):
        sign_in(client, "周敏", "wrong")
    assert sign_in(client, "周敏", PASSWORD).status_code == 429
    invoke(runtime, "user", "passwd", "周敏", input="Reset-by-admin-1\n")
    assert sign_in(client, "周敏", "Reset-by-admin-1").status_code == 303
