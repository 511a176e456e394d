"""The extractive answer composer (the embedded default) and its support decision.

No language model: the answer is made of verbatim sentences of the best clauses,
each cited. Refusal is a decision over several signals — the question's own
intent (instructions, legal judgements, the standard's details) and whether the
corpus actually contains the question's key terms near the top clauses — not a
single similarity cut-off.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .clauses import Clause
from .config import SHIPPED_CORPUS, Config
from .corpus import Corpus
from .guard import asks_for_legal_judgement, is_english, looks_like_injection, validate_question
from .index import Index
from .retrieve import Retrieval, retrieve
from .textnorm import nfkc, split_sentences

STANDARD_DOC = "基準"
WHOLE_QUOTE_CHARS = 220  # a clause this short is quoted whole; longer ones by sentence
# The guideline states no amounts, fees, prices or deadlines: questions asking for one are unsupported.
_ASKS_AMOUNT = re.compile(
    r"いくら|何円|金額|料金|手数料|値段|価格|期限|いつまで|何日|\bfees?\b|\bprices?\b|deadline|how much (?:does|do|will|would|is|are)\b.{0,40}\b(?:cost|charge|pay)",
    re.IGNORECASE,
)  # "how much effort may they ask" is not a question about money


@dataclass
class Citation:
    clause_id: str
    doc: str
    quote: str


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    citations: list[Citation]
    retrieved: list[dict]
    corpus_version: str
    refusal_reason: str | None = None  # injection | legal_judgement | standard_not_loaded | unsupported
    related: list[str] = field(default_factory=list)
    generator: str | None = None  # set only when an LLM is configured: "llm" | "extractive"
    fallback_reason: str | None = None
    dropped: list[tuple[str, str]] = field(default_factory=list)  # LLM sentences removed, and why

    def to_json(self) -> dict:
        """The public shape of ``assistant ask --json`` (with an LLM also generator, fallback_reason)."""
        out = {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "citations": [asdict(c) for c in self.citations],
            "retrieved": self.retrieved,
            "corpus_version": self.corpus_version,
        }
        if self.generator is not None:
            out["generator"] = self.generator
            out["fallback_reason"] = self.fallback_reason
        return out


@dataclass(frozen=True)
class SupportPolicy:
    """Thresholds of the support decision, tuned on eval/cases (see eval/README.md)."""

    min_vocabulary: float = 0.25  # below this share of known key terms the question is off-topic
    weak_vocabulary: float = 0.4  # below this, the best clause must also be close in meaning
    weak_dense: float = 0.85  # cosine similarity the best clause needs in that case


class Glossary:
    """Everyday and English wording → the guideline's terms (product data, not official text)."""

    def __init__(self, mapping: dict[str, list[str]]):
        self.mapping = {nfkc(k).lower(): v for k, v in mapping.items()}
        self._words = {k for k in self.mapping if re.fullmatch(r"[a-z\-]+", k)}
        self._phrases = [k for k in self.mapping if k not in self._words]

    @classmethod
    def load(cls, path: Path = SHIPPED_CORPUS / "glossary.json") -> "Glossary":
        return cls(json.loads(path.read_text(encoding="utf-8"))["terms"])

    def expanded(self, text: str) -> str:
        """The text with the guideline's terms for its everyday words appended (for search)."""
        extra = self.expand(text)
        return f"{text} {' '.join(extra)}" if extra else text

    def expand(self, question: str) -> list[str]:
        q = nfkc(question).lower()
        out: list[str] = []
        for word in re.findall(r"[a-z\-]+", q):
            if word in self._words:
                out.extend(self.mapping[word])
        for phrase in self._phrases:
            if phrase in q:
                out.extend(self.mapping[phrase])
        return list(dict.fromkeys(out))


class Assistant:
    """Everything needed to answer: config, corpus, index, glossary."""

    def __init__(self, cfg: Config, corpus: Corpus, index: Index, glossary: Glossary, policy: SupportPolicy | None = None):
        self.cfg = cfg
        self.corpus = corpus
        self.index = index
        self.glossary = glossary
        self.policy = policy or SupportPolicy()
        tok = index.tokenizer
        self._vocab = {t for c in corpus.clauses() for t in tok.terms(" ".join(c.heading_path + [c.text]))}
        self._vocab |= {t for targets in glossary.mapping.values() for x in targets for t in tok.terms(x)}

    # -- the public entry point -------------------------------------------------
    def ask(self, question: str, history: list[dict] | None = None) -> Answer:
        q = validate_question(question, self.cfg.max_question_chars)
        english = is_english(q)
        expansion = self.glossary.expand(q)
        r = retrieve(self.index, q, self.cfg.retrieval, history, self.glossary.expanded)
        retrieved = self.retrieved_rows(r)

        def refuse(reason: str, text: str, citations: list[Citation] | None = None) -> Answer:
            return Answer(q, text, True, citations or [], retrieved, self.corpus.version, reason)

        if looks_like_injection(q):
            return refuse("injection", self._refusal_text("injection", english))
        if self._asks_standard_details(r, q):
            cites = self._minimum_set_citation()
            return refuse("standard_not_loaded", self._standard_text(english, cites), cites)
        if asks_for_legal_judgement(q):
            return refuse("legal_judgement", self._refusal_text("legal_judgement", english))
        if not r.explicit and not self._supported(q, r):
            return refuse("unsupported", self._refusal_text("unsupported", english))
        return self._compose(q, r, english, expansion)

    # -- the support decision ---------------------------------------------------
    def key_terms(self, question: str) -> list[str]:
        return [t for t in dict.fromkeys(self.index.tokenizer.terms(question)) if len(t) > 1 or not t.isascii()]

    def vocabulary_coverage(self, question: str) -> float:
        """Share of the question's key terms the documents (or the glossary) know at all."""
        terms = self.key_terms(question)
        if not terms:
            return 0.0
        return sum(1 for t in terms if t in self._vocab or t in self.glossary.mapping) / len(terms)

    def unknown_codes(self, question: str) -> list[str]:
        """Acronyms and codes (ISO, GDPR, 27001) the documents never mention: other schemes."""
        words = re.findall(r"[A-Za-z0-9][A-Za-z0-9-]*", nfkc(question))
        codes = [w for w in words if re.search(r"[A-Z]{2}|[0-9]{3}", w)]
        return [c for c in codes if c.lower() not in self._vocab and c.lower() not in self.glossary.mapping]

    def _supported(self, question: str, r: Retrieval) -> bool:
        if not r.hits or self.unknown_codes(question) or _ASKS_AMOUNT.search(nfkc(question)):
            return False
        vocabulary = self.vocabulary_coverage(question)
        if r.followup and r.context_ids and vocabulary > 0:
            return True
        dense = max(h.dense for h in r.hits[:3])
        p = self.policy
        return vocabulary >= p.min_vocabulary and (vocabulary >= p.weak_vocabulary or dense >= p.weak_dense)

    def _asks_standard_details(self, r: Retrieval, question: str) -> bool:
        if self.corpus.has_doc(STANDARD_DOC):
            return False
        if re.search(r"必要最低限|最低限|minimum", nfkc(question), re.IGNORECASE):
            return False  # what the minimum set consists of is answered by 指針第4の2の一
        if r.standard_refs:
            return True
        return bool(re.search(r"(基準|告示)(の)?(本文|条文|全文|原文|中身|具体的な(内容|要求|措置))", question))

    # -- composing --------------------------------------------------------------
    def _clause_context(self, clause_id: str) -> str:
        c = self.corpus.resolve(clause_id)
        return " ".join(c.heading_path + [c.text]) if c else ""

    def _pick_clauses(self, r: Retrieval) -> list[Clause]:
        hits = r.hits
        if r.explicit:
            return [self.corpus.resolve(h.clause_id) for h in hits if h.explicit][:4]
        if len(r.part_tops) > 1:
            return [self.corpus.resolve(cid) for cid in r.part_tops[:3]]
        chosen = [hits[0]]
        if len(hits) > 1:
            second = hits[1]
            if second.score >= 0.9 * hits[0].score and not self._related(hits[0].clause_id, second.clause_id):
                chosen.append(second)
        return [self.corpus.resolve(h.clause_id) for h in chosen]

    def _related(self, a: str, b: str) -> bool:
        return a in self.corpus.ancestors(b) or b in self.corpus.ancestors(a)

    def _quote(self, clause: Clause, terms: list[str], whole: bool = False) -> str:
        if whole or len(clause.text) <= WHOLE_QUOTE_CHARS:
            return clause.text
        sentences = split_sentences(clause.text)
        if len(sentences) <= 1:
            return clause.text
        tok = self.index.tokenizer

        def score(s: str) -> float:
            st = set(tok.terms(s))
            return sum(1 for t in terms if t in st)

        best = max(sentences, key=score)
        return best

    def _compose(self, q: str, r: Retrieval, english: bool, expansion: list[str]) -> Answer:
        terms = self.key_terms(q) + [t for e in expansion for t in self.index.tokenizer.terms(e)]
        citations: list[Citation] = []
        lines: list[str] = []
        chosen = self._pick_clauses(r)
        for clause in chosen:
            quote = self._quote(clause, terms, whole=bool(r.explicit))
            citations.append(Citation(clause.id, clause.doc, quote))
            lines.append(f"・「{quote}」（{clause.id}）")
            parent = self.corpus.resolve(clause.parent) if clause.parent else None
            if parent is not None and parent.kind == "item" and all(c.clause_id != parent.id for c in citations):
                # A sub-item has no subject of its own: its lead text says who must do it.
                citations.append(Citation(parent.id, parent.doc, parent.text))
                lead = "(lead text)" if english else "（柱書き）"
                lines.append(f"　└ {lead}「{parent.text}」（{parent.id}）")
            if clause.is_lead:
                kids = "、".join(clause.children)
                lines.append(f"　└ {'items' if english else '各号'}: {kids}")
        cited = {c.clause_id for c in citations}
        related = [h.clause_id for h in r.hits[1:6] if h.clause_id not in cited][:3]
        head = (
            "The guideline states the following (quoted verbatim in Japanese):"
            if english
            else "指針には次のとおり定められています（原文のまま引用）。"
        )
        parts = [head, "", *lines]
        docs = list(dict.fromkeys(c.doc for c in citations))
        parts += ["", ("Document versions: " if english else "出典の版: ") + "、".join(f"{d} {self.corpus.docs[d].manifest.version}" for d in docs)]
        if related:
            parts += ["", ("Related clauses: " if english else "関連する条項: ") + "、".join(related)]
        return Answer(q, "\n".join(parts), False, citations, self.retrieved_rows(r), self.corpus.version, None, related)

    def retrieved_rows(self, r: Retrieval) -> list[dict]:
        """The ranked clauses as ask --json reports them (at least the top 5)."""
        return [{"clause_id": h.clause_id, "score": round(h.score, 4)} for h in r.hits[: max(5, self.cfg.retrieval.top_k)]]

    # -- refusals ---------------------------------------------------------------
    def coverage_summary(self, english: bool = False) -> str:
        items = []
        for d in self.corpus.documents:
            heads = [f"{c.label} {c.text}" for c in d.clauses if c.kind == "heading" and c.parent is None]
            items.append(f"「{d.title}」（{d.doc}）: " + "／".join(heads))
        prefix = "Loaded documents: " if english else "読み込まれている文書: "
        return prefix + "；".join(items)

    def _refusal_text(self, reason: str, english: bool) -> str:
        cover = self.coverage_summary(english)
        if english:
            msg = {
                "injection": "I can only answer questions about the loaded official documents, citing their text; I cannot follow instructions that change how I answer.",
                "legal_judgement": "The documents do not give legal judgements on individual cases, so I cannot answer this. Please consult a lawyer or a certification body.",
                "unsupported": "The loaded documents do not say anything that answers this question, so I will not guess.",
            }[reason]
            return f"{msg}\n{cover}"
        msg = {
            "injection": "この質問には回答できません。読み込まれている公式文書の内容を、条項を示して答えることだけを行います（回答方法を変える指示には従いません）。",
            "legal_judgement": "個別の事案についての法的な判断は、読み込まれている文書には書かれていないため回答できません。弁護士や認定技術等情報漏えい防止措置認証機関にご相談ください。",
            "unsupported": "この質問に答える根拠は、読み込まれている文書には見当たりません。推測では回答しません。",
        }[reason]
        return f"{msg}\n{cover}"

    def _minimum_set_citation(self) -> list[Citation]:
        from .minimum import guideline_quote

        found = guideline_quote(self.corpus)
        return [Citation(*found)] if found else []

    def _standard_text(self, english: bool, cites: list[Citation]) -> str:
        quote = f"「{cites[0].quote}」（{cites[0].clause_id}）" if cites else ""
        if english:
            return (
                "The text of the standard (技術等情報漏えい防止措置基準, the 告示) is not loaded, so I cannot quote or explain its clauses.\n"
                f"What the guideline says about its minimum set: {quote}\n"
                "An operator can load the official file with: assistant corpus add FILE --doc 基準"
            )
        return (
            "技術等情報漏えい防止措置基準（告示）の本文は読み込まれていないため、その条項の内容はお答えできません。\n"
            f"指針は必要最低限の措置について次のように定めています: {quote}\n"
            "運用者が公式の告示ファイルを読み込むと（assistant corpus add ファイル --doc 基準）、条項を引用して回答できるようになります。"
        )
