"""Reading a call-back answer (回访) from what a customer typed: pure, table-driven."""

from __future__ import annotations

import pytest

from models.core.callback_answer import CallbackAnswer, PendingChoice, read_answer

N = "TS202611280001"


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("1", CallbackAnswer(True)),
        ("2", CallbackAnswer(False)),
        ("１", CallbackAnswer(True)),  # full-width
        ("满意", CallbackAnswer(True)),
        ("非常满意！", CallbackAnswer(True)),
        ("满意了，谢谢", CallbackAnswer(True, note="谢谢")),
        ("不满意", CallbackAnswer(False)),
        ("很不满意", CallbackAnswer(False)),
        ("不太满意", CallbackAnswer(False)),
        ("不是很满意", CallbackAnswer(False)),
        ("不满意，还是有气味", CallbackAnswer(False, note="还是有气味")),
        ("还是没解决", CallbackAnswer(False, note="还是没解决")),
        ("问题已经解决了", CallbackAnswer(True, note="问题已经解决了")),
        (f"2 {N}", CallbackAnswer(False, N)),
        (f"{N.lower()} 1", CallbackAnswer(True, N)),
        (f"1 {N} 师傅很专业", CallbackAnswer(True, N, "师傅很专业")),
        (f"满意 {N}", CallbackAnswer(True, N)),
    ],
)
def test_answers_are_read(text: str, answer: CallbackAnswer) -> None:
    assert read_answer(text) == answer


@pytest.mark.parametrize("text", ["", "12", "3", "2号楼", "满意度一般", "我要投诉", "查询", "好的"])
def test_other_words_are_no_answer(text: str) -> None:
    assert read_answer(text) is None


def test_a_pending_choice_picks_by_its_number_and_survives_a_round_trip() -> None:
    choice = PendingChoice(False, (7, 9), "还有气味")
    assert (choice.pick("1"), choice.pick("2"), choice.pick("3"), choice.pick("满意")) == (
        7,
        9,
        None,
        None,
    )
    assert PendingChoice.from_dict(choice.to_dict()) == choice
