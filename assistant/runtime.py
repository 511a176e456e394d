"""Wiring: config → corpus → embedder → index → answerer, conversation and triage, done once at the edge."""

from __future__ import annotations

from .advice import Advisor
from .answer import Answerer, Assistant, Glossary
from .config import Config
from .conversation import ChatServices, Conversation
from .corpus import Corpus, load_corpus
from .embed import make_embedder
from .index import BuildReport, Notify, _quiet, build_index, open_index, vectors_for, writer_lock
from .intent import IntentClassifier, load_examples
from .tokens import Tokenizer
from .triage.catalogue import Catalogue
from .triage.session import TriageServices


def open_assistant(cfg: Config, notify: Notify = _quiet, repair: bool | None = None, embedder=None, tokenizer=None) -> Assistant:
    """Load everything an extractive answer needs. Embedded chroma may repair a missing or damaged
    index on the way; with a Chroma server only the index job writes (``repair`` False)."""
    corpus = load_corpus(cfg.corpus_dirs)
    embedder = embedder or make_embedder(cfg.embedder)
    repair = (not cfg.chroma_url) if repair is None else repair
    index = open_index(cfg, corpus, embedder, tokenizer or Tokenizer(), notify, repair)
    return Assistant(cfg, corpus, index, Glossary.load())


def wrap_answerer(assistant: Assistant, notify: Notify = _quiet) -> Answerer:
    """The extractive Assistant, or an LLM answerer on top of it when one is configured."""
    cfg = assistant.cfg
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


def chat_services(core: Assistant, answerer: Answerer | None = None, triage: TriageServices | None = None, write_cache: bool = False) -> ChatServices:
    """The conversation's services over the extractive core and its answerer (the core itself, or an
    LLM on top of it): the intent examples and the catalogue are embedded with the core's embedder
    (from the vector cache that ``assistant index`` fills)."""
    a = core
    cfg, embedder = a.cfg, a.index.embedder
    examples = load_examples()
    catalogue = triage.catalogue if triage else Catalogue.load()
    classifier = IntentClassifier(examples, vectors_for(cfg.index_dir, embedder, [t for t, _ in examples], write_cache, as_query=True), embedder,
                                  cache_dir=cfg.index_dir, write_cache=write_cache)
    advisor = Advisor(catalogue, vectors_for(cfg.index_dir, embedder, Advisor.texts(catalogue), write_cache), embedder, a.index.tokenizer)
    triage = triage or TriageServices.load(lambda: a.corpus, cfg.home)
    return ChatServices(core, answerer or core, classifier, advisor, triage)


def open_conversation(cfg: Config, notify: Notify = _quiet) -> Conversation:
    core = open_assistant(cfg, notify)
    return Conversation(chat_services(core, wrap_answerer(core, notify)))


def rebuild_index(cfg: Config, notify: Notify = _quiet, corpus: Corpus | None = None) -> BuildReport:
    """Publish an index version for the documents on disk (after an add or remove), and fill the
    vector cache for the conversation's examples and the catalogue, so readers start fast."""
    embedder = make_embedder(cfg.embedder)
    report = build_index(cfg, corpus or load_corpus(cfg.corpus_dirs), embedder, Tokenizer(), notify)
    with writer_lock(cfg.index_dir):
        examples = load_examples()
        IntentClassifier(examples, vectors_for(cfg.index_dir, embedder, [t for t, _ in examples], True, notify, as_query=True), embedder,
                         cache_dir=cfg.index_dir, write_cache=True)  # its linear model, fitted once here
        vectors_for(cfg.index_dir, embedder, Advisor.texts(Catalogue.load()), True, notify)
    return report
