"""The complaint-filing conversation (models.core.conversation) as a pure state machine."""

import json
import re
from dataclasses import fields, replace
from datetime import datetime, timedelta, timezone

import pytest

from models.core import conversation_texts as texts
from models.core.conversation import (
    ConversationConfig,
    ConversationState,
    Draft,
    Inbound,
    StepResult,
    normalize_phone,
    start,
    step,
)
from models.core.safety import SafetyConfig

APPEAL_TYPES = ("报装", "设计", "安装", "点火", "维修", "服务态度", "其他")
CONFIG = ConversationConfig(appeal_types=APPEAL_TYPES)
T0 = datetime(2026, 11, 28, 10, 0, tzinfo=timezone(timedelta(hours=8)))
LIMIT = 2048
STEP_ORDER = ["appeal_type", "content", "address", "name", "phone", "confirm"]
GOOD = {
    "appeal_type": "5",
    "content": "燃气表附近有漏气的味道",
    "address": "洞山路1号2栋301",
    "name": "张先生",
    "phone": "13800138000",
}
ALL_STEPS = [*STEP_ORDER, "choose_edit"]


def text(s: str) -> Inbound:
    return Inbound(kind="text", text=s)


def send(state: ConversationState, message: Inbound | str, now: datetime = T0) -> StepResult:
    inbound = text(message) if isinstance(message, str) else message
    result = step(state, inbound, now, CONFIG)
    assert result.reply
    assert len(result.reply.encode("utf-8")) <= LIMIT
    return result


def at(target: str) -> ConversationState:
    """A conversation driven through the real steps until `target`."""
    state = start(T0, CONFIG).state
    for name in STEP_ORDER[:-1]:
        if state.step == target:
            return state
        state = send(state, GOOD[name]).state
    assert state.step == "confirm"
    if target == "choose_edit":
        state = send(state, "2").state
    assert state.step == target
    return state


def progress_of(step_name: str) -> str:
    return f"第{STEP_ORDER.index(step_name) + 1}步/共5步"


# --- start and appeal type -------------------------------------------------------------------


def test_start_asks_for_the_appeal_type_with_a_numbered_menu():
    result = start(T0, CONFIG)
    assert result.outcome == "continue"
    assert result.state.step == "appeal_type"
    assert result.state.updated_at == T0
    assert result.state.draft == Draft()
    assert "（第1步/共5步）" in result.reply
    for number, name in enumerate(CONFIG.appeal_types, start=1):
        assert f"{number}. {name}" in result.reply


NUMBER_OR_NAME = ["5", "５", " 5 ", "5。", "（5）", "5.", "维修", " 维修！", "5 维修", "5、维修"]
NUMBER_OR_NAME += ["５维修"]


@pytest.mark.parametrize("answer", NUMBER_OR_NAME)
def test_appeal_type_is_chosen_by_number_or_name(answer):
    result = send(at("appeal_type"), answer)
    assert result.state.draft.appeal_type == "维修"
    assert result.state.step == "content"
    assert progress_of("content") in result.reply


def test_appeal_type_by_number_picks_the_configured_entry():
    result = send(at("appeal_type"), "６")
    assert result.state.draft.appeal_type == "服务态度"


@pytest.mark.parametrize("answer", ["8", "0", "修理", "5 报装", "abc", "燃" * 300, "12"])
def test_appeal_type_other_answers_reprompt_with_the_list(answer):
    result = send(at("appeal_type"), answer)
    assert result.state.step == "appeal_type"
    assert result.state.draft.appeal_type == ""
    assert "1. 报装" in result.reply and "7. 其他" in result.reply


# --- content ---------------------------------------------------------------------------------


def test_content_text_is_trimmed_and_moves_to_address():
    result = send(at("content"), "  燃气灶打不着火，已经三天了。 \n")
    assert result.state.draft.content == "燃气灶打不着火，已经三天了。"
    assert result.state.step == "address"
    assert progress_of("address") in result.reply


def test_content_at_the_limit_is_accepted_and_one_more_is_refused():
    exact = send(at("content"), "漏" * CONFIG.max_content_chars)
    assert exact.state.step == "address"
    too_long = send(at("content"), "漏" * (CONFIG.max_content_chars + 1))
    assert too_long.state.step == "content"
    assert too_long.state.draft.content == ""
    assert str(CONFIG.max_content_chars) in too_long.reply


@pytest.mark.parametrize("answer", ["1", "好", "？？？", "12345"])
def test_content_without_words_is_refused(answer):
    result = send(at("content"), answer)
    assert result.state.step == "content"
    assert result.state.draft.content == ""


def test_image_is_kept_and_the_step_stays_until_text_or_next():
    image = Inbound(kind="image", media_id="MEDIA1", pic_url="http://mmbiz.qpic.cn/1")
    result = send(at("content"), image)
    assert result.state.step == "content"
    assert result.state.draft.attachments == [
        {"kind": "image", "media_id": "MEDIA1", "pic_url": "http://mmbiz.qpic.cn/1"}
    ]
    assert "已收到图片" in result.reply and "下一步" in result.reply
    described = send(result.state, "表箱被撞坏了")
    assert described.state.step == "address"
    assert described.state.draft.content == "表箱被撞坏了"
    assert len(described.state.draft.attachments) == 1


def test_pictures_only_move_on_with_next_step():
    state = send(at("content"), Inbound(kind="image", media_id="M1")).state
    state = send(state, Inbound(kind="image", media_id="M2")).state
    result = send(state, " 下一步。")
    assert result.state.step == "address"
    assert result.state.draft.content == ""
    assert [a["media_id"] for a in result.state.draft.attachments] == ["M1", "M2"]


def test_next_step_without_anything_is_refused_at_content():
    result = send(at("content"), "下一步")
    assert result.state.step == "content"
    assert "图片" in result.reply


def test_voice_with_recognition_is_used_as_text():
    result = send(at("content"), Inbound(kind="voice", text="家里燃气管道漏气。", media_id="V1"))
    assert result.state.draft.content == "家里燃气管道漏气。"
    assert result.state.step == "address"


def test_voice_without_recognition_is_kept_and_text_is_asked_for():
    result = send(at("content"), Inbound(kind="voice", text="", media_id="V1"))
    assert result.state.step == "content"
    assert result.state.draft.attachments == [{"kind": "voice", "media_id": "V1", "pic_url": ""}]
    assert "文字" in result.reply
    assert send(result.state, "下一步").state.step == "address"


@pytest.mark.parametrize("where", ["appeal_type", "address", "name", "phone", "confirm"])
def test_pictures_sent_at_other_steps_are_kept_and_the_step_repeats(where):
    state = at(where)
    result = send(state, Inbound(kind="image", media_id="LATE", pic_url="http://p"))
    assert result.state.step == where
    assert result.state.draft.attachments[-1]["media_id"] == "LATE"
    assert "附件" in result.reply


def test_attachments_are_capped():
    state = at("content")
    for i in range(9):
        state = send(state, Inbound(kind="image", media_id=f"M{i}")).state
    result = send(state, Inbound(kind="image", media_id="M9"))
    assert len(result.state.draft.attachments) == 9
    assert "没有保存" in result.reply


# --- address ---------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["洞山", "田家庵区洞山路1号", "路" * 200])
def test_address_text_is_accepted(answer):
    result = send(at("address"), answer)
    assert result.state.draft.address == answer
    assert result.state.step == "name"


@pytest.mark.parametrize("answer", ["洞", "1234", "路" * 201, "下一步", "？！"])
def test_address_text_is_refused(answer):
    result = send(at("address"), answer)
    assert result.state.step == "address"
    assert result.state.draft.address == ""


def test_location_label_becomes_the_address_with_coordinates():
    location = Inbound(kind="location", latitude=32.62, longitude=116.99, label="淮南市洞山路1号")
    result = send(at("address"), location)
    draft = result.state.draft
    assert (draft.address, draft.latitude, draft.longitude) == ("淮南市洞山路1号", 32.62, 116.99)
    assert result.state.step == "name"
    assert "淮南市洞山路1号" in result.reply


def test_location_without_label_keeps_coordinates_and_asks_for_text():
    result = send(at("address"), Inbound(kind="location", latitude=32.6, longitude=117.0))
    assert result.state.step == "address"
    assert result.state.draft.latitude == 32.6
    completed = send(result.state, "洞山路1号")
    assert completed.state.draft.address == "洞山路1号"
    assert completed.state.draft.latitude == 32.6


def test_typed_address_replaces_an_earlier_location_and_its_coordinates():
    location = Inbound(kind="location", latitude=32.6, longitude=117.0, label="旧地址1号")
    state = send(at("address"), location).state
    state = send(state, "返回").state
    result = send(state, "新地址2号")
    assert result.state.draft.address == "新地址2号"
    assert result.state.draft.latitude is None and result.state.draft.longitude is None


# --- name ------------------------------------------------------------------------------------


GOOD_NAMES = [("张先生", "张先生"), (" 李四。", "李四"), ("王", "王"), ("名" * 20, "名" * 20)]
BAD_NAMES = ["123", "１３８００１３８０００", "名" * 21, "确认", "下一步", "。。"]


@pytest.mark.parametrize("answer, expected", GOOD_NAMES)
def test_name_is_accepted(answer, expected):
    result = send(at("name"), answer)
    assert result.state.draft.name == expected
    assert result.state.step == "phone"


@pytest.mark.parametrize("answer", BAD_NAMES)
def test_name_is_refused(answer):
    result = send(at("name"), answer)
    assert result.state.step == "name"
    assert result.state.draft.name == ""


# --- phone -----------------------------------------------------------------------------------

VALID_PHONES = [
    ("13800138000", "13800138000"),
    ("138 0013 8000", "13800138000"),
    ("138-0013-8000", "13800138000"),
    ("+86 13800138000", "13800138000"),
    ("+86-138-0013-8000", "13800138000"),
    ("8613800138000", "13800138000"),
    ("(+86)13800138000", "13800138000"),
    ("１３８００１３８０００", "13800138000"),
    ("19912345678", "19912345678"),
    ("13800138000。", "13800138000"),
    ("0558-2703802", "0558-2703802"),
    ("05582703802", "0558-2703802"),
    ("0558 2703802", "0558-2703802"),
    ("(0558)2703802", "0558-2703802"),
    ("０５５８－２７０３８０２", "0558-2703802"),
    ("0558-12345678", "0558-12345678"),
    ("010-12345678", "010-12345678"),
    ("02112345678", "021-12345678"),
    ("0558—2703802", "0558-2703802"),
]
INVALID_PHONES = [
    "",
    "1380013800",  # 10 digits
    "138001380001",  # 12 digits
    "12800138000",  # 12x is not a mobile prefix
    "23800138000",
    "+1 13800138000",
    "+86 0558 2703802",
    "0558-270380",  # local part too short
    "0558-270380212",  # local part too long
    "0558-0703802",  # local numbers never start with 0
    "0058-2703802",
    "0558-2703802-123",  # extensions are not needed
    "2703802",  # no area code
    "电话13800138000",
    "138OO138OOO",
    "abc",
    "1" * 40,
]


@pytest.mark.parametrize("raw, canonical", VALID_PHONES)
def test_normalize_phone_accepts_mobiles_and_landlines(raw, canonical):
    assert normalize_phone(raw) == canonical


@pytest.mark.parametrize("raw", INVALID_PHONES)
def test_normalize_phone_rejects_everything_else(raw):
    assert normalize_phone(raw) is None


def test_phone_step_stores_the_canonical_form_and_shows_the_summary():
    result = send(at("phone"), "０５５８ ２７０３８０２")
    assert result.state.draft.phone == "0558-2703802"
    assert result.state.step == "confirm"


@pytest.mark.parametrize("answer", ["1234", "12800138000", "张先生", "0558-2703802-123"])
def test_invalid_phone_is_asked_again_with_both_example_forms_only(answer):
    result = send(at("phone"), answer)
    assert result.state.step == "phone"
    assert result.state.draft.phone == ""
    assert "13800138000" in result.reply and "0558-1234567" in result.reply
    numbers = set(re.findall(r"\d[\d-]{6,}\d", result.reply))
    assert numbers <= {"13800138000", "0558-1234567"}


# --- summary and confirmation ----------------------------------------------------------------


def test_summary_shows_every_field_and_the_three_choices():
    state = send(at("content"), Inbound(kind="image", media_id="M1")).state
    for name in ["content", "address", "name", "phone"]:
        state = send(state, GOOD[name]).state
    reply = send(state, "你好").reply  # any other text re-shows the summary
    for value in ["维修", GOOD["content"], GOOD["address"], GOOD["name"], GOOD["phone"]]:
        assert value in reply
    assert "图片1个" in reply
    assert "1 确认" in reply and "2 修改" in reply and "0 取消" in reply


@pytest.mark.parametrize("answer", ["1", "１", " 1。", "确认", "提交"])
def test_confirm_ends_the_conversation_with_the_draft(answer):
    state = at("confirm")
    result = send(state, answer)
    assert result.outcome == "confirmed"
    assert result.state is None
    assert result.confirmed == state.draft
    assert result.confirmed is not state.draft
    assert "2小时" in result.reply


@pytest.mark.parametrize("answer", ["0", "０", "取消"])
def test_zero_or_cancel_on_the_summary_cancels(answer):
    result = send(at("confirm"), answer)
    assert (result.outcome, result.state, result.confirmed) == ("cancelled", None, None)


@pytest.mark.parametrize("answer", ["3", "好的", "下一步"])
def test_other_answers_on_the_summary_repeat_it(answer):
    state = at("confirm")
    result = send(state, answer)
    assert result.outcome == "continue" and result.confirmed is None
    assert result.state.step == "confirm"
    assert result.state.draft == state.draft
    assert "0 取消" in result.reply


def test_confirm_with_an_incomplete_draft_goes_to_the_missing_step():
    state = replace(at("confirm"), draft=replace(at("confirm").draft, name=""))
    result = send(state, "1")
    assert result.confirmed is None
    assert result.state.step == "name"


def test_submitted_reply_names_the_ticket_and_the_promise():
    reply = texts.submitted_reply("TS202611280001", CONFIG)
    assert "TS202611280001" in reply and CONFIG.callback_promise in reply


# --- 修改 ------------------------------------------------------------------------------------

EDITS = [
    ("1", "appeal_type", "2", "appeal_type", "设计"),
    ("2", "content", "管道有异味", "content", "管道有异味"),
    ("3", "address", "新村3栋", "address", "新村3栋"),
    ("4", "name", "李女士", "name", "李女士"),
    ("５", "phone", "0558-2703802", "phone", "0558-2703802"),
    ("地址", "address", "新村3栋", "address", "新村3栋"),
    ("联系电话", "phone", "13912345678", "phone", "13912345678"),
]


@pytest.mark.parametrize("choice, target, answer, attr, expected", EDITS)
def test_each_field_can_be_changed_and_the_summary_comes_back(
    choice, target, answer, attr, expected
):
    before = at("choose_edit")
    chosen = send(before, choice)
    assert chosen.state.step == target and chosen.state.editing
    assert "修改" in chosen.reply
    done = send(chosen.state, answer)
    assert done.state.step == "confirm" and not done.state.editing
    assert getattr(done.state.draft, attr) == expected
    assert replace(done.state.draft, **{attr: getattr(before.draft, attr)}) == before.draft
    assert expected in done.reply and "1 确认" in done.reply


def test_summary_choice_2_lists_the_fields():
    result = send(at("confirm"), "2")
    assert result.state.step == "choose_edit"
    for i, label in enumerate(["诉求类型", "投诉内容", "地址", "姓名", "联系电话"], start=1):
        assert f"{i}. {label}" in result.reply


@pytest.mark.parametrize("answer", ["6", "0", "电", "你好"])
def test_unknown_field_choice_repeats_the_list(answer):
    result = send(at("choose_edit"), answer)
    assert result.state.step == "choose_edit"
    assert "5. 联系电话" in result.reply


def test_next_step_while_editing_keeps_the_value_and_returns_to_the_summary():
    state = send(at("choose_edit"), "3").state
    result = send(state, "下一步")
    assert result.state.step == "confirm"
    assert result.state.draft.address == GOOD["address"]


def test_invalid_answer_while_editing_stays_in_editing():
    state = send(at("choose_edit"), "5").state
    result = send(state, "12345")
    assert result.state.step == "phone" and result.state.editing
    assert result.state.draft.phone == GOOD["phone"]


# --- 返回 and 取消 ---------------------------------------------------------------------------

BACK = [
    ("content", "appeal_type"),
    ("address", "content"),
    ("name", "address"),
    ("phone", "name"),
    ("confirm", "phone"),
    ("choose_edit", "confirm"),
]


@pytest.mark.parametrize("where, previous", BACK)
@pytest.mark.parametrize("word", ["返回", " 返回！", "【返回】"])
def test_back_goes_one_step_back_and_keeps_the_answers(where, previous, word):
    state = at(where)
    result = send(state, word)
    assert result.state.step == previous
    assert result.state.draft == state.draft
    assert "下一步" in result.reply or previous == "confirm"


def test_back_at_the_first_step_says_so_and_asks_again():
    result = send(at("appeal_type"), "返回")
    assert result.state.step == "appeal_type"
    assert "第一步" in result.reply and "1. 报装" in result.reply


def test_back_then_next_keeps_the_earlier_answer():
    state = send(at("name"), "返回").state
    assert state.step == "address"
    result = send(state, "下一步")
    assert result.state.step == "name"
    assert result.state.draft.address == GOOD["address"]


def test_back_while_editing_returns_to_the_field_list():
    state = send(at("choose_edit"), "4").state
    result = send(state, "返回")
    assert result.state.step == "choose_edit" and not result.state.editing


@pytest.mark.parametrize("where", ALL_STEPS)
@pytest.mark.parametrize("word", ["取消", " 取消。", "取消！！"])
def test_cancel_at_any_step_ends_the_conversation(where, word):
    result = send(at(where), word)
    assert result.outcome == "cancelled"
    assert result.state is None and result.confirmed is None
    assert "取消" in result.reply


def test_cancel_as_voice_recognition_cancels():
    result = send(at("address"), Inbound(kind="voice", text="取消。", media_id="V"))
    assert result.outcome == "cancelled"


# --- idle expiry -----------------------------------------------------------------------------


@pytest.mark.parametrize("where", ALL_STEPS)
def test_idle_conversation_expires_without_applying_the_message(where):
    state = at(where)
    later = state.updated_at + timedelta(minutes=CONFIG.idle_minutes, seconds=1)
    result = send(state, "1", now=later)
    assert result.outcome == "expired"
    assert result.state is None and result.confirmed is None
    assert f"{CONFIG.idle_minutes}分钟" in result.reply
    assert "投诉服务" in result.reply and "我要投诉" in result.reply


def test_expiry_follows_the_configured_minutes():
    config = replace(CONFIG, idle_minutes=5)
    state = at("name")
    result = step(state, text("张三"), state.updated_at + timedelta(minutes=6), config)
    assert result.outcome == "expired" and "5分钟" in result.reply


def test_exactly_idle_minutes_is_not_yet_expired():
    state = at("name")
    result = send(state, "张三", now=state.updated_at + timedelta(minutes=CONFIG.idle_minutes))
    assert result.outcome == "continue"


def test_every_answer_refreshes_updated_at():
    state = at("name")
    later = T0 + timedelta(minutes=20)
    good = send(state, "张三", now=later)
    assert good.state.updated_at == later
    refused = send(state, "123", now=later)
    assert refused.state.updated_at == later
    assert state.updated_at == T0  # the input state is not mutated


# --- unexpected input ------------------------------------------------------------------------

UNEXPECTED = [
    Inbound(kind="click", text="COMPLAINT_NEW"),
    Inbound(kind="click", text="COMPLAINT_MINE"),
    Inbound(kind="click", text="RATE_5"),
    Inbound(kind="click", text="HOTLINE"),
    Inbound(kind="event", text="subscribe"),
    Inbound(kind="other"),
    text("【收到不支持的消息类型，暂无法显示】"),
    text("[微笑][微笑]"),
    text("/::)"),
    text("😀"),
    text("   "),
    text("我要投诉"),
    text("查询 TS202611280001"),
]


def _step_marker(where: str) -> str:
    if where == "confirm":
        return "1 确认 / 2 修改 / 0 取消"
    if where == "choose_edit":
        return "5. 联系电话"
    return progress_of(where)


@pytest.mark.parametrize("where", ALL_STEPS)
@pytest.mark.parametrize("inbound", UNEXPECTED, ids=lambda m: f"{m.kind}:{m.text}")
def test_unexpected_input_gets_the_current_prompt(where, inbound):
    state = at(where)
    result = send(state, inbound, now=T0 + timedelta(minutes=1))
    assert result.outcome == "continue"
    assert result.state.step == where
    assert result.state.draft == state.draft
    assert "正在填写投诉" in result.reply and "取消" in result.reply
    assert _step_marker(where) in result.reply


@pytest.mark.parametrize("where", ["appeal_type", "content", "name", "phone", "confirm"])
def test_location_outside_the_address_step_is_unexpected(where):
    state = at(where)
    result = send(state, Inbound(kind="location", latitude=1.0, longitude=2.0, label="某地"))
    assert result.state.step == where and result.state.draft == state.draft
    assert "正在填写投诉" in result.reply


@pytest.mark.parametrize("where", STEP_ORDER[:5])
def test_every_question_shows_progress(where):
    assert progress_of(where) in send(at(where), Inbound(kind="other")).reply


# --- reply size ------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ALL_STEPS)
def test_a_huge_paste_gets_a_short_reply_at_every_step(where):
    result = send(at(where), "燃气" * 5000)
    assert result.state is not None
    assert len(result.reply.encode("utf-8")) <= LIMIT


def test_summary_with_the_longest_fields_fits_and_keeps_the_choices():
    state = at("content")
    state = send(state, "𠀀" * CONFIG.max_content_chars).state  # 4 bytes per character
    state = send(state, "路" * 200).state
    state = send(state, "名" * 20).state
    result = send(state, "13800138000")
    assert result.state.step == "confirm"
    assert len(result.reply.encode("utf-8")) <= LIMIT
    assert result.reply.endswith("1 确认 / 2 修改 / 0 取消")
    assert "…" in result.reply and "路" * 200 in result.reply
    assert result.state.draft.content == "𠀀" * CONFIG.max_content_chars


def test_long_appeal_type_list_still_fits():
    config = replace(CONFIG, appeal_types=tuple(f"类型{i}" * 20 for i in range(40)))
    reply = start(T0, config).reply
    assert reply and len(reply.encode("utf-8")) <= LIMIT


def test_fit_cuts_at_a_character_boundary():
    cut = texts.fit("燃" * 1000)
    assert len(cut.encode("utf-8")) <= LIMIT
    assert cut.endswith("…") and set(cut[:-1]) == {"燃"}


# --- serialisation ---------------------------------------------------------------------------


def test_state_round_trips_through_json():
    state = send(at("address"), Inbound(kind="image", media_id="M1", pic_url="http://p")).state
    location = Inbound(kind="location", latitude=32.62, longitude=116.99, label="洞山路1号")
    state = send(state, location).state
    state = send(send(state, "张先生").state, "13800138000").state
    state = send(send(state, "2").state, "3").state
    assert state.editing
    restored = ConversationState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert restored == state
    assert restored.updated_at.utcoffset() == timedelta(hours=8)
    assert send(restored, "下一步").state.step == "confirm"


def test_from_dict_rejects_unknown_steps_and_naive_times():
    data = at("name").to_dict()
    with pytest.raises(ValueError):
        ConversationState.from_dict({**data, "step": "nowhere"})
    with pytest.raises(ValueError):
        ConversationState.from_dict({**data, "updated_at": "2026-11-28T10:00:00"})


def test_draft_round_trips_through_json():
    draft = Draft(
        appeal_type="维修",
        content="漏气",
        attachments=[{"kind": "voice", "media_id": "V", "pic_url": ""}],
        address="洞山路",
        latitude=1.5,
        longitude=2.5,
        name="张",
        phone="0558-2703802",
        urgent=True,
    )
    assert Draft.from_dict(json.loads(json.dumps(draft.to_dict()))) == draft
    assert set(draft.to_dict()) == {f.name for f in fields(Draft)}  # none left out


# --- purity ----------------------------------------------------------------------------------


# --- video, and gas leaks reported in the middle of a step -----------------------------------

SAFE = replace(CONFIG, safety=SafetyConfig(leak_words=("漏气", "煤气味")))


def test_a_video_is_kept_as_evidence():
    state = at("address")
    result = send(state, Inbound(kind="video", media_id="v1"))
    assert "视频" in result.reply and result.state.draft.attachments[-1]["kind"] == "video"
    assert result.state.step == "address"


@pytest.mark.parametrize("where", ["address", "name", "phone", "confirm"])
def test_a_leak_reported_at_another_step_is_not_taken_as_the_answer(where):
    state = at(where)
    result = step(state, text("现在屋里全是煤气味"), T0, SAFE)
    assert result.state.step == where and result.state.draft.urgent
    assert result.state.draft.address == state.draft.address  # nothing overwritten
    assert "燃气泄漏" in result.reply


def test_a_leak_in_the_description_is_the_description_and_marks_it_urgent():
    state = at("content")
    result = step(state, text("燃气表接口漏气了"), T0, SAFE)
    assert result.state.step == "address" and result.state.draft.content == "燃气表接口漏气了"
    assert result.state.draft.urgent
    assert Draft.from_dict(result.state.draft.to_dict()).urgent
