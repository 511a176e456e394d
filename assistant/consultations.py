"""The consultation lifecycle, written once for the page, the REST API and the CLI: open a record by
its share code (and edit secret), continue it with the earlier plan it re-assesses, save it (created
on its first answer), give its saved result for an export, delete it; each step audited with who did it.
(Re-assessing is the session's own step, ``TriageSession.reassess``: the new consultation is saved like any other.)

The callers keep what is theirs: the page its rate limits and download links, the CLI its prompts.
Authorisation is the records' own (the edit secret, or ``admin`` for the operator's CLI)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from .records import RecordError, Records
from .triage import TriageState
from .triage.model import TriageResult
from .triage.session import TriageServices, TriageSession

Access = Literal["view", "edit"]


@dataclass(frozen=True)
class Opened:
    """A record as it was opened: its session (with the plan it re-assesses) and what the opener may do."""

    session: TriageSession
    result: TriageResult | None  # the result as it was saved (None while the diagnosis is unfinished)
    access: Access
    secret: str | None  # the edit secret that was checked, kept by the page for later saves

    @property
    def code(self) -> str:
        return self.session.code or ""

    @property
    def readonly(self) -> bool:
        return self.access == "view"


@dataclass(frozen=True)
class Saved:
    code: str
    secret: str | None  # shown once, when the record was created


class Consultations:
    """One actor's view of the consultations (``actor``: the client's address, or "local" for the CLI)."""

    def __init__(self, records: Records, triage: TriageServices, actor: str = "local", admin: bool = False, via: str = ""):
        self.records, self.triage, self.actor, self.admin, self.via = records, triage, actor, admin, via

    def open(self, code: str, secret: str | None = None) -> Opened:
        """The record by its share code; with a secret, for editing. RecordError (Japanese) when the code is
        unknown or the secret wrong; a failed lookup is audited without what was typed (it may be someone's code)."""
        try:
            saved = self.records.load_consultation(code)
        except RecordError:
            self.records.log("lookup", None, False, self.actor, "not found")
            raise
        access: Access = "view"
        checked = (secret or "").strip().upper() or None
        if checked:
            try:
                self.records.check_edit(saved.code, checked, admin=self.admin)
            except RecordError:
                self.records.log("lookup", saved.code, False, self.actor, "wrong secret")
                raise
            access = "edit"
        self.records.log("lookup", saved.code, True, self.actor, access)
        state = TriageState.from_dict(saved.state)
        session = TriageSession(self.triage, state, saved.code, self.previous_result(state.previous))
        return Opened(session, self._result(saved), access, checked)

    def session(self, state: TriageState, code: str | None, previous_code: str | None = None) -> TriageSession:
        """A session continued from its state, with the earlier plan it re-assesses (when that record still exists)."""
        return TriageSession(self.triage, state, code, self.previous_result(previous_code or state.previous))

    def previous_result(self, code: str | None) -> TriageResult | None:
        """The result of an earlier consultation, as it was saved; None when there is none (or it was deleted)."""
        if not code:
            return None
        try:
            saved = self.records.load_consultation(code)
        except RecordError:
            return None
        result = self._result(saved)
        return replace(result, code=saved.code) if result is not None else None  # the comparison names it

    def result_of(self, code: str) -> TriageResult | None:
        """A saved consultation's result (for an export), audited; None while the diagnosis is not finished."""
        saved = self.records.load_consultation(code)
        result = self._result(saved)
        if result is not None:
            result = replace(result, code=saved.code)
            self.records.log("export", saved.code, True, self.actor, self.via or "export")
        return result

    def save(self, session: TriageSession, version: str, code: str | None = None, secret: str | None = None) -> Saved:
        """Save the session: created (and audited) on its first save, updated afterwards with the edit secret."""
        state = session.state.to_dict()
        result = session.result().to_dict() if session.finished else None
        if not code:
            code, secret = self.records.create_consultation(state, result, version)
            self.records.log("create", code, True, self.actor, self.via)
            return Saved(code, secret)
        self.records.save_consultation(code, state, result, version, secret=secret, admin=self.admin)
        return Saved(code, secret)

    def save_result(self, state: TriageState, result: TriageResult, version: str) -> Saved:
        """A finished diagnosis saved at once (the REST API's ``save``)."""
        code, secret = self.records.create_consultation(state.to_dict(), result.to_dict(), version)
        self.records.log("create", code, True, self.actor, self.via)
        return Saved(code, secret)

    def delete(self, code: str, secret: str | None) -> None:
        self.records.delete_consultation(code, secret, admin=self.admin)
        self.records.log("delete", code, True, self.actor, self.via)

    def _result(self, saved) -> TriageResult | None:
        """A stored record's result as it was saved (rebuilt from its answers for a record older than the typed result)."""
        return TriageSession(self.triage, TriageState.from_dict(saved.state), saved.code).saved_result(saved.result)
