"""`/staff` and `/departments`: people and departments, binding codes, designations.

The officer manages; leaders and executives read. Every change goes through the functions the
CLI uses (`models.people.staff`, `departments`, `designations`) and is audited as the signed-in
person. A binding code is shown once, on the page that answers its POST, with its expiry, as
text and as a QR code drawn here (`bot.binding_qr`); it is never stored in clear.
"""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import login_required
from sqlalchemy import select

from bot.binding_qr import binding_qr
from bot.web.access import roles_required, user
from bot.web.auditing import who
from bot.web.blueprint import blueprint
from bot.web.context import PageError, db, now, page, runtime
from bot.web.forms import CSRF_PROBLEM
from bot.web.office_forms import CsrfOnlyForm, DepartmentForm, DesignationForm, StaffForm
from models.core.labels import POST_LABELS, ROLE_LABELS, STAFF_ROLES
from models.core.phones import mask_phone
from models.people import departments, designations
from models.people import staff as accounts
from models.people.staff import CODE_VALID_MINUTES, StaffError
from models.people.tables import Department, Staff

MANAGERS = frozenset({"officer"})
READERS = frozenset({"officer", "leader", "executive"})


def _checked(form) -> None:
    if not form.validate_on_submit():
        raise PageError(400, "页面已过期", CSRF_PROBLEM)


def _staff_form(member: Staff | None = None) -> StaffForm:
    form = StaffForm(obj=None)
    form.department.choices = [(str(d.id), d.name) for d in _departments()]
    form.role.choices = [(role, ROLE_LABELS[role]) for role in STAFF_ROLES]
    if member is not None and not form.is_submitted():
        form.name.data, form.phone.data = member.name, member.phone
        form.department.data, form.role.data = str(member.department_id or ""), member.role
    return form


def _departments() -> list[Department]:
    return list(
        db().scalars(select(Department).order_by(Department.is_general.desc(), Department.id))
    )


def _designation_form() -> DesignationForm:
    form = DesignationForm()
    members = [m for m in accounts.all_staff(db()) if m.active]
    held = designations.current(db())
    for post in POST_LABELS:
        field = getattr(form, post)
        eligible = [m for m in members if m.role in designations.POST_ROLES[post]]
        field.choices = [("", "（默认）")] + [
            (str(m.id), f"{m.name}（{ROLE_LABELS[m.role]}）") for m in eligible
        ]
        if not form.is_submitted():
            field.data = str(held[post].id) if held[post] else ""
    return form


@blueprint.get("/staff")
@login_required
@roles_required(READERS, "员工管理")
def staff_list(problem: str = "", status: int = 200, form: StaffForm | None = None):
    session = db()
    return page(
        "web/staff/list.html",
        status,
        members=accounts.all_staff(session),
        held=designations.current(session),
        default_callback=runtime().settings.rating.callback_staff,
        add_form=form or _staff_form(),
        designation_form=_designation_form(),
        manages=user().role in MANAGERS,
        problem=problem,
        roles=ROLE_LABELS,
        posts=POST_LABELS,
        mask=mask_phone,
    )


@blueprint.post("/staff")
@login_required
@roles_required(MANAGERS, "添加员工")
def staff_add():
    form = _staff_form()
    _checked(form)
    session = db()
    department = (
        session.get(Department, int(form.department.data))
        if (form.department.data or "").isdigit()
        else None
    )
    try:
        member = accounts.add_staff(
            session,
            form.name.data or "",
            department.name if department else "",
            form.role.data or "",
            now(),
            form.phone.data or "",
            who=who(),
        )
    except StaffError as refused:
        session.rollback()
        return staff_list(str(refused), 422, form)
    session.commit()
    flash(f"已添加员工 {member.name}。请为其发放绑定码。", "success")
    return redirect(url_for("web.staff_member", staff_id=member.id), 303)


def _member(staff_id: int) -> Staff:
    member = db().get(Staff, staff_id)
    if member is None:
        raise PageError(404, "没有这位员工", "没有找到这位员工。")
    return member


@blueprint.get("/staff/<int:staff_id>")
@login_required
@roles_required(READERS, "员工管理")
def staff_member(staff_id: int):
    return render_member(_member(staff_id))


def render_member(member: Staff, problem: str = "", status: int = 200, form=None, issued=None):
    return page(
        "web/staff/member.html",
        status,
        member=member,
        form=form or _staff_form(member),
        button=CsrfOnlyForm(),
        manages=user().role in MANAGERS,
        problem=problem,
        roles=ROLE_LABELS,
        issued=issued,
        minutes=CODE_VALID_MINUTES,
        mask=mask_phone,
    )


@blueprint.post("/staff/<int:staff_id>/edit")
@login_required
@roles_required(MANAGERS, "修改员工")
def staff_edit(staff_id: int):
    member, form = _member(staff_id), _staff_form()
    _checked(form)
    session = db()
    department = (
        session.get(Department, int(form.department.data))
        if (form.department.data or "").isdigit()
        else None
    )
    try:
        changes = accounts.edit_staff(
            session,
            member,
            who(),
            now(),
            name=form.name.data or "",
            department_name=department.name if department else "（未选择）",
            role=form.role.data or "",
            phone=form.phone.data or "",
        )
    except StaffError as refused:
        session.rollback()
        return render_member(_member(staff_id), str(refused), 422, form)
    session.commit()
    flash("；".join(changes) if changes else "没有变化。", "success")
    return redirect(url_for("web.staff_member", staff_id=staff_id), 303)


def _simple(staff_id: int, action, done: str):
    member = _member(staff_id)
    _checked(CsrfOnlyForm())
    session = db()
    try:
        action(session, member)
    except StaffError as refused:
        session.rollback()
        return render_member(_member(staff_id), str(refused), 409)
    session.commit()
    flash(done.format(name=member.name), "success")
    return redirect(url_for("web.staff_member", staff_id=staff_id), 303)


@blueprint.post("/staff/<int:staff_id>/deactivate")
@login_required
@roles_required(MANAGERS, "停用员工")
def staff_deactivate(staff_id: int):
    if staff_id == user().staff_id:
        raise PageError(409, "不能停用自己", "不能停用自己的账号，请由其他投诉负责人操作。")
    return _simple(
        staff_id,
        lambda session, member: accounts.deactivate(session, member, who(), now()),
        "已停用 {name}，其微信绑定已解除，后台登录立即失效。",
    )


@blueprint.post("/staff/<int:staff_id>/activate")
@login_required
@roles_required(MANAGERS, "启用员工")
def staff_activate(staff_id: int):
    return _simple(
        staff_id,
        lambda session, member: accounts.activate(session, member, who(), now()),
        "已启用 {name}。如需绑定微信，请发放新的绑定码。",
    )


@blueprint.post("/staff/<int:staff_id>/unbind")
@login_required
@roles_required(MANAGERS, "解除绑定")
def staff_unbind(staff_id: int):
    return _simple(
        staff_id,
        lambda session, member: accounts.unbind(session, member, now(), who=who()),
        "已解除 {name} 的微信绑定。",
    )


@blueprint.post("/staff/<int:staff_id>/code")
@login_required
@roles_required(MANAGERS, "发放绑定码")
def staff_code(staff_id: int):
    """The code is shown on this answer only (not after a redirect, never stored in clear)."""
    member = _member(staff_id)
    _checked(CsrfOnlyForm())
    session = db()
    try:
        issued = accounts.issue_code(session, member, now(), who=who())
    except StaffError as refused:
        session.rollback()
        return render_member(_member(staff_id), str(refused), 409)
    session.commit()
    qr = binding_qr(runtime(), issued.code)
    response = render_member(member, issued=(issued, qr))
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.post("/staff/designations")
@login_required
@roles_required(MANAGERS, "指定专人")
def staff_designations():
    form = _designation_form()
    _checked(form)
    session = db()
    try:
        for post in POST_LABELS:
            raw = getattr(form, post).data or ""
            held = designations.designated(session, post)
            if not raw:
                if held is not None:
                    designations.clear(session, post, who(), now())
            elif held is None or str(held.id) != raw:
                designations.designate(session, post, _member(int(raw)), who(), now())
    except (StaffError, ValueError) as refused:
        session.rollback()
        return staff_list(str(refused), 422)
    session.commit()
    flash("指定已保存。", "success")
    return redirect(url_for("web.staff_list"), 303)


# --- departments ---------------------------------------------------------------------------


@blueprint.get("/departments")
@login_required
@roles_required(READERS, "部门管理")
def department_list(problem: str = "", status: int = 200):
    return page(
        "web/departments.html",
        status,
        rows=departments.with_counts(db()),
        add_form=DepartmentForm(prefix="new"),
        rename_form=DepartmentForm,
        manages=user().role in MANAGERS,
        problem=problem,
    )


@blueprint.post("/departments")
@login_required
@roles_required(MANAGERS, "添加部门")
def department_add():
    form = DepartmentForm(prefix="new")
    _checked(form)
    try:
        departments.add_department(db(), form.name.data or "", who(), now())
    except StaffError as refused:
        db().rollback()
        return department_list(str(refused), 422)
    db().commit()
    flash(f"已添加部门 {form.name.data.strip()}。", "success")
    return redirect(url_for("web.department_list"), 303)


@blueprint.post("/departments/<int:department_id>")
@login_required
@roles_required(MANAGERS, "修改部门")
def department_rename(department_id: int):
    department = db().get(Department, department_id)
    if department is None:
        raise PageError(404, "没有这个部门", "没有找到这个部门。")
    form = DepartmentForm(prefix=f"d{department_id}")
    _checked(form)
    try:
        departments.rename_department(db(), department, form.name.data or "", who(), now())
    except StaffError as refused:
        db().rollback()
        return department_list(str(refused), 422)
    db().commit()
    flash("部门名称已修改。", "success")
    return redirect(url_for("web.department_list"), 303)
