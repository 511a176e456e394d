"""The minimum set of measures (必要最低限の措置) that 指針第4の2の一 defines, from a loaded standard.

指針第4の2の一: 「技術等情報漏えい防止措置基準のⅠの第一から第三まで及び第四から第六までの柱書き、
Ⅱの柱書き並びに技術等情報の態様に応じてⅢ、Ⅳ及びⅤの柱書きの部分」. The rule below is that
sentence; the clauses' text always comes from the operator's file, never from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .corpus import Corpus, CorpusError, Document
from .ingest import part_forms
from .textnorm import split_sentences

GUIDELINE_CLAUSE = "指針第4の2の一"
WHOLE = [("Ⅰ", "第一"), ("Ⅰ", "第二"), ("Ⅰ", "第三")]
LEADS = [("Ⅰ", "第四"), ("Ⅰ", "第五"), ("Ⅰ", "第六"), ("Ⅱ", None)]
FORM_PARTS = ["Ⅲ", "Ⅳ", "Ⅴ"]


class MinimumSetError(CorpusError):
    """The minimum set cannot be computed; the message says why and what to do."""


@dataclass
class MinimumSet:
    doc: str
    version: str
    forms: list[str]
    clauses: list[dict]
    notes: list[str] = field(default_factory=list)  # shown to the operator, not part of the JSON

    def to_json(self) -> dict:
        return {"doc": self.doc, "version": self.version, "forms": self.forms, "clauses": self.clauses}


def guideline_quote(corpus: Corpus) -> tuple[str, str, str] | None:
    """(clause ID, doc, verbatim span) of what 指針第4の2の一 says the minimum set is."""
    clause = corpus.resolve(GUIDELINE_CLAUSE)
    if clause is None:
        return None
    sentence = next((s for s in split_sentences(clause.text) if "必要最低限" in s), clause.text)
    inner = re.search(r"必要最低限の措置の部分（[^）]*）", sentence)
    return clause.id, clause.doc, inner.group(0) if inner else sentence


def known_forms(doc: Document) -> list[str]:
    return sorted({f for part in FORM_PARTS for f in part_forms(doc).get(part, [])})


def minimum_set(corpus: Corpus, doc: str, forms: list[str]) -> MinimumSet:
    if not corpus.has_doc(doc):
        raise MinimumSetError(
            f"「{doc}」は読み込まれていません。公式の告示ファイルを assistant corpus add ファイル --doc {doc} で追加してください。"
        )
    d = corpus.docs[doc]
    by_id = {c.id: c for c in d.clauses}
    mapping = part_forms(d)
    valid = known_forms(d)
    unknown = [f for f in forms if f not in valid]
    if unknown:
        raise MinimumSetError(
            f"態様 {', '.join(unknown)} は文書の見出し（またはマニフェストの forms）にありません。使える態様: {', '.join(valid) or 'なし（マニフェストの forms に設定してください）'}"
        )
    notes = []
    out = []

    def need(part: str, item: str | None):
        cid = f"{doc}{part}" + (f"の{item}" if item else "")
        clause = by_id.get(cid)
        if clause is None:
            raise MinimumSetError(f"{cid} が文書にありません。読み込み結果（assistant corpus show {doc}）を確認してください。")
        return clause

    def whole_text(cid: str) -> str:
        c = by_id[cid]
        return "\n".join([c.text, *(whole_text(k) for k in c.children)])

    for part, item in WHOLE:
        c = need(part, item)
        out.append({"clause_id": c.id, "scope": "whole", "text": whole_text(c.id)})
    for part, item in LEADS:
        c = need(part, item)
        out.append({"clause_id": c.id, "scope": "lead", "text": c.text})
    for part in FORM_PARTS:
        c = need(part, None)
        part_form = mapping.get(part)
        if not part_form:
            notes.append(f"{c.id} の態様が見出しから読み取れません。マニフェストの forms に設定してください。")
            continue
        if set(part_form) & set(forms):
            out.append({"clause_id": c.id, "scope": "lead", "text": c.text})
    return MinimumSet(doc, d.manifest.version, list(forms), out, notes)
