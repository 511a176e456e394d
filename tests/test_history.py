"""A follow-up reads the clauses the last turn cited from the turn itself when it carries them."""

from assistant.retrieve import cited_in

TEXT = "責任者を決めます（指針第3の3）。"


def test_a_turn_that_carries_its_citations_is_read_as_data():
    history = [{"role": "user", "content": "誰が決める？"}, {"role": "assistant", "content": TEXT, "citations": ["指針第4の2の一"]}]
    assert cited_in(history) == ["指針第4の2の一"]  # not the ID written in the text


def test_a_text_only_turn_from_a_history_file_is_read_from_its_text():
    assert cited_in([{"role": "assistant", "content": TEXT}]) == ["指針第3の3"]
    assert cited_in([{"role": "assistant", "content": "引用のない答え", "citations": []}]) == []
    assert cited_in([{"role": "user", "content": TEXT}]) == []


def test_the_measures_a_turn_proposed_are_read_from_its_data_else_from_its_advice_lines():
    from assistant.retrieve import proposed_in

    data = [{"role": "user", "content": "図面は？"}, {"role": "assistant", "content": "・M99 書かれているだけ", "measures": ["M41", "M10"]}]
    assert proposed_in(data) == ["M41", "M10"]  # the turn's data wins over its text
    text_only = [{"role": "assistant", "content": "【製品の助言】\n・M41 預かった図面の台帳（費用 無料）\n- M10 保存場所（cost 無料）\n本文の M20 は行頭でない"}]
    assert proposed_in(text_only) == ["M41", "M10"]
    assert proposed_in([]) == [] and proposed_in([{"role": "user", "content": "・M41 "}]) == []


def test_an_ordinal_follow_up_points_at_a_place_in_the_list():
    from assistant.asks import ordinal_in

    assert ordinal_in("2番目のはどうやるの？") == 2
    assert ordinal_in("二つ目のやつは？") == 2
    assert ordinal_in("３番目は費用がかかる？") == 3  # full-width digits
    assert ordinal_in("最初のはどうやるの？") == 1
    assert ordinal_in("最後のは？") == -1
    assert ordinal_in("データの場合は？") is None
    assert ordinal_in("社員10人です") is None  # a count is not a place
