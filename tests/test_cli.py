"""The CLI as a user runs it: real processes, real index, JSON on stdout, errors without tracebacks."""

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT


def run(args, home, stdin=None):
    env = dict(os.environ, ASSISTANT_HOME=str(home))
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args], cwd=ROOT, env=env, input=stdin, capture_output=True, timeout=300
    )


@pytest.fixture(scope="module")
def built(home, assistant):
    return home  # the session fixture has built the index there


def test_ask_json(built):
    p = run(["ask", "--json", "必要最低限の措置とは何ですか？"], built)
    assert p.returncode == 0, p.stderr.decode()
    out = json.loads(p.stdout)
    assert list(out)[:6] == ["question", "answer", "refused", "citations", "retrieved", "corpus_version"]  # the contract of #2…
    assert list(out)[6:] == ["intent", "advice", "offer", "related"]  # …grown without breaking it
    assert out["citations"][0]["clause_id"] == "指針第4の2の一" and out["refused"] is False


def test_ask_readable(built):
    p = run(["ask", "保険や準備金は必要？"], built)
    assert p.returncode == 0
    text = p.stdout.decode()
    assert "指針第3の3" in text and "出典" in text


def test_index_is_incremental(built):
    p = run(["index"], built)
    assert p.returncode == 0
    assert "埋め込み 0 件" in p.stdout.decode()


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (["ask", ""], None, "質問が空です"),
        (["ask", "あ" * 2000], None, "長すぎます"),
        (["ask", "-"], b"\x00\xff\xfe\x01\x02binary\x00\x9f", "UTF-8"),
        (["ask", "--json", ""], None, "質問が空です"),
    ],
)
def test_bad_input_is_a_clear_error(built, args, stdin, message):
    p = run(args, built, stdin)
    err = p.stderr.decode()
    assert p.returncode == 2
    assert message in err and "Traceback" not in err


def test_corpus_show_and_list(built):
    p = run(["corpus", "show", "指針第4の2"], built)
    assert p.returncode == 0
    lines = p.stdout.decode().splitlines()
    assert lines[0].startswith("指針第4の2 ") and lines[1].strip().startswith("指針第4の2の一")
    p = run(["corpus", "list"], built)
    assert "指針\t公式" in p.stdout.decode()
    p = run(["corpus", "show", "指針第9"], built)
    assert p.returncode == 2 and "見つかりません" in p.stderr.decode()


def test_feedback_cases_writes_the_bad_answers_as_drafts_from_an_encrypted_store(tmp_path):
    from cryptography.fernet import Fernet

    from assistant.records import Records
    from helpers import cli

    key = Fernet.generate_key().decode()
    records = Records(tmp_path / "records.sqlite3", key=key)
    records.add_feedback("認証の費用はいくら？", "…", "bad", "書いていないはず", ["指針第3の2"], "v1")
    records.add_feedback("責任者は？", "…", "good", "", ["指針第4の2の一"], "v1")
    out = tmp_path / "drafts.jsonl"
    done = cli(tmp_path, "feedback-cases", "--out", str(out), env={"ASSISTANT_RECORDS_KEY": key})
    assert done.returncode == 0, done.stderr.decode()
    assert "下書き 1 件" in done.stderr.decode()
    drafts = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [d["question"] for d in drafts] == ["認証の費用はいくら？"] and drafts[0]["review"]["comment"] == "書いていないはず"
    # Without the key the store cannot be read: a clear message, no file
    denied = cli(tmp_path, "feedback-cases", "--out", str(tmp_path / "x.jsonl"))
    assert denied.returncode != 0 and not (tmp_path / "x.jsonl").exists()
    assert "ASSISTANT_RECORDS_KEY" in denied.stderr.decode() and "Traceback" not in denied.stderr.decode()
