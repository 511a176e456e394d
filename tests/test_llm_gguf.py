"""Opt-in: a real small GGUF model through llama-cpp-python.

Skipped unless ASSISTANT_TEST_GGUF names a GGUF file and llama-cpp-python is installed.
Whatever the model writes, what is shown must be verified or be the extractive fallback.
"""

import os
import time
from pathlib import Path

import pytest

GGUF = os.environ.get("ASSISTANT_TEST_GGUF", "")
pytestmark = [
    pytest.mark.llm,
    pytest.mark.skipif(not GGUF or not Path(GGUF).is_file(), reason="ASSISTANT_TEST_GGUF に GGUF ファイルのパスを設定すると実行します"),
]
QUESTIONS = [
    "初めて取り組む中小企業に、認証機関は何に気をつけるべき？",
    "認証機関として認定されるには、お金の面で何が必要？",
    "保険や準備金は必要？",
    "国はパンフレットや説明会を用意してくれるの？",
    "取引先が中小企業の情報管理を確認するときは何を考慮する？",
    "経済産業省は中小企業のために何を周知する？",
]


def test_real_model_answers_are_verified_or_fall_back(assistant):
    pytest.importorskip("llama_cpp")
    from assistant.answer import Answer
    from assistant.config import LLMConfig
    from assistant.generate import LLMAnswerer
    from assistant.llm import make_chat_model
    from assistant.textnorm import is_verbatim

    answerer = LLMAnswerer(assistant, make_chat_model(LLMConfig(backend="llamacpp", gguf=GGUF, max_tokens=200)), timeout_s=180)
    rows = []
    for q in QUESTIONS:
        start = time.perf_counter()
        events = list(answerer.stream(q))
        # The stream is the tokens the model wrote, then exactly one final answer.
        kinds = [e.kind for e in events]
        assert kinds and kinds[-1] == "final" and set(kinds[:-1]) <= {"token"}, (q, kinds)
        a = events[-1].answer
        rows.append((q, a.generator, a.fallback_reason, time.perf_counter() - start))
        assert isinstance(a, Answer) and not a.refused and a.answer.strip() and a.citations, (q, a.answer)
        # Not refused, so the model was asked, and it must have written something.
        assert "".join(e.text for e in events[:-1]).strip(), (q, "the model wrote nothing", a.fallback_reason)
        if a.generator == "llm":
            assert a.fallback_reason is None, (q, a.fallback_reason)
        else:
            assert a.generator == "extractive", (q, a.generator)
            # a fallback says why, and the reason is the model's output failing checks, not the model failing to run
            assert a.fallback_reason and "呼び出しに失敗" not in a.fallback_reason and "接続できません" not in a.fallback_reason, (q, a.fallback_reason)
        for c in a.citations:
            assert is_verbatim(c.quote, assistant.corpus.resolve(c.clause_id).text), (q, c.clause_id, c.quote)
    passed = sum(1 for r in rows if r[1] == "llm")
    print(f"\n検証を通った LLM の回答: {passed}/{len(rows)}")
    for q, gen, why, secs in rows:
        print(f"  {secs:6.1f}s  {gen:10}  {q}  {why or ''}")
