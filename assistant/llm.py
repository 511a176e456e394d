"""Chat models behind one LangChain interface: a local GGUF (llama-cpp-python), any
OpenAI-compatible server, or Ollama. All optional; nothing here is needed by default."""

from __future__ import annotations

import threading
from typing import Any, Iterator

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from .config import LLMConfig


class LLMUnavailable(RuntimeError):
    """The configured backend cannot be used; the message is Japanese and says what to do."""


_ROLES = {"human": "user", "ai": "assistant", "system": "system"}


class LlamaCppChat(BaseChatModel):
    """A local GGUF model through llama-cpp-python (an optional extra, compiled from source)."""

    model_path: str
    max_tokens: int = 512
    n_ctx: int = 4096
    _llm: Any = None
    _lock: Any = None

    @property
    def _llm_type(self) -> str:
        return "llamacpp-local"

    def _load(self):
        if self._llm is None:
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise LLMUnavailable("llama-cpp-python が入っていません（pip install 'tics-assistant[llamacpp]'、ビルドに数分かかります）。") from exc
            try:
                self._llm = Llama(model_path=self.model_path, n_ctx=self.n_ctx, n_threads=2, verbose=False)
            except (ValueError, OSError) as exc:
                raise LLMUnavailable(f"GGUF ファイル {self.model_path} を読み込めません: {exc}") from exc
            self._lock = threading.Lock()
        return self._llm

    def _messages(self, messages: list[BaseMessage]) -> list[dict]:
        return [{"role": _ROLES.get(m.type, "user"), "content": m.content} for m in messages]

    def _generate(self, messages, stop=None, run_manager: CallbackManagerForLLMRun | None = None, **kwargs) -> ChatResult:
        llm = self._load()
        with self._lock:
            out = llm.create_chat_completion(messages=self._messages(messages), max_tokens=self.max_tokens, temperature=0.0, stop=stop)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=out["choices"][0]["message"]["content"] or ""))])

    def _stream(self, messages, stop=None, run_manager: CallbackManagerForLLMRun | None = None, **kwargs) -> Iterator[ChatGenerationChunk]:
        llm = self._load()
        with self._lock:
            for part in llm.create_chat_completion(messages=self._messages(messages), max_tokens=self.max_tokens, temperature=0.0, stop=stop, stream=True):
                text = part["choices"][0]["delta"].get("content") or ""
                if text:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                    if run_manager:
                        run_manager.on_llm_new_token(text, chunk=chunk)
                    yield chunk


def make_chat_model(cfg: LLMConfig) -> BaseChatModel:
    """The configured chat model; LLMUnavailable when its package or settings are missing."""
    if cfg.backend == "llamacpp":
        from pathlib import Path

        if not Path(cfg.gguf).expanduser().is_file():
            raise LLMUnavailable(f"GGUF ファイルが見つかりません: {cfg.gguf}")
        return LlamaCppChat(model_path=str(Path(cfg.gguf).expanduser()), max_tokens=cfg.max_tokens)
    if cfg.backend == "openai":
        try:
            from langchain_openai import ChatOpenAI
        except ImportError as exc:
            raise LLMUnavailable("langchain-openai が入っていません（make setup）。") from exc
        import os

        return ChatOpenAI(
            model=cfg.model, base_url=cfg.base_url or None, api_key=os.environ.get("OPENAI_API_KEY", "not-needed"),
            timeout=cfg.timeout_s, max_retries=0, temperature=0, max_tokens=cfg.max_tokens,
        )
    if cfg.backend == "ollama":
        try:
            from langchain_ollama import ChatOllama
        except ImportError as exc:
            raise LLMUnavailable("langchain-ollama が入っていません（make setup）。") from exc
        return ChatOllama(model=cfg.model, base_url=cfg.base_url or "http://127.0.0.1:11434", temperature=0,
                          num_predict=cfg.max_tokens, client_kwargs={"timeout": cfg.timeout_s})
    raise LLMUnavailable("言語モデルは設定されていません（ASSISTANT_LLM=none）。")
