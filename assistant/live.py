"""The services a running app answers with, switched atomically when a new index version is published.

A request takes ``live.current()`` once and uses that bundle to the end, so it never sees half
of an index. A background thread reads ``CURRENT`` every few seconds (the writer — ``assistant
index``, a CLI add or remove, the admin upload — replaces it after building a new version beside
the live one) and, when it changed, opens the new version and swaps it in. The old bundle stays
usable for the requests that hold it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace

from .answer import Assistant, Glossary
from .config import Config
from .conversation import ChatServices, Conversation
from .corpus import Corpus, load_corpus
from .embed import make_embedder
from .index import IndexUnavailable, Notify, _quiet, current_id, make_store, open_index
from .runtime import chat_services, wrap_answerer
from .tokens import Tokenizer
from .triage.session import TriageServices

POLL_S = 2.0


@dataclass(frozen=True)
class Bundle:
    """Everything one index version answers with."""

    version: str
    corpus: Corpus
    assistant: Assistant
    conversation: Conversation
    triage: TriageServices
    loaded_at: float


class LiveServices:
    def __init__(self, cfg: Config, notify: Notify = _quiet, poll_s: float = POLL_S):
        self.cfg = cfg
        self.notify = notify
        self.poll_s = poll_s
        self.embedder = make_embedder(cfg.embedder)
        self.tokenizer = Tokenizer()
        self._bundle: Bundle | None = None
        self._chat: ChatServices | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None
        self.swaps = 0

    # -- loading ------------------------------------------------------------------------------
    def load(self, repair: bool | None = None) -> Bundle:
        """Open the live version (building it first where this process may write, see runtime)."""
        corpus = load_corpus(self.cfg.corpus_dirs)
        repair = (not self.cfg.chroma_url) if repair is None else repair
        index = open_index(self.cfg, corpus, self.embedder, self.tokenizer, self.notify, repair)
        assistant = Assistant(self.cfg, corpus, index, Glossary.load())
        answerer = wrap_answerer(assistant, self.notify)
        if self._chat is None:
            # The examples and the catalogue do not change with the documents: embed them once.
            triage = TriageServices.load(self.corpus, self.cfg.home, self._reader(answerer))
            self._chat = chat_services(assistant, answerer, triage)
        chat = replace(self._chat, core=assistant, answerer=answerer)
        bundle = Bundle(index.version, corpus, assistant, Conversation(chat), chat.triage, time.time())
        with self._lock:
            old, self._bundle = self._bundle, bundle
        if old is not None and old.version != bundle.version:
            self.swaps += 1
            self.notify(f"索引の版 {bundle.version} に切り替えました")
            threading.Timer(60.0, self._release, args=(old.version,)).start()  # after requests on it have finished
        self.error = None
        return bundle

    def _release(self, version: str) -> None:
        if self._bundle is None or self._bundle.version != version:
            make_store(self.cfg).release(version)

    @staticmethod
    def _reader(answerer):
        model = getattr(answerer, "model", None)
        if model is None:
            return None
        from .generate import read_triage_answer

        timeout = answerer.timeout_s
        return lambda q, text: read_triage_answer(model, q, text, timeout)

    # -- reading ---------------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        return self._bundle is not None

    def current(self) -> Bundle:
        b = self._bundle
        if b is None:
            raise IndexUnavailable(self.error or "索引を読み込んでいます。しばらくしてからもう一度お試しください。")
        return b

    def corpus(self) -> Corpus:
        return self.current().corpus

    # -- watching for new versions -------------------------------------------------------------------
    def check(self) -> bool:
        """Switch to the published version if it is not the one in use; True when it switched."""
        published = current_id(self.cfg.index_dir)
        if published is None or (self._bundle is not None and published == self._bundle.version):
            return False
        try:
            self.load(repair=False)
        except Exception as exc:  # the documents on disk may be ahead of the index (a writer is busy): try again
            self.error = f"新しい索引の版を開けません（{type(exc).__name__}）。次の確認で再試行します。"
            return False
        return True

    def start(self) -> None:
        """Load (in the background, so /healthz can say "not ready" meanwhile) and keep watching."""

        def run() -> None:
            while not self._stop.is_set() and self._bundle is None:
                try:
                    self.load()
                except IndexUnavailable as exc:
                    self.error = str(exc)
                    self._stop.wait(self.poll_s)
                except Exception as exc:  # a damaged file, a server not up yet: report and retry
                    self.error = f"索引を開けません（{type(exc).__name__}: {str(exc)[:160]}）"
                    self._stop.wait(self.poll_s)
            while not self._stop.wait(self.poll_s):
                self.check()

        self._thread = threading.Thread(target=run, name="index-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
