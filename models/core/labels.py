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

# The SLA clocks in the order they run (PRODUCT §4).
CLOCKS = ("route", "investigate", "resolve", "callback")
CLOCK_LABELS = {"route": "转派", "investigate": "调查", "resolve": "办结", "callback": "回访"}

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
