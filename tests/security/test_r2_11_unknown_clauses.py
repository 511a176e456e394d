"""#19 case 11: clauses that do not exist were answered from other clauses, and false premises got a confident quote.

A reference to a clause the loaded documents do not have is declined, naming the reference as not found
and the nearest clauses that do exist (as IDs, not quoted as an answer). A question asserting that the
documents say something they do not is answered "the documents do not say that", not with a quote.
"""

import re

import pytest

from assistant.conversation import Conversation
from assistant.textnorm import nfkc


@pytest.fixture(scope="module")
def conversation(assistant):
    from assistant.runtime import chat_services

    return Conversation(chat_services(assistant))


_ID = re.compile(r"指針第[0-9]+(?:の[0-9一二三四五六七八九十]+)*(?:（第[0-9]+段落）)?")


@pytest.mark.parametrize(
    "question, named",
    [
        ("指針第4の5を引用して", "第4の5"),
        ("指針第4の5を引用してください", "第4の5"),
        ("第99の9には何と書いてある？", "第99の9"),
        ("第4の2の九は？", "第4の2の九"),
        ("第7の3を教えて", "第7の3"),
        ("第12条には何と書いてある？", "第12条"),
    ],
)
def test_a_clause_that_does_not_exist_is_declined_naming_the_nearest(conversation, corpus, question, named):
    for a in (conversation.ask(question), conversation.assistant.ask(question)):  # the chat, and ask without the chat
        assert a.refused, (question, a.answer)
        assert a.citations == [], (question, [c.clause_id for c in a.citations])  # nothing is quoted as the answer
        assert a.refusal_reason == "unknown_clause"
        assert named in nfkc(a.answer)
        ids = [m for m in _ID.findall(a.answer) if not m.endswith(named)]
        nearest = [i for i in ids if corpus.exists(i)]
        assert nearest, a.answer  # at least one existing clause is named…
        assert all(corpus.exists(i) for i in ids), ids  # …and no other ID that does not exist


def test_the_nearest_clauses_of_a_missing_item_are_its_parent_and_siblings(conversation, corpus):
    a = conversation.ask("指針第4の5を引用して")
    assert a.refused and a.refusal_reason == "unknown_clause"
    assert "指針第4" in a.answer and "指針第4の1" in a.answer
    assert a.related == []  # named as IDs, never quoted
    a = conversation.ask("第4の2の九は？")
    assert a.refused and a.refusal_reason == "unknown_clause"
    assert "指針第4の2の一" in a.answer and "指針第4の2" in a.answer


def test_a_false_premise_is_not_answered_with_a_confident_quote(conversation):
    q = "指針には、中小企業は一切の対策が免除されるとありますが本当ですか？"
    for a in (conversation.ask(q), conversation.assistant.ask(q)):
        assert a.refused, a.answer
        assert a.citations == []
        assert a.refusal_reason in ("not_stated", "unsupported", "out_of_scope")


def test_subsidies_are_not_in_the_documents(conversation):
    a = conversation.ask("補助金は使えますか？")
    assert a.refused, a.answer
    assert a.citations == []


@pytest.mark.parametrize(
    "question, clause_id",
    [("第4の2の一には何と書いてある？", "指針第4の2の一"), ("指針第4の1の一を引用して", "指針第4の1の一")],
)
def test_existing_clauses_are_still_quoted(conversation, corpus, question, clause_id):
    a = conversation.ask(question)
    assert not a.refused, a.answer
    assert a.citations[0].clause_id == clause_id
    assert a.citations[0].quote == corpus.resolve(clause_id).text


def test_a_law_article_in_a_question_about_the_law_still_works(conversation):
    a = conversation.ask("法第二条第二十四項第二号に掲げる業務とは何ですか？")
    assert a.refusal_reason != "unknown_clause"
    assert not a.refused, a.answer


def test_a_named_clause_beside_a_missing_one_is_quoted_and_the_missing_one_named(conversation):
    a = conversation.ask("第4の2の一と第4の9を教えて")
    assert not a.refused and a.citations[0].clause_id == "指針第4の2の一"
    assert "指針第4の9" in a.answer and "指針第4の9" not in [c.clause_id for c in a.citations]


def test_the_decision_and_the_grammar_are_pure(corpus):
    from assistant.answer import SupportPolicy, SupportSignals, decide_support
    from assistant.asks import asserted_claim
    from assistant.clause_refs import clause_references

    p = SupportPolicy()
    assert decide_support(SupportSignals(missing=("指針第4の5",), vocabulary=1.0, dense=1.0), p).reason == "unknown_clause"
    assert decide_support(SupportSignals(explicit=True, missing=("指針第4の9",)), p).supported  # the one that exists is quoted
    assert decide_support(SupportSignals(injection=True, missing=("第1条",)), p).reason == "injection"
    assert decide_support(SupportSignals(claim_stated=False, vocabulary=1.0, dense=1.0), p).reason == "not_stated"
    assert corpus.nearest("指針第4の2の九")[:2] == ["指針第4の2", "指針第4の2の一"]
    assert corpus.nearest("第12条") == [c.id for c in corpus.docs["指針"].clauses if c.parent is None]
    # Not claims: what is written is asked (an interrogative), or something is asked to exist (って).
    for q in ("第4の2の一には何と書いてある？", "指針では認証にどんな意味があると書いてある？", "お金まわりの条件ってある？"):
        assert asserted_claim(q) is None, q
    assert asserted_claim("指針に「認証機関は相談に応じる」と書いてあった") == "認証機関は相談に応じる"
    # Not references: a law's article, a counter, the numbered lines of a pasted text.
    for q in ("法第二条第二十四項第二号とは", "第5世代の通信", "誓約書の案です。\n第1条 従業員は秘密を守る。\n第2条 返却する。"):
        assert clause_references(q, corpus) == [], q
