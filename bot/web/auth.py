"""Signing in and out, and changing one's own password (登录、退出、修改密码).

`/login` takes ``username`` (the staff member's name or phone) and ``password``. Failures are
counted per account and per client address in the database (``models.people.accounts``), and
the rules of ``models.core.signin`` slow them, then lock them for a while. A wrong name and a
wrong password get the same answer.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from bot.client import client_address
from bot.passwords import check_password, hash_password
from bot.web.access import user, web_user
from bot.web.blueprint import blueprint
from bot.web.context import PageError, db, now, page, runtime
from bot.web.forms import CSRF_PROBLEM, LoginForm, LogoutForm, PasswordForm
from models.core.signin import SignInPolicy, Threshold, password_problem, refusal
from models.people import accounts
from models.people.tables import Staff

WRONG = "姓名/手机号或密码不正确。"


def sign_in_policy() -> SignInPolicy:
    web = runtime().settings.web
    return SignInPolicy(
        account=Threshold(web.login_slow_after, web.login_lock_after),
        address=Threshold(web.login_address_slow_after, web.login_address_lock_after),
        lock_minutes=web.login_lock_minutes,
    )


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    target = safe_next(request.values.get("next", ""))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(target, 303)
        form.next.data = target
        return _login_page(form, "", 200)
    if not form.validate_on_submit():
        return _login_page(form, CSRF_PROBLEM, 400)
    problem, status = _sign_in(form.username.data or "", form.password.data or "")
    if problem:
        form.password.data = ""
        return _login_page(form, problem, status)
    return redirect(target, 303)


def _sign_in(username: str, password: str) -> tuple[str, int]:
    """("", 200) when signed in; else the Chinese problem and the HTTP status."""
    policy, moment, session_ = sign_in_policy(), now(), db()
    keys = [accounts.account_key(username, policy), accounts.address_key(_address(), policy)]
    wait, locked = accounts.wait_for(session_, keys, moment)
    if wait:
        return refusal(wait, locked), 429
    staff = accounts.staff_for_sign_in(session_, username)
    if staff is None or not check_password(staff.password_hash, password):
        for key in keys:
            accounts.record_failure(session_, key, policy, moment)
        session_.commit()
        return WRONG, 401
    accounts.clear_failures(session_, keys[0])
    session_.commit()
    session.clear()  # nothing from before the sign-in survives it (session fixation)
    login_user(web_user(staff))
    session.permanent = True
    return "", 200


@blueprint.route("/logout", methods=["GET", "POST"])
def logout():
    form = LogoutForm()
    if request.method == "GET":
        if not current_user.is_authenticated:
            return redirect(url_for("web.login"), 303)
        return page("web/logout.html", form=form)
    if not form.validate_on_submit():
        raise PageError(400, "页面已过期", CSRF_PROBLEM)
    logout_user()
    session.clear()
    flash("您已安全退出。", "success")
    return redirect(url_for("web.login"), 303)


@blueprint.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    if request.method == "GET":
        return page("web/password.html", form=form, problem="")
    if not form.validate_on_submit():
        raise PageError(400, "页面已过期", CSRF_PROBLEM)
    staff = db().get(Staff, user().staff_id)
    problem = _password_change_problem(staff, form)
    if problem:
        return page("web/password.html", 422, form=form, problem=problem)
    accounts.set_password_hash(db(), staff, hash_password(form.new.data), now())
    db().commit()
    login_user(web_user(staff))  # this session stays; every other one ends (new fingerprint)
    flash("密码已修改。其他设备上的登录已失效。", "success")
    return redirect(url_for("web.ticket_list"), 303)


def _password_change_problem(staff: Staff, form: PasswordForm) -> str:
    if not check_password(staff.password_hash, form.current.data or ""):
        return "当前密码不正确。"
    if (form.new.data or "") != (form.repeat.data or ""):
        return "两次输入的新密码不一致。"
    if form.new.data == form.current.data:
        return "新密码不能与当前密码相同。"
    return password_problem(form.new.data or "", staff.name) or ""


def safe_next(target: str) -> str:
    """Only a path on this site: never another host (open redirect), never the login page."""
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        return url_for("web.ticket_list")
    if parts.path in ("/login", "/logout") or "\\" in target:
        return url_for("web.ticket_list")
    return target


def _address() -> str:
    return client_address(request, runtime().settings.rating.proxy_hops)


def _login_page(form: LoginForm, problem: str, status: int):
    return page(
        "web/login.html",
        status,
        form=form,
        problem=problem,
        company=runtime().settings.app.company_name,
    )
