"""The back office's forms (Flask-WTF: every one carries a CSRF token).

Fields carry no WTForms validators: what a value must be is the domain's rule (the chat's
field rules, the workflow's refusals), so that the web and the chat answer alike and always in
Chinese. A form fails validation here only when its CSRF token is missing or stale.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)

CSRF_PROBLEM = "页面已过期或来源不明，请返回刷新页面后重试。"


class LoginForm(FlaskForm):
    username = StringField("姓名或手机号", render_kw={"autocomplete": "username"})
    password = PasswordField("密码", render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class PasswordForm(FlaskForm):
    current = PasswordField("当前密码", render_kw={"autocomplete": "current-password"})
    new = PasswordField("新密码", render_kw={"autocomplete": "new-password"})
    repeat = PasswordField("再次输入新密码", render_kw={"autocomplete": "new-password"})


class LogoutForm(FlaskForm):
    pass


class IntakeForm(FlaskForm):
    """登记投诉: the policy form's fields for a complaint from another channel."""

    source_channel = SelectField("投诉来源", validate_choice=False)
    external_number = StringField("平台编号", render_kw={"maxlength": 64})
    appeal_type = SelectField("诉求类型", validate_choice=False)
    severity = SelectField("严重程度", validate_choice=False)
    name = StringField("服务对象", render_kw={"maxlength": 20})
    phone = StringField("联系电话", render_kw={"inputmode": "tel", "maxlength": 30})
    gas_account = StringField("户号", render_kw={"maxlength": 32})
    address = StringField("单位/地址", render_kw={"maxlength": 200})
    complained_at = StringField("投诉时间", render_kw={"type": "datetime-local"})
    matter = StringField("诉求事项", render_kw={"maxlength": 100})
    content = TextAreaField("受理内容", render_kw={"rows": 6})
    receiving_department = SelectField("受理部门", validate_choice=False)
    intake_key = HiddenField()


# --- the action forms (one per kind of move; the table is bot/web/actions.py) --------------


class NoteForm(FlaskForm):
    text = TextAreaField("备注（可不填）", render_kw={"rows": 2})


class AssignForm(FlaskForm):
    target = SelectField("承办部门 / 承办人", validate_choice=False, render_kw={"required": True})
    text = TextAreaField("派单说明（可不填）", render_kw={"rows": 2})


class EscalateForm(FlaskForm):
    severity = SelectField("升级为", validate_choice=False)
    text = TextAreaField("说明（可不填）", render_kw={"rows": 2})


class ExtendForm(FlaskForm):
    workdays = StringField(
        "延期工作日数", render_kw={"type": "number", "min": 1, "inputmode": "numeric"}
    )
    text = TextAreaField("说明（可不填）", render_kw={"rows": 2})


class MoneyForm(FlaskForm):
    money_kind = RadioField("类型", validate_choice=False)
    amount = StringField("金额（元）", render_kw={"inputmode": "decimal", "required": True})
    text = TextAreaField("说明", render_kw={"rows": 2, "required": True})


class DecideForm(FlaskForm):
    approve = RadioField(
        "结论",
        choices=[SelectChoice("yes", "同意"), SelectChoice("no", "驳回")],
        validate_choice=False,
    )
    text = TextAreaField("意见（可不填）", render_kw={"rows": 2})


class CallbackForm(FlaskForm):
    satisfied = RadioField(
        "回访结果",
        choices=[SelectChoice("yes", "满意"), SelectChoice("no", "不满意")],
        validate_choice=False,
    )
    text = TextAreaField("备注（客户原话、不满意原因）", render_kw={"rows": 2})
