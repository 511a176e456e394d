"""Wiring: config → corpus → embedder → index → Assistant, done once at the edge."""

from __future__ import annotations

from .answer import Assistant, Glossary
from .config import Config
from .corpus import load_corpus
from .embed import make_embedder
from .index import Notify, _quiet, open_index
from .tokens import Tokenizer


def open_assistant(cfg: Config, notify: Notify = _quiet) -> Assistant:
    """Load everything an answer needs; repairs a missing or damaged index on the way."""
    corpus = load_corpus(cfg.corpus_dirs)
    embedder = make_embedder(cfg.embedder)
    index = open_index(cfg, corpus, embedder, Tokenizer(), notify)
    return Assistant(cfg, corpus, index, Glossary.load())
