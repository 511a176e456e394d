"""One consultation, used by the CLI, the web tab and the chat alike: the state, the next
question, answers, going back, the adviser's grid, progress on the plan, and the result.

A session holds no services of its own: they come in a ``TriageServices`` (built once in
runtime.py). Saving is the records' job; a session only says what to save.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..corpus import Corpus
from ..textnorm import strip_invisible
from .catalogue import MEASURE_MAP_FILE, Catalogue, load_measure_map
from .dates import normalise_due
from .flow import (
    Flow,
    Question,
    TriageError,
    TriageState,
    answer,
    back,
    next_question,
    progress,
)
from .model import PROGRESS_STATUSES, Progress, TriageResult
from .result import MAX_NOTE_CHARS, MAX_OWNER_CHARS, build_result, state_from_answers

Reader = Callable[[Question, str], object]


@dataclass
class TriageServices:
    flow: Flow
    catalogue: Catalogue
    corpus: Callable[[], Corpus]  # the live corpus (it changes when the operator adds a document)
    home: Path | None = None  # where the operator's measure→clause mapping lives
    reader: Reader | None = None  # a language model's reading of free text, when configured

    @classmethod
    def load(cls, corpus: Callable[[], Corpus], home: Path | None = None, reader: Reader | None = None) -> TriageServices:
        return cls(Flow.load(), Catalogue.load(), corpus, home, reader)

    def measure_map(self, corpus: Corpus) -> tuple[dict[str, list[str]], list[str]]:
        if self.home is None:
            return {}, []
        return load_measure_map(self.home / MEASURE_MAP_FILE, {m.id for m in self.catalogue.measures}, corpus.exists)


@dataclass
class TriageSession:
    services: TriageServices
    state: TriageState = field(default_factory=TriageState)
    code: str | None = None
    previous: TriageResult | None = None  # the earlier plan this consultation re-assesses

    # -- the conversation --------------------------------------------------------------
    @property
    def question(self) -> Question | None:
        return next_question(self.state, self.services.flow)

    @property
    def finished(self) -> bool:
        return self.question is None

    @property
    def started(self) -> bool:
        return bool(self.state.log) or self.state.inventory_done

    def progress(self) -> tuple[int, int | None]:
        return progress(self.state, self.services.flow)

    def answer(self, value) -> TriageSession:
        """A new session with the answer applied; TriageError (Japanese, names the field) when it cannot be read."""
        return replace(self, state=answer(self.state, self.services.flow, value, self.services.reader))

    def unknown(self) -> TriageSession:
        q = self.question
        if q is None:
            raise TriageError("診断はすでに完了しています。")
        return self.answer([] if q.kind == "items" else "わからない")

    def back(self) -> TriageSession:
        return replace(self, state=back(self.state, self.services.flow))

    def from_answers(self, answers: dict) -> TriageSession:
        """The adviser's grid or an answers file: the same flow, so the same result and record."""
        data = dict(answers)
        data.setdefault("progress", self.state.progress)
        if self.state.previous and "previous" not in data:
            data["previous"] = self.state.previous
        return replace(self, state=state_from_answers(data, self.services.flow))

    # -- progress on the plan --------------------------------------------------------------
    def set_progress(self, measure_id: str, status: str, owner: str = "", due: str = "", note: str = "", today: dt.date | None = None) -> TriageSession:
        if not self.finished:
            raise TriageError("計画は診断が終わってから記録できます。")
        if measure_id not in {m.id for m in self.result().measures}:
            raise TriageError(f"対策 {measure_id} はこの計画にありません。")
        if status not in PROGRESS_STATUSES:
            raise TriageError(f"状態は {'、'.join(PROGRESS_STATUSES)} のいずれかです。")
        owner, note = strip_invisible(owner).strip(), strip_invisible(note).strip()
        due = normalise_due(strip_invisible(due), today)  # 2026/2/28, 2月末, 来月末… stored as YYYY-MM-DD
        if len(owner) > MAX_OWNER_CHARS or len(note) > MAX_NOTE_CHARS:
            raise TriageError(f"担当者は {MAX_OWNER_CHARS} 文字、メモは {MAX_NOTE_CHARS} 文字までです。")
        state = TriageState.from_dict(self.state.to_dict())
        state.progress[measure_id] = Progress(status, owner, due, note, time.strftime("%Y-%m-%d %H:%M")).__dict__
        return replace(self, state=state)

    # -- the result ---------------------------------------------------------------------------
    def saved_result(self, stored: dict | None) -> TriageResult | None:
        """The result as it was saved; a record from before the typed result is rebuilt from its answers."""
        if stored:
            try:
                return TriageResult.from_dict(stored)
            except (KeyError, TypeError, ValueError):
                pass
        return self.result() if self.finished else None

    def result(self) -> TriageResult:
        if not self.finished:
            raise TriageError("診断はまだ終わっていません。")
        corpus = self.services.corpus()
        mapping, warnings = self.services.measure_map(corpus)
        return replace(build_result(self.state, corpus, self.services.flow, self.services.catalogue, mapping, self.previous, warnings), code=self.code)

    def reassess(self) -> TriageSession:
        """A new consultation that starts from this one's answers and progress, compared against it."""
        earlier = self.result()
        state = TriageState.from_dict(self.state.to_dict())
        state.previous = self.code
        return TriageSession(self.services, state, None, earlier)
