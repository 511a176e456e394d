"""#7: records were plaintext JSON in a 0644 file in a 0755 home, with no delete and no retention,
and gradio's run history kept questions, firm names and codes in the browser's localStorage."""

import os
import stat
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from assistant.config import Config
from assistant.records import RecordError, Records
from conftest import serve_app
from helpers import CHROMIUM, BROWSER_ARGS, LoggedPage, private_home


def test_records_file_and_home_are_private(tmp_path):
    home = tmp_path / "home"
    Records(Config(home=home).records_url)
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(home / "records.sqlite3").st_mode) == 0o600


def test_records_are_encrypted_at_rest_with_the_operator_key(tmp_path):
    key = Fernet.generate_key().decode()
    path = tmp_path / "r.sqlite3"
    records = Records(path, key=key)
    code, _ = records.create_consultation({"firm": {"name": "極秘精工"}, "items": [{"name": "新型金型の図面"}]}, None, "v")
    records.add_feedback("極秘の質問", "答え", "good", "", [], "v")
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert "極秘精工".encode() not in raw and "新型金型".encode() not in raw and "極秘の質問".encode() not in raw
    assert records.load_consultation(code).state["firm"]["name"] == "極秘精工"
    with pytest.raises(RecordError, match="ASSISTANT_RECORDS_KEY"):
        Records(path).load_consultation(code)  # without the key: a clear message, not garbage


def test_delete_and_retention(tmp_path):
    records = Records(tmp_path / "r.sqlite3")
    code, secret = records.create_consultation({"firm": {}}, None, "v")
    old, _ = records.create_consultation({"firm": {}}, None, "v")
    import sqlalchemy as sa

    from assistant.records import consultations

    with records.engine.begin() as db:
        db.execute(consultations.update().where(consultations.c.code == old).values(updated_at=time.time() - 40 * 86400))
    assert records.purge_expired(30) == 1
    with pytest.raises(RecordError):
        records.load_consultation(old)
    records.delete_consultation(code, secret)
    assert records.list_consultations() == []


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian の chromium がありません")
def test_the_browser_keeps_no_history_of_questions(home, assistant, tmp_path):
    from playwright.sync_api import sync_playwright

    own = private_home(home, tmp_path / "home")
    for url in serve_app(own):
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True)
            lp = LoggedPage(b, url)
            lp.page.fill("#question textarea", "極秘精工の図面の守り方")
            lp.page.click("#send")
            lp.page.wait_for_function("() => document.querySelector('#chat').innerText.includes('製品の助言') || document.querySelector('#chat').innerText.includes('指針')", timeout=60000)
            lp.page.wait_for_timeout(1500)
            stored = lp.page.evaluate("() => JSON.stringify({...localStorage}) + JSON.stringify({...sessionStorage})")
            assert "極秘精工" not in stored
            status = lp.page.goto(url + "gradio_api/runs").status
            assert status in (403, 404)  # the run history page is off
            lp.close()
            b.close()
