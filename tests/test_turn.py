"""A chat turn retrieves once: the route is decided on a retrieval and the answer is built from it
(the documents answer, the action answer, the triage request, a refusal), on the real index."""

from __future__ import annotations

import pytest

from assistant.conversation import ChatState, Conversation


@pytest.fixture(scope="module")
def counted(assistant):
    from assistant.runtime import chat_services

    conversation = Conversation(chat_services(assistant))
    calls: list[str] = []
    real = conversation.assistant.retrieve

    def retrieve(question, history=None):
        calls.append(question)
        return real(question, history)

    conversation.assistant.retrieve = retrieve  # on this instance only (the fixture's own conversation)
    yield conversation, calls
    del conversation.assistant.retrieve


@pytest.mark.parametrize("question, intent", [
    ("指針第4の2の一には何と書いてある？", "documents"),
    ("うちは町工場です。まず何から始めればいいですか？", "action"),
    ("見極め診断をしたい", "triage"),
    ("今日の天気は？", "out_of_scope"),
])
def test_each_kind_of_turn_retrieves_once(counted, question, intent):
    conversation, calls = counted
    calls.clear()
    answer = conversation.ask(question)
    assert answer.intent == intent, answer.intent
    assert calls == [question]


def test_a_chat_reply_with_history_retrieves_once(counted):
    conversation, calls = counted
    first = conversation.ask("秘密として管理する情報の範囲は？")
    history = [{"role": "user", "content": first.question}, {"role": "assistant", "content": first.answer}]
    calls.clear()
    turn = conversation.reply("もう少し詳しく教えて", history, ChatState(previous_intent=first.intent))
    assert turn.answer is not None and calls == ["もう少し詳しく教えて"]
