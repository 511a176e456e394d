"""SQLite records: saved consultations (resumable by code) and answer feedback."""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from contextlib import closing
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS consultations (
    code TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    state TEXT NOT NULL,
    result TEXT,
    corpus_version TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('good', 'bad')),
    comment TEXT NOT NULL DEFAULT '',
    citations TEXT NOT NULL DEFAULT '[]',
    corpus_version TEXT NOT NULL
);
"""
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O/1/I: codes are read aloud and typed


class RecordError(ValueError):
    """A record that cannot be found or saved; the message is Japanese."""


class Records:
    """One SQLite file under ASSISTANT_HOME; each call opens its own connection (thread-safe)."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def new_code(self) -> str:
        return "".join(secrets.choice(_ALPHABET) for _ in range(8))

    def save_consultation(self, code: str | None, state: dict, result: dict | None, corpus_version: str) -> str:
        code = code or self.new_code()
        now = time.time()
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT INTO consultations (code, created_at, updated_at, state, result, corpus_version) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(code) DO UPDATE SET updated_at=excluded.updated_at, state=excluded.state, result=excluded.result, corpus_version=excluded.corpus_version",
                (code, now, now, json.dumps(state, ensure_ascii=False), json.dumps(result, ensure_ascii=False) if result else None, corpus_version),
            )
        return code

    def load_consultation(self, code: str) -> dict:
        code = (code or "").strip().upper()
        with closing(self._connect()) as db:
            row = db.execute("SELECT code, created_at, updated_at, state, result, corpus_version FROM consultations WHERE code = ?", (code,)).fetchone()
        if row is None:
            raise RecordError(f"相談コード {code or '（空）'} の記録は見つかりません。コードを確かめてください。")
        return {
            "code": row[0], "created_at": row[1], "updated_at": row[2], "state": json.loads(row[3]),
            "result": json.loads(row[4]) if row[4] else None, "corpus_version": row[5],
        }

    def list_consultations(self, limit: int = 100) -> list[dict]:
        with closing(self._connect()) as db:
            rows = db.execute("SELECT code, updated_at, state, result FROM consultations ORDER BY updated_at DESC LIMIT ?", (limit,)).fetchall()
        out = []
        for code, updated, state, result in rows:
            s = json.loads(state)
            out.append({"code": code, "updated_at": time.strftime("%Y-%m-%d %H:%M", time.localtime(updated)),
                        "firm": s.get("firm", {}).get("name", ""), "finished": result is not None})
        return out

    def add_feedback(self, question: str, answer: str, rating: str, comment: str, citations: list[str], corpus_version: str) -> int:
        if rating not in ("good", "bad"):
            raise RecordError("評価は good か bad です。")
        with closing(self._connect()) as db, db:
            cur = db.execute(
                "INSERT INTO feedback (created_at, question, answer, rating, comment, citations, corpus_version) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (time.time(), question[:2000], answer[:10000], rating, comment[:2000], json.dumps(citations, ensure_ascii=False), corpus_version),
            )
            return int(cur.lastrowid)

    def list_feedback(self, limit: int = 200) -> list[dict]:
        with closing(self._connect()) as db:
            rows = db.execute("SELECT id, created_at, question, rating, comment, citations FROM feedback ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [
            {"id": r[0], "created_at": time.strftime("%Y-%m-%d %H:%M", time.localtime(r[1])), "question": r[2], "rating": r[3], "comment": r[4], "citations": json.loads(r[5])}
            for r in rows
        ]
