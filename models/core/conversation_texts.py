"""Chinese texts of the complaint-filing conversation (投诉对话).

Plain functions over plain values: no I/O, standard library only. Every reply the conversation
sends is built here and kept within WeChat's 2048-byte limit for a text reply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.core import replies

if TYPE_CHECKING:
    from models.core.conversation import ConversationConfig, Draft

REPLY_LIMIT_BYTES = replies.MAX_REPLY_BYTES
STEP_COUNT = 5
STEP_NUMBER = {"appeal_type": 1, "content": 2, "address": 3, "name": 4, "phone": 5}
FIELD_LABELS = {
    "appeal_type": "诉求类型",
    "content": "投诉内容",
    "address": "地址",
    "name": "姓名",
    "phone": "联系电话",
}
PHONE_EXAMPLES = "手机号如 13800138000，座机请带区号如 0558-1234567"
RESTART_HINT = "如需投诉，请点击菜单「投诉服务」→「我要投诉」。"
FOOTER = "回复「返回」回到上一步，回复「取消」退出投诉。"
FIRST_FOOTER = "回复「取消」可退出投诉。"
EDIT_FOOTER = "回复「返回」回到修改列表，回复「取消」退出投诉。"
ELLIPSIS = replies.ELLIPSIS
CURRENT_ECHO_CHARS = 60

WELCOME = "您好！下面几步帮您提交投诉，每次回答一个问题即可。"
FIRST_STEP = "已经是第一步了。"
UNEXPECTED = "您正在填写投诉，暂时无法处理这条消息。请按下面的提示回复，回复「取消」可退出投诉。"
NEED_VALUE = "这一步还没有填写，请先回答。"
CONTENT_NEED = "请先用文字描述情况，或发送图片后回复「下一步」。"
CONTENT_TOO_SHORT = "请用一两句话文字描述发生了什么（至少2个字）。"
IMAGE_RECEIVED = "已收到图片。"
VOICE_UNRECOGNIZED = "已收到语音，但暂时无法识别成文字。"
MEDIA_RECEIVED = {
    "image": IMAGE_RECEIVED,
    "voice": VOICE_UNRECOGNIZED,
    "video": "已收到视频。",
}
MEDIA_LABELS = {"image": "图片", "voice": "语音", "video": "视频"}
LOCATION_NO_LABEL = "已收到您的位置，请再用文字补充详细地址（如小区、楼栋、门牌号）。"
ADDRESS_INVALID = "请用2到200个字写明地址（如：XX小区3栋2单元501）。"
NAME_INVALID = "请告诉我们您的姓名或称呼（20个字以内，不能只是数字，如：张先生）。"
PHONE_INVALID = f"电话号码格式不正确。{PHONE_EXAMPLES}。"
CONFIRM_INVALID = "请回复数字：1 确认 / 2 修改 / 0 取消。"
EDIT_INVALID = "请回复 1–5 的数字，选择要修改的项目。"
CANCELLED = f"已取消本次投诉，欢迎随时再来。{RESTART_HINT}"


def fit(text: str, limit: int = REPLY_LIMIT_BYTES) -> str:
    """Cut `text` (at a character boundary) so that its UTF-8 form has at most `limit` bytes."""
    return replies.clip(text, limit)


def progress(step: str, editing: bool = False) -> str:
    number = STEP_NUMBER[step]
    if editing:
        return f"（修改{FIELD_LABELS[step]} · 第{number}步/共{STEP_COUNT}步）"
    return f"（第{number}步/共{STEP_COUNT}步）"


def expired(idle_minutes: int) -> str:
    return f"您未完成的投诉已超过{idle_minutes}分钟未操作，已自动失效。{RESTART_HINT}"


def confirmed(config: ConversationConfig) -> str:
    return f"您的投诉已提交，{config.callback_promise}。"


def submitted_reply(ticket_no: str, config: ConversationConfig) -> str:
    """The reply after the caller created the ticket: number and what happens next."""
    return (
        f"您的投诉已受理，受理单号：{ticket_no}。\n{config.callback_promise}。\n"
        "可点击菜单「投诉服务」→「我的投诉」查看处理进度。"
    )


def appeal_type_invalid(count: int) -> str:
    return f"没有找到这个选项，请回复 1–{count} 的数字。"


def content_too_long(length: int, limit: int) -> str:
    return f"您发送的内容有{length}字，超过了{limit}字，请精简后重新发送。"


def address_too_long(length: int) -> str:
    return f"地址有{length}字，请精简到200字以内。"


def name_too_long(length: int) -> str:
    return f"称呼有{length}字，请控制在20字以内（如：张先生）。"


def attachments_full(limit: int) -> str:
    return f"附件最多保存{limit}个，这一个没有保存。"


def media_kept(kind: str, count: int) -> str:
    return f"已收到{MEDIA_LABELS[kind]}，已作为附件保存（共{count}个附件）。"


def location_saved(label: str) -> str:
    return f"已记录地址：{_clip_chars(label, CURRENT_ECHO_CHARS)}"


def _clip_chars(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + ELLIPSIS


def _keep_hint(value: str) -> str:
    return f"当前为：{_clip_chars(value, CURRENT_ECHO_CHARS)}，回复「下一步」可保留。"


def _attachment_summary(attachments: list[dict]) -> str:
    parts = []
    for kind, label in MEDIA_LABELS.items():
        count = sum(1 for a in attachments if a.get("kind") == kind)
        if count:
            parts.append(f"{label}{count}个")
    return "、".join(parts)


def _appeal_type_prompt(draft: Draft, config: ConversationConfig) -> list[str]:
    lines = ["请选择诉求类型，回复数字："]
    lines += [f"{i}. {name}" for i, name in enumerate(config.appeal_types, start=1)]
    if draft.appeal_type:
        lines.append(_keep_hint(draft.appeal_type))
    return lines


def _content_prompt(draft: Draft, config: ConversationConfig) -> list[str]:
    lines = [
        f"请简要描述发生了什么（{config.max_content_chars}字以内），也可以发送图片、语音或视频。"
    ]
    if draft.attachments:
        lines.append(
            f"已收到附件：{_attachment_summary(draft.attachments)}。"
            "请再用文字补充说明；如不需要补充，回复「下一步」。"
        )
    if draft.content:
        lines.append(_keep_hint(draft.content))
    return lines


def _address_prompt(draft: Draft) -> list[str]:
    lines = ["请告诉我们问题发生的地址（如小区、楼栋、门牌号），也可以直接发送位置。"]
    if draft.address:
        lines.append(_keep_hint(draft.address))
    return lines


def _name_prompt(draft: Draft) -> list[str]:
    lines = ["请问怎么称呼您？（如：张先生）"]
    if draft.name:
        lines.append(_keep_hint(draft.name))
    return lines


def _phone_prompt(draft: Draft) -> list[str]:
    lines = [f"请留下您的联系电话（{PHONE_EXAMPLES}）。"]
    if draft.phone:
        lines.append(_keep_hint(draft.phone))
    return lines


def edit_menu() -> str:
    lines = ["（修改信息）请回复要修改的项目编号："]
    lines += [f"{i}. {label}" for i, label in enumerate(FIELD_LABELS.values(), start=1)]
    lines.append("回复「返回」回到确认页，回复「取消」退出投诉。")
    return "\n".join(lines)


def summary(draft: Draft, config: ConversationConfig, lead: str = "") -> str:
    """The summary with 1 确认 / 2 修改 / 0 取消; the content echo is cut to fit 2048 bytes."""
    head = [lead] if lead else []
    head.append("（5步已全部填写，请确认）请核对您的投诉信息：")
    head.append(f"诉求类型：{draft.appeal_type}")
    rest = []
    if draft.attachments:
        rest.append(f"附件：{_attachment_summary(draft.attachments)}")
    located = "（已附位置）" if draft.latitude is not None else ""
    rest += [f"地址：{draft.address}{located}", f"姓名：{draft.name}", f"联系电话：{draft.phone}"]
    rest.append("回复数字：1 确认 / 2 修改 / 0 取消")
    frame = "\n".join([*head, "投诉内容：", *rest])
    budget = REPLY_LIMIT_BYTES - len(frame.encode("utf-8"))
    content = draft.content or "（无文字，见附件）"
    return "\n".join([*head, f"投诉内容：{fit(content, max(budget, 0))}", *rest])


def footer(step: str, editing: bool) -> str:
    if editing:
        return EDIT_FOOTER
    return FIRST_FOOTER if step == "appeal_type" else FOOTER


def prompt(
    step: str, draft: Draft, editing: bool, config: ConversationConfig, lead: str = ""
) -> str:
    """The question for `step`, with progress, current value and footer, after `lead`."""
    if step == "confirm":
        return fit(summary(draft, config, lead))
    if step == "choose_edit":
        return fit("\n".join(filter(None, [lead, edit_menu()])))
    builders = {
        "appeal_type": lambda: _appeal_type_prompt(draft, config),
        "content": lambda: _content_prompt(draft, config),
        "address": lambda: _address_prompt(draft),
        "name": lambda: _name_prompt(draft),
        "phone": lambda: _phone_prompt(draft),
    }
    lines = builders[step]()
    lines[0] = progress(step, editing) + lines[0]
    return fit("\n".join([*filter(None, [lead]), *lines, footer(step, editing)]))
