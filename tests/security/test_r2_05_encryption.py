"""#19-5: with ASSISTANT_RECORDS_KEY set, the firm's name, items, places, owners and notes were
readable in the exports folder and gradio's cache (md and xlsx); the chat's saved conversation
was plaintext; the share code, audit codes and failed lookup input were plaintext in the DB."""

import json

from gradio_client import Client

from helpers import data_files_containing, finish_triage, http


def test_nothing_of_a_firm_is_written_in_plaintext_with_a_records_key(keyed_app):
    page = Client(keyed_app.url, verbose=False)
    r = finish_triage(page, "暗号確認精機", "秘伝の熱処理条件")
    for link in r["links"]:
        assert http("GET", keyed_app.url + link.lstrip("/"))[0] == 200
    out = page.predict("暗号確認精機の図面はどう守る？", [], api_name="/ask")
    chat_links = [t for t in out if isinstance(t, str) and "/download/" in t]
    assert chat_links, "the chat offers its conversation for download"
    link = chat_links[0].split('href="', 1)[1].split('"', 1)[0]
    status, _, body = http("GET", keyed_app.url + link.lstrip("/"))
    assert status == 200 and "暗号確認精機" in body.decode("utf-8")  # the download itself has it…
    page.predict("この回答について", api_name="/feedback_good")
    typed = "ZZ9ZZ9ZZ"  # a failed lookup: what was typed is not kept
    page.predict(typed, "", api_name="/triage_resume")
    # …but no file of the data folder does: not the DB, its WAL, the logs, gradio's cache.
    assert data_files_containing(keyed_app.home, "暗号確認精機", "秘伝の熱処理条件", "事務所の書庫", r["code"], typed) == []
    records = keyed_app.records()
    assert records.load_consultation(r["code"]).state["firm"]["name"] == "暗号確認精機"  # the code still opens it
    assert r["code"] in {c["code"] for c in records.list_consultations(1000)}  # the admin still sees the code
    assert any(a["code"] == r["code"] for a in records.audit_log(500, "create"))


def test_the_share_code_is_stored_as_a_keyed_hash(keyed_app):
    import sqlalchemy as sa

    from assistant.records import consultations

    records = keyed_app.records()
    code, _ = records.create_consultation({"firm": {"name": "x"}}, None, "v")
    with records.engine.connect() as db:
        stored = [row.code for row in db.execute(sa.select(consultations.c.code)).all()]
    assert code not in stored and all(s.startswith("h:") and len(s) == 66 for s in stored)
    status, _, body = http("POST", keyed_app.url + "api/v1/triage", {"answers": {"items": [{"name": "鍵の確認"}]}, "save": True},
                           {"X-Forwarded-For": "192.0.2.51"})
    assert status == 200 and json.loads(body)["code"] not in json.dumps(stored)
