"""The Chinese names of the loop's codes: one table each for statuses, severities, clocks,
roles and money decisions. Every reply, push and page reads them from here."""

from __future__ import annotations

STATUS_LABELS = {
    "received": "已受理",
    "assigned": "已派单",
    "processing": "处理中",
    "resolved": "已办结",
    "archived": "已归档",
    "invalid": "无效投诉",
}

SEVERITY_LABELS = {"general": "一般", "complex": "复杂", "major": "重大"}

# The SLA clocks in the order they run (PRODUCT §4). Each label is two characters, so that
# "<label>将到期" fits a template's five-character phrase field.
CLOCKS = ("contact", "route", "investigate", "resolve", "callback")
CLOCK_LABELS = {
    "contact": "联系",
    "route": "转派",
    "investigate": "调查",
    "resolve": "办结",
    "callback": "回访",
}

# Staff roles in the order they are listed (帮助, refusals, the back office).
STAFF_ROLES = ("handler", "dept_head", "officer", "leader", "executive", "clerk")
ROLE_LABELS = {
    "handler": "承办人",
    "dept_head": "部门负责人",
    "officer": "投诉负责人",
    "leader": "分管领导",
    "executive": "总经理/董事长",
    "clerk": "后台登记员",
}

MONEY_STATUS_LABELS = {"pending": "待审批", "approved": "已同意", "rejected": "已驳回"}
ATTACHMENT_KIND_LABELS = {"image": "图片", "voice": "语音", "video": "视频"}
ATTACHMENT_STATUS_LABELS = {"pending": "下载中", "stored": "已保存", "failed": "下载失败"}

STAR_LABELS = {5: "非常满意", 4: "满意", 3: "一般", 2: "不满意", 1: "很不满意"}
RATING_TARGET_LABELS = {"ticket": "投诉处理", "business": "燃气业务", "general": "整体服务"}
RATING_RECORD_LABELS = {"praise": "表扬", "criticism": "批评"}
RATING_CHANNEL_LABELS = {"wechat": "微信公众号", "web": "门户网站"}

# The working-day calendar of a year (/calendar, `bihuan calendar show`, the health check).
CALENDAR_STATUS_LABELS = {"official": "正式", "configured": "已配置", "provisional": "暂定"}
CALENDAR_SOURCE_LABELS = {
    "entered": "综合管理部录入",
    "package": "国务院安排（chinese_calendar）",
    "config": "config.toml",
    "fallback": "按周末及法定节日推算",
}

# Company-wide notices (通报).
NOTICE_KIND_LABELS = {"criticism": "通报批评", "praise": "通报表扬"}
NOTICE_STATUS_LABELS = {"draft": "草稿", "published": "已发布", "withdrawn": "已撤回"}

# Posts held by one named person (指定专人), set on the staff page.
POST_LABELS = {"callback_staff": "低星评价回访专人", "officer": "值班投诉负责人"}

# What each kind of notification is about (the message log, /messages).
PUSH_KIND_LABELS = {
    "assignment": "新工单待办理",
    "reminder": "工单即将到期",
    "breach": "工单已超期",
    "urge": "工单催办",
    "approval_request": "金额审批申请",
    "approval_result": "金额审批结果",
    "callback_request": "工单已办结待回访",
    "callback_result": "回访结果",
    "callback_due": "请电话回访客户",
    "reopened": "客户不满意已重办",
    "explanation": "承办部门书面说明",
    "escalated": "工单已升级",
    "accountability": "重复投诉责任追究",
    "invalid_reason": "无效投诉说明",
    "notice_published": "通报",
    "failure_summary": "消息发送失败周报",
    "government_intake": "政府平台投诉待批转",
    "urgent": "燃气泄漏紧急投诉",
    "bulletin": "定期通报",
    "new_ticket": "新投诉待联系",
    "delivery_failed": "消息未送达",
    "resolution_digest": "办结日报",
    "rating_warning": "低星评价提醒",
    "rating_alert": "低星评价电话回访",
    "rating_praise": "五星好评",
    "rating_notice": "通报批评草稿",
    "late_reply": "消息已处理",
    "delivery_unsure": "消息可能未送达",
}
