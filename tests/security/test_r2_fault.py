"""#19, the fault test: deletions, purges and downloads while a load test runs, with forged
forwarded headers from a client that is no trusted proxy. No answer may fail, and afterwards no
file of the data folder holds a deleted record's text."""

import json
import random
import threading
import time
import urllib.request

import sqlalchemy as sa
from cryptography.fernet import Fernet
from gradio_client import Client

from assistant.records import Records, consultations
from conftest import serve_app
from helpers import data_files_containing, finish_triage, http, private_home, texts_of

QUESTIONS = ["保険や準備金は必要？", "何から始めればいいですか？", "第4の2の一には何と書いてある？", "預かった図面はどう管理すればいい？",
             "認証機関は何をしてくれるの？", "退職者が情報を持ち出さないようにするには？"]


def test_deletions_purges_and_downloads_under_load_leave_nothing_behind(home, assistant, tmp_path):
    key = Fernet.generate_key().decode()
    own = private_home(home, tmp_path / "home")
    for url in serve_app(own, ASSISTANT_RECORDS_KEY=key, ASSISTANT_ASKS_PER_MINUTE="100000", ASSISTANT_ADMIN_PASSWORD="fault admin"):
        failures, answered, stop = [], [], threading.Event()

        def rest_user(n: int) -> None:
            rng = random.Random(n)
            while not stop.is_set():
                forged = f"203.0.113.{rng.randrange(1, 255)}, 198.51.100.{rng.randrange(1, 255)}"
                status, _, body = http("POST", url + "api/v1/ask", {"question": rng.choice(QUESTIONS)}, {"X-Forwarded-For": forged})
                ok = status == 200 and "answer" in json.loads(body)
                (answered if ok else failures).append(status)

        def page_user(n: int) -> None:
            client = Client(url, verbose=False, headers={"X-Forwarded-For": f"192.0.2.{n}"})
            while not stop.is_set():
                messages = client.predict(random.choice(QUESTIONS), [], api_name="/ask")[0]
                text = json.dumps(messages[-1], ensure_ascii=False)
                (failures if "⚠️" in text else answered).append(text[:120])

        users = [threading.Thread(target=rest_user, args=(n,)) for n in range(4)] + [threading.Thread(target=page_user, args=(n,)) for n in range(2)]
        for t in users:
            t.start()
        try:
            firms = [f"障害試験{n}号精工" for n in range(6)]
            made = [(Client(url, verbose=False), firm) for firm in firms]
            done = [(page, firm, finish_triage(page, firm, f"{firm}の金型図面")) for page, firm in made]
            for _, _, r in done:
                for link in r["links"][:2]:
                    assert http("GET", url + link.lstrip("/"))[0] == 200
            deleted = []
            for page, firm, r in done[:3]:  # the firm deletes its own record on the page
                assert any("削除しました" in t for t in texts_of(page.predict(True, api_name="/triage_delete")))
                deleted.append((firm, r))
            records = Records(own / "records.sqlite3", key=key)
            firm, r = done[3][1], done[3][2]
            records.delete_consultation(r["code"], admin=True)  # the operator deletes one (CLI, another replica)
            deleted.append((firm, r))
            firm, r = done[4][1], done[4][2]
            with records.engine.begin() as db:  # one falls out of the retention period
                db.execute(consultations.update().where(consultations.c.code == records.stored_key(r["code"])).values(updated_at=time.time() - 40 * 86400))
            assert records.purge_expired(30) == 1
            deleted.append((firm, r))
            time.sleep(2)
        finally:
            stop.set()
            for t in users:
                t.join(timeout=120)
        assert failures == [] and len(answered) >= 20, (failures[:5], len(answered))
        for firm, r in deleted:  # the record's files and a template (all templates: test_r2_03), within the download limit
            gone = r["record_links"] + [link for link in r["links"] if link not in r["record_links"]][:1]
            assert len(gone) == 4 and all(http("GET", url + link.lstrip("/"))[0] == 404 for link in gone)
        kept_firm, kept = done[5][1], done[5][2]
        assert http("GET", url + kept["links"][0].lstrip("/"))[0] == 200  # a record not deleted is still served
        leftovers = data_files_containing(own, *[f for f, _ in deleted], *[r["code"] for _, r in deleted], kept_firm)
        assert leftovers == [], leftovers
