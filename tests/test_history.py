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
