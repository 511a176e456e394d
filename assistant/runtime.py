"""Wiring: config → corpus → embedder → index → Assistant, done once at the edge."""

from __future__ import annotations

from .answer import Assistant, Glossary
from .config import Config
from .corpus import load_corpus
from .embed import make_embedder
from .index import BuildReport, Notify, _quiet, build_index, open_index
from .tokens import Tokenizer


def open_assistant(cfg: Config, notify: Notify = _quiet) -> Assistant:
    """Load everything an answer needs; repairs a missing or damaged index on the way."""
    corpus = load_corpus(cfg.corpus_dirs)
    embedder = make_embedder(cfg.embedder)
    index = open_index(cfg, corpus, embedder, Tokenizer(), notify)
    return Assistant(cfg, corpus, index, Glossary.load())


def rebuild_index(cfg: Config, notify: Notify = _quiet) -> BuildReport:
    """Bring the index up to date with the documents on disk (after an add or remove)."""
    return build_index(cfg, load_corpus(cfg.corpus_dirs), make_embedder(cfg.embedder), Tokenizer(), notify)


def open_answerer(cfg: Config, notify: Notify = _quiet):
    """The extractive Assistant, or an LLM answerer on top of it when one is configured."""
    assistant = open_assistant(cfg, notify)
    if not cfg.llm.enabled:
        return assistant
    from .generate import FallbackAnswerer, LLMAnswerer
    from .llm import LLMUnavailable, make_chat_model

    try:
        model = make_chat_model(cfg.llm)
    except LLMUnavailable as exc:
        notify(f"言語モデルを使えません: {exc} 抽出型の回答で続けます。")
        return FallbackAnswerer(assistant, f"言語モデルを使えません: {exc}")
    return LLMAnswerer(assistant, model, cfg.llm.timeout_s)
