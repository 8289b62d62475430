"""The forms of the office pages (work queues, notices, staff, calendar). Like `bot.web.forms`,
they carry no validators: the domain functions refuse bad values, in Chinese."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SelectField, StringField, TextAreaField


class CsrfOnlyForm(FlaskForm):
    """A button that only needs the CSRF token (publish, deactivate, resend…)."""


class RatingCallbackForm(FlaskForm):
    reached = RadioField(
        "是否接通",
        choices=[SelectChoice("yes", "已接通"), SelectChoice("no", "未接通")],
        validate_choice=False,
    )
    result = TextAreaField("回访情况", render_kw={"rows": 2, "required": True})


class ReviewForm(FlaskForm):
    decision = RadioField(
        "审查结论",
        choices=[SelectChoice("pursue", "追责"), SelectChoice("clear", "不予追责")],
        validate_choice=False,
    )
    note = TextAreaField("审查意见", render_kw={"rows": 2, "required": True})


class NoticeForm(FlaskForm):
    title = StringField("标题", render_kw={"maxlength": 100, "required": True})
    body = TextAreaField("正文", render_kw={"rows": 10, "required": True})


class WithdrawForm(FlaskForm):
    reason = TextAreaField("撤回原因", render_kw={"rows": 2})


class StaffForm(FlaskForm):
    name = StringField("姓名", render_kw={"maxlength": 50, "required": True})
    department = SelectField("部门", validate_choice=False)
    role = SelectField("角色", validate_choice=False)
    phone = StringField("手机", render_kw={"inputmode": "tel", "maxlength": 32})


class DesignationForm(FlaskForm):
    callback_staff = SelectField("低星评价回访专人", validate_choice=False)
    officer = SelectField("值班投诉负责人", validate_choice=False)


class DepartmentForm(FlaskForm):
    name = StringField("部门名称", render_kw={"maxlength": 50, "required": True})


class CalendarForm(FlaskForm):
    days = TextAreaField("放假与调休安排", render_kw={"rows": 16, "spellcheck": "false"})
