"""Records: consultations, feedback, the audit log and admin sessions, through SQLAlchemy.

SQLite under ASSISTANT_HOME is the default; ASSISTANT_DATABASE_URL=postgresql+psycopg://…
serves several app replicas. The schema is versioned with Alembic (assistant/migrations):
``assistant db upgrade`` applies it; SQLite is brought up to date on open, and every process
refuses a schema newer than it knows.

A consultation is private: its share code opens a read-only view; changing or deleting it
needs the edit secret given when it was created (or the admin). With ASSISTANT_RECORDS_KEY the
texts are encrypted at rest (Fernet), and share codes are stored only as keyed hashes (with an
encrypted copy for the admin's list and the audit log). A SQLite file that cannot be read is
moved aside and the records report themselves unavailable, so the rest of the app keeps working.

Deleted means gone: SQLite runs with ``secure_delete`` (freed pages are zeroed) and every
deletion is followed by a WAL checkpoint that truncates the log, so no deleted JSON lingers in
either file; a purge also vacuums. Feedback follows the retention period, and feedback given in
a consultation's conversation is deleted with it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from .textnorm import nfkc, strip_invisible

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O/1/I: codes are read aloud and typed
CODE_CHARS = 8
SECRET_GROUPS = 4  # the edit secret: 4 groups of 4 (80 bits)
SEALED = "fernet:"
HASHED = "h:"  # a stored code that is a keyed hash of the share code
FEEDBACK_CHARS = 1000  # a feedback comment (the page's box allows the same)
NEEDS_KEY = "記録は暗号化されています。ASSISTANT_RECORDS_KEY に鍵を設定して起動してください。"

metadata = sa.MetaData()
consultations = sa.Table(
    "consultations", metadata,
    sa.Column("code", sa.Text, primary_key=True), sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False), sa.Column("state", sa.Text, nullable=False), sa.Column("result", sa.Text),
    sa.Column("corpus_version", sa.Text, nullable=False), sa.Column("edit_hash", sa.Text),
    sa.Column("code_sealed", sa.Text),  # with a records key: the code, encrypted (``code`` holds its keyed hash)
)
feedback = sa.Table(
    "feedback", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True), sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("question", sa.Text, nullable=False), sa.Column("answer", sa.Text, nullable=False), sa.Column("rating", sa.Text, nullable=False),
    sa.Column("comment", sa.Text, nullable=False), sa.Column("citations", sa.Text, nullable=False), sa.Column("corpus_version", sa.Text, nullable=False),
    sa.Column("code", sa.Text),  # the consultation's stored key, when the conversation had one
)
audit = sa.Table(
    "audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True), sa.Column("at", sa.Float, nullable=False),
    sa.Column("event", sa.Text, nullable=False), sa.Column("code", sa.Text), sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("actor", sa.Text, nullable=False), sa.Column("detail", sa.Text, nullable=False),
)
admin_sessions = sa.Table(
    "admin_sessions", metadata,
    sa.Column("token_hash", sa.Text, primary_key=True), sa.Column("created_at", sa.Float, nullable=False), sa.Column("expires_at", sa.Float, nullable=False),
)
login_failures = sa.Table(
    "login_failures", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True), sa.Column("actor", sa.Text, nullable=False), sa.Column("at", sa.Float, nullable=False),
)


class RecordError(ValueError):
    """A record that cannot be found, changed or saved; the message is Japanese."""


class RecordsUnavailable(RecordError):
    """The records cannot be used at all (damaged file, database down); the app carries on without them."""


class SchemaError(RecordError):
    """The database's schema is not the one this version expects; the message says what to do."""


@dataclass(frozen=True)
class Saved:
    code: str
    created_at: float
    updated_at: float
    state: dict
    result: dict | None
    corpus_version: str
    editable: bool  # has an edit secret (records made before edit secrets have none)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.strip().upper().encode()).hexdigest()


def new_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(CODE_CHARS))


def new_secret() -> str:
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(SECRET_GROUPS))


def normalise_code(code: str | None) -> str:
    return (code or "").strip().upper()


def comment_problem(comment: str) -> str | None:
    """Why a feedback comment cannot be stored (too long), or None."""
    if len(comment) > FEEDBACK_CHARS:
        return f"コメントは {FEEDBACK_CHARS:,} 文字までです（いま {len(comment):,} 文字）。短くしてからもう一度送ってください。"
    return None


def _shown(code: str) -> str:
    """A code as an error message repeats it: what was typed, cut short and without invisible characters."""
    return strip_invisible(code)[:16]


class Sealer:
    """Encryption at rest with the operator's key (ASSISTANT_RECORDS_KEY, a Fernet key)."""

    def __init__(self, key: str | None):
        self._fernet = None
        if key:
            from cryptography.fernet import Fernet

            try:
                self._fernet = Fernet(key.encode())
                self._key = key.encode()
            except (ValueError, TypeError) as exc:
                raise RecordError("ASSISTANT_RECORDS_KEY は Fernet の鍵（32 バイトを URL 安全な base64 にしたもの）です。"
                                  "python -c \"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())\" で作れます。") from exc

    @property
    def keyed(self) -> bool:
        return self._fernet is not None

    def seal(self, text: str) -> str:
        return SEALED + self._fernet.encrypt(text.encode()).decode() if self._fernet else text

    def code_key(self, code: str) -> str:
        """How a share code is stored and looked up: itself, or with a key its keyed hash."""
        if not self._fernet or not code:
            return code
        mac = hmac.new(self._mac_key, b"share-code:" + code.encode(), hashlib.sha256).hexdigest()
        return HASHED + mac

    @property
    def _mac_key(self) -> bytes:
        return hashlib.sha256(b"tics-records-code-hash:" + self._key).digest()

    def open(self, text: str | None) -> str | None:
        if text is None or not text.startswith(SEALED):
            return text
        if self._fernet is None:
            raise RecordError(NEEDS_KEY)
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(text[len(SEALED):].encode()).decode()
        except InvalidToken as exc:
            raise RecordError("記録を復号できません（ASSISTANT_RECORDS_KEY の鍵が違います）。") from exc


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


class Records:
    """The records store. Every call opens its own connection from the pool (thread-safe)."""

    def __init__(self, url: str | Path, key: str | None = None, auto_upgrade: bool | None = None):
        if isinstance(url, Path):
            url = sqlite_url(url)
        self.url = url
        self.sealer = Sealer(key)
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            _prepare_sqlite_file(Path(url.removeprefix("sqlite:///")))
        self.engine = make_engine(url)
        try:
            status = schema_status(self.engine)
            if status.behind and (auto_upgrade if auto_upgrade is not None else self.is_sqlite):
                upgrade(self.engine)
                status = schema_status(self.engine)
        except sa.exc.DatabaseError as exc:
            raise self._unreadable(exc) from exc
        if status.unknown:
            raise SchemaError(f"記録のデータベースのスキーマ（{status.current}）はこの版のアプリより新しく、知らない版です。新しい版のアプリで開いてください。")
        if status.behind:
            raise SchemaError(f"記録のデータベースのスキーマが古い版です（{status.current or 'なし'} → {status.head}）。assistant db upgrade を実行してから起動してください。")

    def _unreadable(self, exc: Exception) -> RecordsUnavailable:
        if not self.is_sqlite:
            return RecordsUnavailable(f"記録のデータベースに接続できません（{type(exc).__name__}）。データベースの状態を確認してください。")
        path = Path(self.url.removeprefix("sqlite:///"))
        self.engine.dispose()
        moved = quarantine(path)
        return RecordsUnavailable(
            f"記録のファイルが壊れているため使えません。元のファイルは {moved.name} に移しました（復旧するまで相談の保存はできません）。"
            "運用者は、ファイルを確認してから移したファイルを削除し、アプリを再起動してください。"
        )

    # -- consultations ----------------------------------------------------------------
    def create_consultation(self, state: dict, result: dict | None, corpus_version: str) -> tuple[str, str]:
        """A new record: (share code, edit secret). The secret is shown once and stored only as a hash."""
        secret = new_secret()
        now = time.time()
        for _ in range(5):
            code = new_code()
            try:
                with self.engine.begin() as db:
                    db.execute(consultations.insert().values(
                        code=self.sealer.code_key(code), code_sealed=self.sealer.seal(code) if self.sealer.keyed else None,
                        created_at=now, updated_at=now, state=self._dump(state), result=self._dump(result) if result else None,
                        corpus_version=corpus_version, edit_hash=_digest(secret)))
                return code, secret
            except sa.exc.IntegrityError:
                continue  # the same code twice in 32^8: draw again
        raise RecordError("相談コードを作れませんでした。もう一度お試しください。")

    def save_consultation(self, code: str, state: dict, result: dict | None, corpus_version: str, secret: str | None = None, admin: bool = False) -> None:
        code = normalise_code(code)
        with self.engine.begin() as db:
            key = self._authorise(db, code, secret, admin)
            db.execute(consultations.update().where(consultations.c.code == key).values(
                updated_at=time.time(), state=self._dump(state), result=self._dump(result) if result else None, corpus_version=corpus_version))

    def load_consultation(self, code: str) -> Saved:
        code = normalise_code(code)
        with self.engine.connect() as db:
            row = self._row(db, code, consultations)
            if row is None and not self.sealer.keyed and db.execute(sa.select(consultations.c.code).where(consultations.c.code.like(HASHED + "%")).limit(1)).first():
                raise RecordError(NEEDS_KEY)  # the codes are keyed hashes: without the key none can be found
        if row is None:
            raise RecordError(f"相談コード {_shown(code) or '（空）'} の記録は見つかりません。コードを確かめてください。")
        result = self.sealer.open(row.result)
        return Saved(code, row.created_at, row.updated_at, json.loads(self.sealer.open(row.state)), json.loads(result) if result else None,
                     row.corpus_version, row.edit_hash is not None)

    def _row(self, db, code: str, *columns):
        """The consultation stored under a code: by its keyed hash, or as written by a records store without a key."""
        for key in dict.fromkeys((self.sealer.code_key(code), code)):
            row = db.execute(sa.select(*columns).where(consultations.c.code == key)).first()
            if row is not None:
                return row
        return None

    def stored_key(self, code: str) -> str | None:
        """The key a code's record is stored under (feedback and the audit log refer to it)."""
        with self.engine.connect() as db:
            row = self._row(db, normalise_code(code), consultations.c.code)
        return row.code if row is not None else None

    def check_edit(self, code: str, secret: str | None, admin: bool = False) -> None:
        with self.engine.connect() as db:
            self._authorise(db, normalise_code(code), secret, admin)

    def delete_consultation(self, code: str, secret: str | None = None, admin: bool = False) -> None:
        code = normalise_code(code)
        with self.engine.begin() as db:
            key = self._authorise(db, code, secret, admin)
            db.execute(consultations.delete().where(consultations.c.code == key))
            db.execute(feedback.delete().where(feedback.c.code == key))
        self.forget()

    def _authorise(self, db, code: str, secret: str | None, admin: bool) -> str:
        """The record exists and the caller may change it (inside the caller's transaction); returns its stored key."""
        row = self._row(db, code, consultations.c.code, consultations.c.edit_hash)
        if row is None:
            raise RecordError(f"相談コード {_shown(code)} の記録は見つかりません。")
        self._check_secret(row.edit_hash, secret, admin)
        return row.code

    def forget(self, vacuum: bool = False) -> None:
        """After a deletion: fold the WAL into the file and truncate it (secure_delete has zeroed the freed
        pages), so the deleted text is in neither file; ``vacuum`` also rebuilds the file."""
        if not self.is_sqlite:
            return
        with self.engine.connect() as db:
            for _ in range(20):
                busy = db.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()[0]
                if not busy:
                    break
                time.sleep(0.05)  # a reader holds an old snapshot: try again shortly
            if vacuum:
                db.exec_driver_sql("VACUUM")
                db.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    @staticmethod
    def _check_secret(stored: str | None, secret: str | None, admin: bool) -> None:
        if admin:
            return
        if stored is None:
            raise RecordError("この記録には編集用の合言葉がありません（以前の形式の記録）。変更や削除は運用者にご依頼ください。")
        if not secret or not hmac.compare_digest(stored, _digest(secret)):
            raise RecordError("編集用の合言葉が違います。共有リンクでは閲覧だけができます。変更や削除には、作成時に表示した合言葉が必要です。")

    def list_consultations(self, limit: int = 100, text: str = "", finished: bool | None = None, scan: int = 5000,
                           since: float | None = None, until: float | None = None) -> list[dict]:
        """The newest consultations first. ``text``: a part of the share code or of the firm's name (both are
        sealed with a key, so the newest ``scan`` records are opened and matched here); ``finished``: only
        finished (True) or unfinished (False) diagnoses; ``since``/``until``: last updated in [since, until)
        (epoch seconds)."""
        wanted = nfkc(text).strip().upper()
        query = sa.select(consultations.c.code, consultations.c.code_sealed, consultations.c.updated_at, consultations.c.state, consultations.c.result)
        if finished is not None:
            query = query.where(consultations.c.result.is_not(None) if finished else consultations.c.result.is_(None))
        if since is not None:
            query = query.where(consultations.c.updated_at >= since)
        if until is not None:
            query = query.where(consultations.c.updated_at < until)
        with self.engine.connect() as db:
            rows = db.execute(query.order_by(consultations.c.updated_at.desc()).limit(scan if wanted else limit)).all()
        out = []
        for code, sealed, updated, state, result in rows:
            try:
                firm = strip_invisible(json.loads(self.sealer.open(state)).get("firm", {}).get("name", ""))
                code = self.sealer.open(sealed) if sealed else code
            except RecordError:
                firm = "（復号できません）"
            if wanted and wanted not in code.upper() and wanted not in nfkc(firm).upper():
                continue
            out.append({"code": code, "updated_at": time.strftime("%Y-%m-%d %H:%M", time.localtime(updated)), "firm": firm, "finished": result is not None})
            if len(out) >= limit:
                break
        return out

    def purge_expired(self, retention_days: float) -> int:
        """Delete consultations not updated within the retention period; returns how many."""
        cutoff = time.time() - retention_days * 86400
        with self.engine.begin() as db:
            n = db.execute(consultations.delete().where(consultations.c.updated_at < cutoff)).rowcount
            n_feedback = db.execute(feedback.delete().where(feedback.c.created_at < cutoff)).rowcount
            db.execute(audit.delete().where(audit.c.at < cutoff))
            db.execute(login_failures.delete().where(login_failures.c.at < cutoff))
            db.execute(admin_sessions.delete().where(admin_sessions.c.expires_at < time.time()))
        if n or n_feedback:
            self.forget(vacuum=True)
        if n:
            self.log("purge", None, True, "", f"{n} 件（保存期間 {retention_days:g} 日）")
        return int(n or 0)

    # -- feedback -----------------------------------------------------------------------
    def add_feedback(self, question: str, answer: str, rating: str, comment: str, citations: list[str], corpus_version: str,
                     code: str | None = None) -> int:
        """Feedback on an answer; ``code``: the consultation of the conversation (deleted with it)."""
        if rating not in ("good", "bad"):
            raise RecordError("評価は good か bad です。")
        if (problem := comment_problem(comment)) is not None:
            raise RecordError(problem)
        key = self.stored_key(code) if code else None
        with self.engine.begin() as db:
            res = db.execute(feedback.insert().values(
                created_at=time.time(), question=self.sealer.seal(question[:2000]), answer=self.sealer.seal(answer[:10000]), rating=rating,
                comment=self.sealer.seal(comment), citations=json.dumps(citations, ensure_ascii=False), corpus_version=corpus_version, code=key))
            return int(res.inserted_primary_key[0])

    def list_feedback(self, limit: int = 200, rating: str | None = None, with_answer: bool = False) -> list[dict]:
        """The newest feedback first; ``rating``: only 'good' or 'bad'; ``with_answer``: the answer rated too."""
        query = sa.select(feedback).order_by(feedback.c.id.desc()).limit(limit)
        if rating is not None:
            query = query.where(feedback.c.rating == rating)
        with self.engine.connect() as db:
            rows = db.execute(query).all()
        return [
            {"id": r.id, "created_at": time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created_at)), "question": self.sealer.open(r.question),
             "rating": r.rating, "comment": self.sealer.open(r.comment), "citations": json.loads(r.citations),
             **({"answer": self.sealer.open(r.answer), "corpus_version": r.corpus_version} if with_answer else {})}
            for r in rows
        ]

    # -- audit log ------------------------------------------------------------------------
    def log(self, event: str, code: str | None, ok: bool, actor: str = "", detail: str = "") -> None:
        """One audit entry. ``code`` is a record's share code (encrypted here when there is a key); what a
        failed lookup typed is never passed here, since it may be someone's code or secret."""
        stored = self.sealer.seal(code) if code and self.sealer.keyed else code
        with self.engine.begin() as db:
            db.execute(audit.insert().values(at=time.time(), event=event, code=stored, ok=ok, actor=actor[:80], detail=detail[:300]))

    def audit_log(self, limit: int = 200, event: str | None = None) -> list[dict]:
        q = sa.select(audit).order_by(audit.c.id.desc()).limit(limit)
        if event:
            q = q.where(audit.c.event == event)
        with self.engine.connect() as db:
            rows = [dict(r._mapping) for r in db.execute(q).all()]
        for row in rows:
            try:
                row["code"] = self.sealer.open(row["code"])
            except RecordError:
                row["code"] = "（復号できません）"
        return rows

    # -- admin sessions and login throttling (shared by every replica) --------------------------
    def open_admin_session(self, ttl_s: float) -> str:
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self.engine.begin() as db:
            db.execute(admin_sessions.insert().values(token_hash=_digest(token), created_at=now, expires_at=now + ttl_s))
        return token

    def admin_session_valid(self, token: str | None) -> bool:
        if not token:
            return False
        with self.engine.connect() as db:
            row = db.execute(sa.select(admin_sessions.c.expires_at).where(admin_sessions.c.token_hash == _digest(token))).first()
        return row is not None and row.expires_at > time.time()

    def close_admin_session(self, token: str | None) -> None:
        if token:
            with self.engine.begin() as db:
                db.execute(admin_sessions.delete().where(admin_sessions.c.token_hash == _digest(token)))

    def login_failed(self, actor: str) -> None:
        with self.engine.begin() as db:
            db.execute(login_failures.insert().values(actor=actor[:80], at=time.time()))

    def login_failures_since(self, actor: str | None, since: float) -> int:
        """Failed admin logins of one address since a time, or of every address (``actor`` None)."""
        q = sa.select(sa.func.count()).select_from(login_failures).where(login_failures.c.at >= since)
        if actor is not None:
            q = q.where(login_failures.c.actor == actor[:80])
        with self.engine.connect() as db:
            return int(db.execute(q).scalar() or 0)

    def clear_login_failures(self, actor: str) -> None:
        with self.engine.begin() as db:
            db.execute(login_failures.delete().where(login_failures.c.actor == actor[:80]))

    def _dump(self, data: dict) -> str:
        return self.sealer.seal(json.dumps(data, ensure_ascii=False))


# -- the file, the engine and the schema -------------------------------------------------------------
def _prepare_sqlite_file(path: Path) -> None:
    """The home is private (0700) and the records file too (0600), before SQLite touches it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.chmod(path.parent, 0o700)
    except PermissionError:
        pass
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def make_engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 10})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(conn, _record):  # WAL: readers never wait for the writer; freed pages are zeroed
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def quarantine(path: Path) -> Path:
    """Move a damaged database file (and its WAL) aside, keeping it for the operator."""
    moved = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(path) + suffix)
        if p.exists():
            p.rename(Path(str(moved) + suffix))
    return moved


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None
    head: str
    known: tuple[str, ...]

    @property
    def behind(self) -> bool:
        return self.current != self.head and (self.current is None or self.current in self.known)

    @property
    def unknown(self) -> bool:
        return self.current is not None and self.current not in self.known


def _alembic_config(connection):
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def schema_status(engine: sa.Engine) -> SchemaStatus:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA quick_check").fetchall()  # a damaged file fails here, not mid-request
        current = MigrationContext.configure(conn).get_current_revision()  # None: empty, or from before migrations
    script = ScriptDirectory.from_config(_alembic_config(None))
    return SchemaStatus(current, script.get_current_head(), tuple(r.revision for r in script.walk_revisions()))


def upgrade(engine: sa.Engine) -> str:
    """Apply the migrations (``assistant db upgrade``); returns the revision reached."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    with engine.begin() as conn:
        cfg = _alembic_config(conn)
        if MigrationContext.configure(conn).get_current_revision() is None and sa.inspect(conn).has_table("consultations"):
            command.stamp(cfg, "0001")  # made by the first releases with CREATE TABLE: that is revision 0001
        command.upgrade(cfg, "head")
    return schema_status(engine).current or ""
