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
