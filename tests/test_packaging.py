"""``pip install .`` into a fresh virtual environment, not editable, runs the app: the shipped corpus,
prompts and schemas are package data."""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from conftest import ROOT

# What a build must not see or copy: version control, environments, caches, data and earlier build outputs.
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache",
                                    ".assistant-data", ".cluster", "artifacts")


def source_snapshot() -> tuple[list[str], dict[str, int]]:
    """The source tree's top-level names, and the files of any build metadata there with their modification times."""
    metadata = {str(f.relative_to(ROOT)): f.stat().st_mtime_ns for d in ROOT.glob("*.egg-info") for f in d.iterdir()}
    return sorted(p.name for p in ROOT.iterdir()), metadata


def test_a_wheel_installed_in_a_fresh_venv_answers_and_serves(tmp_path):
    # setuptools writes build/ and *.egg-info beside pyproject.toml, so the wheel is built from a copy of the source.
    before = source_snapshot()
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=NOT_SOURCE, symlinks=True)
    dist = tmp_path / "dist"
    p = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(dist), str(src)],
                       capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert source_snapshot() == before  # the build wrote nothing into the repository
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True).stdout.strip())
    # The dependencies come from the project's environment, without its editable copy of the project itself.
    deps = tmp_path / "deps"
    deps.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if "tics_assistant" in entry.name or entry.name.startswith("__editable__"):
            continue
        (deps / entry.name).symlink_to(entry)
    (site / "zz_deps.pth").write_text(str(deps) + "\n", encoding="utf-8")
    wheel = next(dist.glob("tics_assistant-*.whl"))
    p = subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    env = dict(os.environ, ASSISTANT_HOME=str(tmp_path / "home"), HF_HUB_OFFLINE="1", PYTHONPATH="")
    where = subprocess.run([str(py), "-c", "import assistant, assistant.config as c; print(assistant.__file__); print(c.SHIPPED_CORPUS)"],
                           capture_output=True, text=True, cwd=tmp_path, env=env)
    installed, corpus = where.stdout.split()
    assert installed.startswith(str(site)) and corpus.startswith(str(site)), where.stdout  # not the source tree
    assistant_cmd = venv / "bin" / "assistant"
    p = subprocess.run([str(assistant_cmd), "ask", "--json", "取引先から預かった図面はどう管理すればいい？"], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    assert '"intent": "action"' in p.stdout and '"製品の助言"' in p.stdout
    p = subprocess.run([str(assistant_cmd), "triage", "--answers", str(ROOT / "tests" / "fixtures" / "answers_minimal.json"), "--json"],
                       capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert p.returncode == 0 and '"must_protect"' in p.stdout, p.stderr[-2000:]
