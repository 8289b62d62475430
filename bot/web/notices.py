"""`/notices`: company-wide notices (通报批评 / 通报表扬).

Published notices are company-wide: every signed-in member of staff may read and print them
(the push to the person concerned links here). Drafts are read by the officer and the leaders;
only the officer edits, publishes, withdraws and drafts a praise notice from a 5★ record.
Every step is `models.rating.notices`, audited as the signed-in person from their address.
"""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import login_required

from bot.policies import notice_config
from bot.web.access import roles_required, user
from bot.web.auditing import who
from bot.web.blueprint import blueprint
from bot.web.context import PageError, db, now, page, runtime, zone
from bot.web.forms import CSRF_PROBLEM
from bot.web.office_forms import CsrfOnlyForm, NoticeForm, WithdrawForm
from jobs.queue import enqueue_written
from models.core.labels import NOTICE_KIND_LABELS, NOTICE_STATUS_LABELS
from models.people.tables import Staff
from models.rating import notices
from models.rating.tables import RatingNotice, RatingRecord

EDITORS = frozenset({"officer"})
DRAFT_READERS = frozenset({"officer", "leader"})


def _reads_drafts() -> bool:
    return user().role in DRAFT_READERS


@blueprint.get("/notices")
@login_required
def notice_list():
    session = db()
    drafts = notices.listing(session, status="draft") if _reads_drafts() else []
    records = notices.praise_candidates(session) if user().role in EDITORS else []
    candidates = [(record, session.get(Staff, record.staff_id).name) for record in records]
    return page(
        "web/notices/list.html",
        drafts=drafts,
        published=notices.listing(session, status="published"),
        withdrawn=notices.listing(session, status="withdrawn", limit=20),
        candidates=candidates,
        praise_form=CsrfOnlyForm(),
        kinds=NOTICE_KIND_LABELS,
        statuses=NOTICE_STATUS_LABELS,
    )


def _notice(notice_id: int) -> RatingNotice:
    notice = notices.get(db(), notice_id)
    if notice is None or (notice.status == "draft" and not _reads_drafts()):
        raise PageError(404, "没有这份通报", "没有找到这份通报，它可能尚未发布。")
    return notice


@blueprint.get("/notices/<int:notice_id>")
@login_required
def notice(notice_id: int):
    return render_notice(_notice(notice_id))


def render_notice(found: RatingNotice, problem: str = "", status: int = 200, form=None):
    editing = user().role in EDITORS and found.status == "draft"
    edit_form = form or (
        NoticeForm(data={"title": found.title, "body": found.body}) if editing else None
    )
    return page(
        "web/notices/show.html",
        status,
        notice=found,
        edit_form=edit_form,
        publish_form=CsrfOnlyForm(prefix="publish") if editing else None,
        withdraw_form=WithdrawForm()
        if user().role in EDITORS and found.status != "withdrawn"
        else None,
        problem=problem,
        kinds=NOTICE_KIND_LABELS,
        statuses=NOTICE_STATUS_LABELS,
        company=runtime().settings.app.company_name,
    )


def _checked(form) -> None:
    if not form.validate_on_submit():
        raise PageError(400, "页面已过期", CSRF_PROBLEM)


def _refused(found: RatingNotice, refused: notices.NoticeRefused, form=None):
    db().rollback()
    return render_notice(
        notices.get(db(), found.id), str(refused), 409 if form is None else 422, form
    )


@blueprint.post("/notices/<int:notice_id>/edit")
@login_required
@roles_required(EDITORS, "修改通报")
def notice_edit(notice_id: int):
    found, form = _notice(notice_id), NoticeForm()
    _checked(form)
    try:
        notices.edit(db(), found, form.title.data or "", form.body.data or "", who(), now())
    except notices.NoticeRefused as refused:
        return _refused(found, refused, form)
    db().commit()
    flash("通报已保存。", "success")
    return redirect(url_for("web.notice", notice_id=notice_id), 303)


@blueprint.post("/notices/<int:notice_id>/publish")
@login_required
@roles_required(EDITORS, "发布通报")
def notice_publish(notice_id: int):
    found = _notice(notice_id)
    _checked(CsrfOnlyForm(prefix="publish"))
    session = db()
    try:
        notices.publish(session, found, who(), now(), notice_config(runtime().settings))
    except notices.NoticeRefused as refused:
        return _refused(found, refused)
    session.commit()
    enqueue_written(runtime(), session)
    flash(f"通报已发布：{found.number}，已推送给当事人和公司领导。", "success")
    return redirect(url_for("web.notice", notice_id=notice_id), 303)


@blueprint.post("/notices/<int:notice_id>/withdraw")
@login_required
@roles_required(EDITORS, "撤回通报")
def notice_withdraw(notice_id: int):
    found, form = _notice(notice_id), WithdrawForm()
    _checked(form)
    session = db()
    try:
        notices.withdraw(
            session, found, form.reason.data or "", who(), now(), notice_config(runtime().settings)
        )
    except notices.NoticeRefused as refused:
        return _refused(found, refused)
    session.commit()
    enqueue_written(runtime(), session)
    flash("通报已撤回。", "success")
    return redirect(url_for("web.notice", notice_id=notice_id), 303)


@blueprint.post("/notices/praise/<int:record_id>")
@login_required
@roles_required(EDITORS, "起草通报表扬")
def notice_draft_praise(record_id: int):
    _checked(CsrfOnlyForm())
    session = db()
    record = session.get(RatingRecord, record_id)
    if record is None:
        raise PageError(404, "没有这条表扬记录", "没有找到这条表扬记录。")
    try:
        drafted = notices.draft_praise(session, record, who(), now(), zone())
    except notices.NoticeRefused as refused:
        session.rollback()
        raise PageError(409, "不能起草", str(refused)) from None
    session.commit()
    flash("已起草通报表扬，请核对后发布。", "success")
    return redirect(url_for("web.notice", notice_id=drafted.id), 303)
