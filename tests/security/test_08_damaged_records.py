"""#8: a damaged records DB stopped the app from starting, although the chat does not need it."""

from conftest import serve_app
from helpers import ask, http, private_home


def test_the_app_starts_and_answers_with_a_damaged_records_file(home, assistant, tmp_path):
    import json

    own = private_home(home, tmp_path / "home")
    (own / "records.sqlite3").write_bytes(b"not a database at all" * 1000)
    for url in serve_app(own):
        status, _, body = http("GET", url + "healthz")
        health = json.loads(body)
        assert status == 200 and health["records"] == "unavailable"
        status, a = ask(url, "保険や準備金は必要？")
        assert status == 200 and a["citations"][0]["clause_id"] == "指針第3の3"
        status, _, body = http("POST", url + "api/v1/triage", {"answers": {"items": [{"name": "図面"}]}, "save": True})
        assert status == 503 and "壊れている" in json.loads(body)["error"]
        status, _, body = http("POST", url + "api/v1/triage", {"answers": {"items": [{"name": "図面"}]}})
        assert status == 200  # the diagnosis itself still works, without saving
    moved = [p.name for p in own.iterdir() if p.name.startswith("records.sqlite3.corrupt-")]
    assert moved, "the damaged file is kept aside for the operator"
