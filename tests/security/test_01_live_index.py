"""#1: removing (or adding) a document from the CLI while the app runs.

Before: chroma returned None metadata for the removed vectors and every chat answer raised a
TypeError until a restart; an add was not seen until a restart. Now the CLI publishes a new
index version beside the live one and the app switches to it by itself."""

import time

from conftest import serve_app
from helpers import FIXTURE, ask, cli, private_home


def wait_for(predicate, timeout_s=20.0):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return False


def test_cli_remove_and_add_while_the_app_answers(home, assistant, tmp_path):
    own = private_home(home, tmp_path / "home")
    assert cli(own, "corpus", "add", str(FIXTURE), "--doc", "基準", "--version", "fx1").returncode == 0
    for url in serve_app(own):
        status, a = ask(url, "基準Ⅲの第二には何と書いてある？")
        assert status == 200 and a["citations"][0]["clause_id"] == "基準Ⅲの第二"
        p = cli(own, "corpus", "remove", "基準")
        assert p.returncode == 0, p.stderr.decode()
        statuses = []

        def switched():
            s, a = ask(url, "基準Ⅲの第二には何と書いてある？")
            statuses.append(s)
            return s == 200 and a["refused"] and "読み込まれていない" in a["answer"]

        assert wait_for(switched), "the app never noticed the removal"
        s, a = ask(url, "保険や準備金は必要？")
        assert s == 200 and a["citations"][0]["clause_id"] == "指針第3の3"  # other answers kept working
        assert set(statuses) == {200}
        assert cli(own, "corpus", "add", str(FIXTURE), "--doc", "基準", "--version", "fx2").returncode == 0

        def added():
            s, a = ask(url, "基準Ⅲの第二には何と書いてある？")
            return s == 200 and not a["refused"] and a["citations"][0]["clause_id"] == "基準Ⅲの第二"

        assert wait_for(added, 10.0), "an add from the CLI was not answered from within 10 s"
