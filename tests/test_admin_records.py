"""The admin's saved consultations (#22): found by a part of the code or the firm, filtered by status, deleted in two steps."""

from dataclasses import dataclass, field

import pytest

from assistant.downloads import Downloads
from assistant.page import admin_delete, admin_records
from assistant.records import Records


@pytest.fixture()
def records(tmp_path):
    from cryptography.fernet import Fernet

    r = Records(tmp_path / "records.sqlite3", key=Fernet.generate_key().decode())  # names and codes are sealed
    r.codes = {}
    for firm, done in [("架空精機", True), ("架空食品", False), ("ほか工業", True)]:
        code, _ = r.create_consultation({"firm": {"name": firm}}, {"x": 1} if done else None, "v1")
        r.codes[firm] = code
    return r


def test_found_by_firm_or_code_and_by_status(records):
    assert {c["firm"] for c in records.list_consultations(text="架空")} == {"架空精機", "架空食品"}
    code = records.codes["ほか工業"]
    assert [c["firm"] for c in records.list_consultations(text=code[2:7].lower())] == ["ほか工業"]  # any part, any case
    assert {c["firm"] for c in records.list_consultations(finished=True)} == {"架空精機", "ほか工業"}
    assert [c["firm"] for c in records.list_consultations(text="架空", finished=False)] == ["架空食品"]
    assert records.list_consultations(text="存在しない会社") == []


@dataclass
class _Live:
    triage: object = None

    def current(self):
        return self


@dataclass
class _Ctx:
    """The parts of the app context the admin's handlers use, with the real records and downloads."""

    records: Records
    downloads: Downloads = field(default_factory=Downloads)
    live: _Live = field(default_factory=_Live)

    def require_records(self):
        return self.records

    def withdraw_record(self, code):
        self.downloads.withdraw(code=code)


def test_a_deletion_names_the_record_waits_for_confirmation_and_is_audited(records):
    ctx = _Ctx(records)
    code = records.codes["架空食品"]
    link = ctx.downloads.offer("admin-x", "見極め診断.pdf", lambda: b"%PDF", code)
    first = admin_delete(ctx, code.lower(), "", "127.0.0.1")
    assert first.confirm == code and "架空食品" in first.message and "元に戻せません" in first.message
    assert any(r[0] == code for r in admin_records(ctx).rows)  # nothing deleted yet
    done = admin_delete(ctx, code, first.confirm, "127.0.0.1")
    assert "削除しました" in done.message and done.confirm == ""
    assert not any(r[0] == code for r in done.rows) and len(done.rows) == 2
    assert ctx.downloads.get(link.rsplit("/", 1)[-1]) is None  # its download went with it
    assert any(a["event"] == "delete" and a["ok"] and a["detail"] == "admin" for a in records.audit_log(10))


def test_an_unknown_or_empty_code_is_refused_with_what_to_do(records):
    ctx = _Ctx(records)
    assert "入力してください" in admin_delete(ctx, "  ", "", "127.0.0.1").message
    missing = admin_delete(ctx, "ZZZZZZZZ", "", "127.0.0.1")
    assert "見つかりません" in missing.message and missing.confirm == "" and len(missing.rows) == 3


def test_the_admin_reads_the_audit_log_and_the_ratings_in_japanese(records):
    from assistant.page import audit_row, feedback_row

    records.log("admin_login", None, False, "127.0.0.1", "wrong password")
    records.log("lookup", records.codes["架空精機"], True, "127.0.0.1", "view")
    rows = [audit_row(a) for a in records.audit_log(10)]
    login = next(r for r in rows if r[1] == "管理者のログイン")
    assert login[3] == "×" and login[5] == "パスワードの誤り"
    assert any(r[1] == "相談の照会" and r[5] == "閲覧" for r in rows)
    assert not any(r[1] in ("admin_login", "lookup", "create") or r[5] in ("wrong password", "view") for r in rows)
    records.add_feedback("質問", "答え", "bad", "", [], "v1")
    assert feedback_row(records.list_feedback()[0])[3] == "役に立たなかった"


def _updated(records, code: str, day: str) -> None:
    """Backdate one record (its last update at noon, local time, on ``day``)."""
    import datetime as dt
    import time

    import sqlalchemy as sa

    from assistant.records import consultations

    at = time.mktime(dt.datetime.fromisoformat(day + " 12:00").timetuple())
    with records.engine.begin() as db:
        rows = db.execute(sa.select(consultations.c.code, consultations.c.code_sealed)).all()
        stored = next(c for c, sealed in rows if (records.sealer.open(sealed) if sealed else c) == code)
        db.execute(consultations.update().where(consultations.c.code == stored).values(updated_at=at))


def test_found_by_the_days_they_were_last_updated(records):
    from assistant.page import RecordFilter

    ctx = _Ctx(records)
    _updated(records, records.codes["架空精機"], "2026-11-02")
    _updated(records, records.codes["架空食品"], "2026-11-30")
    firms = lambda f: {r[2] for r in admin_records(ctx, f).rows}  # noqa: E731
    assert firms(RecordFilter(since="2026-11-01", until="2026/11/30")) == {"架空精機", "架空食品"}  # both ends included
    assert firms(RecordFilter(since="2026-11-03", until="2026-11-30")) == {"架空食品"}
    assert firms(RecordFilter(until="２０２６年１１月２日")) == {"架空精機"}  # full-width, with 年月日
    assert firms(RecordFilter(text="架空", since="2026-11-15", status="途中のもの")) == {"架空食品"}
    assert "2026-11-03〜2026-11-30 に更新された相談: 1 件" in admin_records(ctx, RecordFilter(since="2026-11-03", until="2026-11-30")).message
    bad = admin_records(ctx, RecordFilter(since="先月"))
    assert bad.rows == [] and "更新日（から）「先月」を日付として読めません" in bad.message and "2026-12-01" in bad.message
    assert "日付を入れ替えて" in admin_records(ctx, RecordFilter(since="2026-12-01", until="2026-11-01")).message
    assert "読めません" in admin_records(ctx, RecordFilter(until="2026-02-30")).message  # no such day
