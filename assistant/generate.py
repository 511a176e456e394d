"""LLM answers on top of the extractive pipeline, verified before they are shown.

The extractive Assistant still decides refusals and retrieves the clauses; the model only
phrases an answer from those clauses. Whatever the model says is checked by verify.py;
anything that fails (or a timeout, or an unreachable backend) falls back to the
extractive answer, and the result says so.
"""

from __future__ import annotations

import concurrent.futures
import time
from dataclasses import replace
from typing import Iterator

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from .answer import Answer, Assistant, Citation, Event
from .guard import validate_question
from .prompts import render
from .retrieve import Retrieval, retrieve
from .textnorm import split_sentences
from .verify import verify

CONTEXT_CLAUSES = 4


class LLMAnswerer:
    """Answers with a chat model; always returns an Answer with generator and fallback_reason."""

    def __init__(self, assistant: Assistant, model: BaseChatModel, timeout_s: float = 60.0):
        self.assistant = assistant
        self.model = model
        self.timeout_s = timeout_s
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="llm")

    # -- helpers ---------------------------------------------------------------------
    def rewrite(self, question: str, history: list[dict]) -> str:
        """A standalone question for retrieval; the deterministic history blending stays as the fallback."""
        if not history:
            return question
        convo = "\n".join(f"{t['role']}: {t['content'][:400]}" for t in history[-4:])
        prompt = render("rewrite", conversation=convo, question=question)
        try:
            out = self._call([HumanMessage(prompt)]).strip()
        except Exception:
            return question
        return out if 0 < len(out) <= self.assistant.cfg.max_question_chars else question

    def _call(self, messages) -> str:
        future = self._pool.submit(self.model.invoke, messages)
        return str(future.result(timeout=self.timeout_s).content)

    def _context(self, extractive: Answer) -> list[str]:
        """The clauses the model may use: the top ones and the lead texts they hang from."""
        ids: list[str] = []
        for r in extractive.retrieved[:CONTEXT_CLAUSES]:
            clause = self.assistant.corpus.resolve(r["clause_id"])
            for cid in ([clause.parent] if clause.parent and self.assistant.corpus.resolve(clause.parent).kind == "item" else []) + [clause.id]:
                if cid not in ids:
                    ids.append(cid)
        return ids

    def _messages(self, question: str, ids: list[str]):
        blocks = "\n".join(f'<clause id="{cid}">{self.assistant.corpus.resolve(cid).text}</clause>' for cid in ids)
        return [SystemMessage(render("system")), HumanMessage(render("answer", clauses=blocks, question=question))]

    def _finish(self, extractive: Answer, raw: str, ids: list[str]) -> Answer:
        v = verify(raw, ids, self.assistant.corpus)
        if not v.ok:
            return _as_extractive(extractive, v.reason or "検証に失敗しました")
        if v.refused:
            return _as_extractive(extractive, "モデルが回答できないと判断しました")
        citations = []
        for cid in v.cited:
            clause = self.assistant.corpus.resolve(cid)
            quote = v.quotes.get(cid) or next(iter(split_sentences(clause.text)), clause.text)
            citations.append(Citation(cid, clause.doc, quote))
        note = f"\n\n（{len(v.dropped)} 文は出典がないため表示していません）" if v.dropped else ""
        return Answer(extractive.question, v.text + note, False, citations, extractive.retrieved, extractive.corpus_version,
                      generator="llm", fallback_reason=None, dropped=v.dropped)

    # -- public ----------------------------------------------------------------------
    streams = True

    def ask(self, question: str, history: list[dict] | None = None, retrieval: Retrieval | None = None) -> Answer:
        final = None
        for event in self.stream(question, history, retrieval):
            if event.kind == "final":
                final = event.answer
        return final

    def stream(self, question: str, history: list[dict] | None = None, retrieval: Retrieval | None = None) -> Iterator[Event]:
        """Tokens as the model writes them, then the verified (or fallback) final answer."""
        history = history or []
        started = time.perf_counter()
        q = validate_question(question, self.assistant.cfg.max_question_chars)
        extractive = self.assistant.ask(q, history, retrieval)
        if extractive.refused:
            # Refusals are the extractive pipeline's decision; a model never overrides them.
            yield Event("final", answer=_as_extractive(extractive))
            return
        standalone = self.rewrite(q, history)
        if standalone != q:
            r = retrieve(self.assistant.index, standalone, self.assistant.cfg.retrieval, [], self.assistant.glossary.expanded)
            extractive = replace(extractive, retrieved=self.assistant.retrieved_rows(r))
        ids = self._context(extractive)
        messages = self._messages(q, ids)
        chunks: list[str] = []
        deadline = started + self.timeout_s
        try:
            iterator = self.model.stream(messages)
            while True:
                future = self._pool.submit(next, iterator, None)
                chunk = future.result(timeout=max(0.1, deadline - time.perf_counter()))
                if chunk is None:
                    break
                text = str(chunk.content)
                chunks.append(text)
                yield Event("token", text)
        except concurrent.futures.TimeoutError:
            yield Event("final", answer=_as_extractive(extractive, f"言語モデルが {self.timeout_s:.0f} 秒以内に応答しませんでした"))
            return
        except Exception as exc:  # connection refused, bad model name, server errors…
            name = type(exc).__name__
            what = "に接続できません" if "Connect" in name or isinstance(exc, ConnectionError) else "の呼び出しに失敗しました"
            yield Event("final", answer=_as_extractive(extractive, f"言語モデル{what}（{name}: {str(exc)[:120]}）"))
            return
        yield Event("final", answer=self._finish(extractive, "".join(chunks), ids))


def _as_extractive(a: Answer, reason: str | None = None) -> Answer:
    """Mark the extractive answer as what is shown, and why the model's was not (None: no fallback)."""
    return replace(a, generator="extractive", fallback_reason=reason)


class FallbackAnswerer:
    """Stands in when the configured model cannot be used at all: every answer is extractive
    and says why, instead of the app failing to start."""

    def __init__(self, assistant: Assistant, reason: str):
        self.assistant = assistant
        self.reason = reason

    streams = False

    def ask(self, question: str, history: list[dict] | None = None, retrieval: Retrieval | None = None) -> Answer:
        a = self.assistant.ask(question, history, retrieval)
        return _as_extractive(a, None if a.refused else self.reason)

    def stream(self, question: str, history: list[dict] | None = None, retrieval: Retrieval | None = None) -> Iterator[Event]:
        yield Event("final", answer=self.ask(question, history, retrieval))


def read_triage_answer(model: BaseChatModel, question, text: str, timeout_s: float = 30.0):
    """The model's reading of a free-text triage answer, validated against the options.

    Returns None when the output is not valid JSON or names no allowed option; the caller
    then uses the deterministic reader. The model never decides must-protect status.
    """
    import json
    import re

    options = list(question.options) + ["わからない"]
    prompt = render("triage_reader", question=question.text, options="、".join(options), answer=text[:300])
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        raw = str(pool.submit(model.invoke, [HumanMessage(prompt)]).result(timeout=timeout_s).content)
    except Exception:
        return None
    finally:
        pool.shutdown(wait=False)
    m = re.search(r"\{.*\}", raw, re.DOTALL)
    try:
        value = json.loads(m.group(0))["value"] if m else None
    except (ValueError, KeyError, TypeError):
        return None
    if question.kind == "multi" and isinstance(value, list) and value and all(v in options for v in value):
        return value
    if question.kind == "choice" and isinstance(value, str) and value in options:
        return value
    return None
