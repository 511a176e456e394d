"""What an owner says of the firm in passing, read as the diagnosis' firm answers (#21)."""

import pytest

from assistant.triage.flow import (
    Flow,
    TriageError,
    TriageState,
    next_question,
    prefill,
    read_answer,
)
from assistant.triage.profile import firm_profile, head_count, profile_line, size_band

FLOW = Flow.load()
FIRM = FLOW.firm_questions


@pytest.mark.parametrize("text, profile", [
    ("金属部品の下請けで社員12人です", {"industry": "金属加工", "size": "6〜20人", "collaboration": ["下請け・受託"]}),
    ("従業員4人で和菓子を作っています。自社ブランドで販売していて、工房の見学も受け付けています。",
     {"industry": "食品製造", "size": "〜5人", "collaboration": ["自社製品", "来客・見学がある"]}),
    ("社員十二人の板金屋です", {"industry": "金属加工", "size": "6〜20人"}),  # a kanji count
    ("We are a 15-person electronics parts maker.", {"industry": "電子部品", "size": "6〜20人"}),
    ("30人ほどの会社で、大学と共同研究をしています", {"size": "21〜50人", "collaboration": ["共同研究開発"]}),
])
def test_an_introduction_states_the_firm_answers_it_names(text, profile):
    assert firm_profile(text, FIRM) == profile


@pytest.mark.parametrize("text", [
    "客先の担当者2人が来ます",  # people, but not the firm's head count
    "図面はどう管理すればいい？",
    "うちは金属加工も食品もやっています",  # two industries: which one the firm is, the text does not say
])
def test_what_is_not_clearly_stated_is_not_read(text):
    profile = firm_profile(text, FIRM)
    assert "size" not in profile and "industry" not in profile, profile


def test_head_counts_fall_in_the_size_questions_bands():
    assert [size_band(n) for n in (1, 5, 6, 20, 21, 50, 51, 300)] == ["〜5人", "〜5人", "6〜20人", "6〜20人", "21〜50人", "21〜50人", "51〜300人", "51〜300人"]
    assert size_band(301) is None  # no SME band: not guessed
    assert head_count("従業員は８名です") == 8 and head_count("社員数は非公開") is None


def test_a_free_text_answer_names_several_options_and_an_error_names_no_field():
    q = next_question(TriageState(firm={"name": "x", "industry": "化学", "size": "〜5人"}), FLOW)
    assert q.field == "collaboration" and q.kind == "multi"
    assert read_answer(q, "下請け・受託と、顧客と情報を共有") == ["下請け・受託", "顧客と情報を共有"]
    assert read_answer(q, "共同開発をしていて、工場見学も受け入れています") == ["共同研究開発", "来客・見学がある"]
    assert read_answer(q, ["自社製品"]) == ["自社製品"]  # buttons as before
    with pytest.raises(TriageError) as e:
        read_answer(q, "ぜんぜん関係ない話")
    assert str(e.value).startswith("他社や社外の人との関わり:") and "collaboration" not in str(e.value)


def test_prefilled_answers_are_logged_so_going_back_asks_them_after_all():
    state, applied = prefill(TriageState(), FLOW, {"industry": "金属加工", "size": "6〜20人", "collaboration": ["下請け・受託"], "name": "x"})
    assert applied == {"industry": "金属加工", "size": "6〜20人", "collaboration": ["下請け・受託"]}  # never the name
    assert next_question(state, FLOW).field == "name"
    assert [e["q"] for e in state.log] == ["firm.industry", "firm.size", "firm.collaboration"]
    _, none = prefill(state, FLOW, {"industry": "食品製造"})
    assert none == {}  # an answer given is not overwritten
    _, bad = prefill(TriageState(), FLOW, {"industry": "宇宙開発", "size": "1万人"})
    assert bad == {}  # only the questions' own options
    assert profile_line(applied) == "業種: 金属加工、従業員の人数: 6〜20人、他社や社外の人との関わり: 下請け・受託"
