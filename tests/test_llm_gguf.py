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
    from assistant.config import LLMConfig
    from assistant.generate import LLMAnswerer
    from assistant.llm import make_chat_model
    from assistant.textnorm import is_verbatim

    answerer = LLMAnswerer(assistant, make_chat_model(LLMConfig(backend="llamacpp", gguf=GGUF, max_tokens=200)), timeout_s=180)
    rows = []
    for q in QUESTIONS:
        start = time.perf_counter()
        a = answerer.ask(q)
        rows.append((q, a.generator, a.fallback_reason, time.perf_counter() - start))
        assert a.generator in ("llm", "extractive")
        for c in a.citations:
            assert is_verbatim(c.quote, assistant.corpus.resolve(c.clause_id).text)
    passed = sum(1 for r in rows if r[1] == "llm")
    print(f"\n検証を通った LLM の回答: {passed}/{len(rows)}")
    for q, gen, why, secs in rows:
        print(f"  {secs:6.1f}s  {gen:10}  {q}  {why or ''}")
