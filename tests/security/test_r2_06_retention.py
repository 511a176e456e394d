"""#19-6: purging removed consultations but kept feedback (the full question and comment) forever,
and after a delete the SQLite WAL still held the deleted record's JSON."""

import time

import sqlalchemy as sa

from assistant.records import Records, consultations, feedback


def files_hold(path, text: str) -> list[str]:
    return [p.name for p in path.parent.glob(path.name + "*") if text.encode() in p.read_bytes()]


def test_a_deleted_record_is_in_neither_the_database_nor_its_wal(tmp_path):
    path = tmp_path / "r.sqlite3"
    records = Records(path)
    reader = Records(path)  # another connection, as a second thread or replica holds one
    code, secret = records.create_consultation({"firm": {"name": "消去確認工業"}, "items": [{"name": "極秘配合表"}]}, None, "v")
    for n in range(5):  # every save leaves an older copy of the JSON behind
        records.save_consultation(code, {"firm": {"name": "消去確認工業"}, "items": [{"name": "極秘配合表"}], "n": n}, None, "v", secret)
        reader.load_consultation(code)
    records.add_feedback("消去確認工業の質問", "答え", "bad", "消去確認のコメント", [], "v", code=code)
    assert files_hold(path, "消去確認工業")
    records.delete_consultation(code, secret)
    assert files_hold(path, "消去確認工業") == [] and files_hold(path, "極秘配合表") == [] and files_hold(path, "消去確認のコメント") == []
    assert records.list_feedback() == []  # the conversation's feedback went with its record


def test_the_purge_removes_old_feedback_too_and_leaves_no_trace(tmp_path):
    path = tmp_path / "r.sqlite3"
    records = Records(path)
    records.add_feedback("古い質問です", "答え", "good", "古いコメント", [], "v")
    records.add_feedback("新しい質問です", "答え", "good", "", [], "v")
    old, _ = records.create_consultation({"firm": {"name": "期限切れ商会"}}, None, "v")
    with records.engine.begin() as db:
        db.execute(feedback.update().where(feedback.c.question == "古い質問です").values(created_at=time.time() - 40 * 86400))
        db.execute(consultations.update().values(updated_at=time.time() - 40 * 86400))
    assert records.purge_expired(30) == 1
    assert [f["question"] for f in records.list_feedback()] == ["新しい質問です"]
    assert files_hold(path, "古い質問です") == [] and files_hold(path, "期限切れ商会") == []
    with records.engine.connect() as db:
        assert db.execute(sa.select(sa.func.count()).select_from(consultations)).scalar() == 0
