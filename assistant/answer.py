"""The extractive answerer (the embedded default) and its support decision.

No language model: an answer is made of verbatim sentences of the best clauses, each cited,
led by the product's one-sentence plain explanation of the first clause. Whether to answer
at all is ``decide_support``: a pure function of signals read from the question and the
ranking (instructions, legal judgements, the standard's details while it is not loaded, what
kind of answer is asked for and whether the clause can give it, whether the documents know the
question's terms) with its thresholds in ``SupportPolicy``. Texts are in prompts/texts.json.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Literal, Protocol

from .asks import AskKind, asked_term, asks_for, asserted_claim, claim_share, clause_answers, term_is_used
from .clause_refs import cite
from .clauses import Clause
from .config import SHIPPED_CORPUS, Config
from .corpus import Corpus
from .guard import asks_for_legal_judgement, is_english, looks_like_injection, validate_question
from .index import Index
from .retrieve import Retrieval, retrieve
from .texts import text
from .textnorm import match_form, nfkc, split_sentences

STANDARD_DOC = "基準"
WHOLE_QUOTE_CHARS = 220  # a clause this short is quoted whole; longer ones by sentence
SupportReason = Literal[
    "supported", "injection", "legal_judgement", "standard_not_loaded", "unknown_clause", "not_stated", "undefined_term", "unsupported"
]


@dataclass
class Citation:
    clause_id: str
    doc: str
    quote: str


@dataclass(frozen=True)
class Answer:  # frozen: a step that changes an answer makes a new one (dataclasses.replace)
    question: str
    answer: str
    refused: bool
    citations: list[Citation]
    retrieved: list[dict]
    corpus_version: str
    refusal_reason: str | None = None  # a SupportReason, or misuse | out_of_scope from the conversation
    related: list[Citation] = field(default_factory=list)  # shown as related, never as the answer
    generator: str | None = None  # set only when an LLM is configured: "llm" | "extractive"
    fallback_reason: str | None = None
    dropped: list[tuple[str, str]] = field(default_factory=list)  # LLM sentences removed, and why
    intent: str = "documents"
    lead: str | None = None  # the product's one-sentence plain explanation, labelled as such
    advice: list = field(default_factory=list)  # advice.Advice: product measures for an action question
    offer: str | None = None  # "triage" when the answer offers the diagnosis

    def to_json(self) -> dict:
        """The public shape of ``assistant ask --json`` (contract: shared/ARCHITECTURE.md)."""
        out = {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "citations": [c.__dict__ for c in self.citations],
            "retrieved": self.retrieved,
            "corpus_version": self.corpus_version,
        }
        if self.generator is not None:
            out["generator"] = self.generator
            out["fallback_reason"] = self.fallback_reason
        out["intent"] = self.intent
        out["advice"] = [a.to_json() for a in self.advice]
        out["offer"] = self.offer
        out["related"] = [c.__dict__ for c in self.related]
        return out


@dataclass
class Event:
    """One step of a streamed answer: tokens as a model writes them, then the final answer."""

    kind: str  # token | final
    text: str = ""
    answer: Answer | None = None


class Answerer(Protocol):
    """What the conversation needs from an answerer: the extractive one or the LLM one. ``retrieval``
    is the turn's retrieval when the caller has it (the conversation retrieved once to route the turn);
    ``streams`` says whether ``stream`` yields words before the final answer."""

    streams: bool

    def ask(self, question: str, history: list[dict] | None = None, retrieval: Retrieval | None = None) -> Answer: ...

    def stream(self, question: str, history: list[dict] | None = None, retrieval: Retrieval | None = None) -> Iterator[Event]: ...


@dataclass(frozen=True)
class SupportPolicy:
    """Thresholds of the support decision, tuned on eval/cases and eval/guide* (see eval/README.md)."""

    # Below this share of known key terms the question is off-topic. Everyday or English wording uses few
    # of the documents' words: between this and weak_vocabulary a clause close in meaning must carry it.
    min_vocabulary: float = 0.1
    weak_vocabulary: float = 0.4  # below this, the best clause must also be close in meaning
    weak_dense: float = 0.85  # cosine similarity the best clause needs in that case
    related_vocabulary: float = 0.4  # a refused question this much about the documents gets related clauses
    # A question asserting what the documents say (「…とありますが本当？」): one of the best claim_clauses clauses
    # must hold this share of the claim's key terms, or the documents do not say it.
    claim_clauses: int = 3
    claim_coverage: float = 0.8
    nearest_clauses: int = 6  # existing clauses named beside a reference the documents lack
    # The second-best clause is quoted too when it scores this share of the best and is not its parent or child.
    second_clause_share: float = 0.9


@dataclass(frozen=True)
class SupportSignals:
    injection: bool = False
    legal_judgement: bool = False
    standard_details: bool = False  # the standard's clause contents, while the standard is not loaded
    explicit: bool = False  # the question names a clause
    missing: tuple[str, ...] = ()  # … or one the loaded documents do not have (指針第4の5, 第12条)
    asks: AskKind | None = None
    answerable: bool = True  # the top clause can give the kind of answer asked (or the term is used)
    claim_stated: bool = True  # what the question says the documents state, one of the best clauses states
    unknown_codes: tuple[str, ...] = ()  # ISO, GDPR, 27001: other schemes' codes
    followup_context: bool = False
    vocabulary: float = 0.0
    dense: float = 0.0


@dataclass(frozen=True)
class SupportDecision:
    supported: bool
    reason: SupportReason


def decide_support(s: SupportSignals, policy: SupportPolicy) -> SupportDecision:
    """Answer, or refuse with a typed reason (a pure function of the signals)."""
    if s.injection:
        return SupportDecision(False, "injection")
    if s.legal_judgement:
        return SupportDecision(False, "legal_judgement")
    if s.explicit:  # a named clause of a loaded document (「悪意Ⅰの第一」 is not the standard's)
        return SupportDecision(True, "supported")
    if s.standard_details:
        return SupportDecision(False, "standard_not_loaded")
    if s.missing:  # only clauses that do not exist are named: no other clause answers in their place
        return SupportDecision(False, "unknown_clause")
    if s.asks is not None and not s.answerable:
        return SupportDecision(False, "undefined_term" if s.asks == "definition" else "not_stated")
    if not s.claim_stated:  # 「…とありますが本当？」 and no clause says so: not a quote of something else
        return SupportDecision(False, "not_stated")
    if s.unknown_codes:
        return SupportDecision(False, "unsupported")
    if s.followup_context and s.vocabulary > 0:
        return SupportDecision(True, "supported")
    ok = s.vocabulary >= policy.min_vocabulary and (s.vocabulary >= policy.weak_vocabulary or s.dense >= policy.weak_dense)
    return SupportDecision(ok, "supported" if ok else "unsupported")


class Glossary:
    """Everyday and English wording → the guideline's terms (product data, not official text)."""

    def __init__(self, mapping: dict[str, list[str]]):
        self.mapping = {nfkc(k).lower(): v for k, v in mapping.items()}
        self._words = {k for k in self.mapping if re.fullmatch(r"[a-z\-]+", k)}
        self._phrases = [k for k in self.mapping if k not in self._words]

    @classmethod
    def load(cls, path: Path = SHIPPED_CORPUS / "glossary.json") -> "Glossary":
        return cls(json.loads(path.read_text(encoding="utf-8"))["terms"])

    def expanded(self, text_: str) -> str:
        """The text with the guideline's terms for its everyday words appended (for search)."""
        extra = self.expand(text_)
        return f"{text_} {' '.join(extra)}" if extra else text_

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
    """The extractive answerer: config, corpus, index, glossary."""

    def __init__(self, cfg: Config, corpus: Corpus, index: Index, glossary: Glossary, policy: SupportPolicy | None = None):
        self.cfg = cfg
        self.corpus = corpus
        self.index = index
        self.glossary = glossary
        self.policy = policy or SupportPolicy()
        tok = index.tokenizer
        self._vocab = {t for c in corpus.clauses() for t in tok.terms(" ".join(c.heading_path + [c.text]))}
        self._vocab |= {t for targets in glossary.mapping.values() for x in targets for t in tok.terms(x)}
        self._text = match_form(" ".join(c.text for c in corpus.clauses()))

    # -- the public entry points ---------------------------------------------------------
    def retrieve(self, question: str, history: list[dict] | None = None) -> Retrieval:
        return retrieve(self.index, question, self.cfg.retrieval, history, self.glossary.expanded)

    streams = False  # the Answerer protocol: one final answer, no words before it

    def ask(self, question: str, history: list[dict] | None = None, retrieval: Retrieval | None = None) -> Answer:
        q = validate_question(question, self.cfg.max_question_chars)
        r = retrieval if retrieval is not None else self.retrieve(q, history)
        decision = decide_support(self.signals(q, r), self.policy)
        if not decision.supported:
            return self.refusal(q, r, decision.reason)
        return self.compose(q, r)

    def stream(self, question: str, history: list[dict] | None = None, retrieval: Retrieval | None = None) -> Iterator[Event]:
        yield Event("final", answer=self.ask(question, history, retrieval))

    # -- the support decision's signals ----------------------------------------------------------
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
        # Three letters or digits at least: two-letter words (IT, PC, AI) are everyday words, not schemes.
        codes = [w for w in words if re.search(r"[A-Z]{3}|[0-9]{3}", w)]
        return [c for c in codes if c.lower() not in self._vocab and c.lower() not in self.glossary.mapping]

    def asks_standard_details(self, r: Retrieval, question: str) -> bool:
        if self.corpus.has_doc(STANDARD_DOC):
            return False
        if re.search(r"必要最低限|最低限|minimum", nfkc(question), re.IGNORECASE):
            return False  # what the minimum set consists of is answered by 指針第4の2の一
        if r.standard_refs:
            return True
        return bool(re.search(r"(基準|告示)(の)?(本文|条文|全文|原文|中身|具体的な(内容|要求|措置))", question))

    def term_used(self, term: str) -> bool:
        return term_is_used(term, self._text, self.index.tokenizer.terms) or bool(self.glossary.expand(term))

    def claim_stated(self, claim: str, r: Retrieval) -> bool:
        """One of the best clauses holds the claim's key terms (claim_coverage of them, policy)."""
        tok = self.index.tokenizer
        terms = list(dict.fromkeys(self.key_terms(claim)))

        def synonyms(term: str) -> list[str]:
            return [t for x in self.glossary.expand(term) for t in tok.terms(x)]

        for h in r.hits[: self.policy.claim_clauses]:
            clause = self.corpus.resolve(h.clause_id)
            if claim_share(terms, set(tok.terms(clause.text)), synonyms) >= self.policy.claim_coverage:
                return True
        return False

    def signals(self, q: str, r: Retrieval) -> SupportSignals:
        asks = asks_for(q)
        claim = asserted_claim(q)
        answerable = True
        if asks == "definition":
            term = asked_term(q)
            answerable = term is None or self.term_used(term)
        elif asks is not None and r.hits:
            top = self.corpus.resolve(r.hits[0].clause_id)
            answerable = clause_answers(asks, top.text, self.index.tokenizer.proper_nouns)
        return SupportSignals(
            injection=looks_like_injection(q), legal_judgement=asks_for_legal_judgement(q), standard_details=self.asks_standard_details(r, q),
            explicit=bool(r.explicit), missing=tuple(r.missing), asks=asks, answerable=answerable,
            claim_stated=claim is None or self.claim_stated(claim, r), unknown_codes=tuple(self.unknown_codes(q)),
            followup_context=bool(r.followup and r.context_ids), vocabulary=self.vocabulary_coverage(q),
            dense=max((h.dense for h in r.hits[:3]), default=0.0),
        )

    # -- composing ------------------------------------------------------------------------------
    def _pick_clauses(self, r: Retrieval) -> list[Clause]:
        hits = r.hits
        if r.explicit:
            return [self.corpus.resolve(h.clause_id) for h in hits if h.explicit][:4]
        if len(r.part_tops) > 1:
            return [self.corpus.resolve(cid) for cid in r.part_tops[:3]]
        chosen = [hits[0]]
        if len(hits) > 1:
            second = hits[1]
            if second.score >= self.policy.second_clause_share * hits[0].score and not self._related(hits[0].clause_id, second.clause_id):
                chosen.append(second)
        return [self.corpus.resolve(h.clause_id) for h in chosen]

    def _related(self, a: str, b: str) -> bool:
        return a in self.corpus.ancestors(b) or b in self.corpus.ancestors(a)

    def quote(self, clause: Clause, terms: list[str], whole: bool = False) -> str:
        """The clause whole when short, else its sentence sharing most terms with the question."""
        if whole or len(clause.text) <= WHOLE_QUOTE_CHARS:
            return clause.text
        sentences = split_sentences(clause.text)
        if len(sentences) <= 1:
            return clause.text
        tok = self.index.tokenizer

        def score(s: str) -> float:
            st = set(tok.terms(s))
            return sum(1 for t in terms if t in st)

        return max(sentences, key=score)

    def terms_of(self, q: str) -> list[str]:
        return self.key_terms(q) + [t for e in self.glossary.expand(q) for t in self.index.tokenizer.terms(e)]

    def plain_lead(self, clause_id: str, english: bool, terms: list[str] | None = None) -> str | None:
        """The product's plain explanation of a clause, in the question's language (paraphrases are never quoted).
        An explanation of several sentences leads with those that share the question's terms, in their order
        (「守るべき情報はどう決める？」 is not told that the clause also defines two words); one that shares
        none of them is given whole."""
        for p in self.corpus.plain(clause_id):
            if is_english(p) != english:
                continue
            sentences = split_sentences(p)
            if not terms or len(sentences) < 2:
                return p
            tok = self.index.tokenizer
            wanted = set(terms)
            shared = [len(wanted & set(tok.terms(x))) for x in sentences]
            if not any(shared):
                return p
            return "".join(x for x, n in zip(sentences, shared) if n)
        return None

    def quote_lines(self, clauses: list[Clause], terms: list[str], english: bool, whole: bool = False) -> tuple[list[Citation], list[str]]:
        """Verbatim quotes, each with its clause ID; a sub-item also cites the lead text that says who acts."""
        citations: list[Citation] = []
        lines: list[str] = []
        for clause in clauses:
            quote = self.quote(clause, terms, whole=whole)
            citations.append(Citation(clause.id, clause.doc, quote))
            lines.append("・" + cite(quote, clause.id))
            parent = self.corpus.resolve(clause.parent) if clause.parent else None
            if parent is not None and parent.kind == "item" and all(c.clause_id != parent.id for c in citations):
                citations.append(Citation(parent.id, parent.doc, parent.text))
                lines.append(f"　└ {text('lead.label', english)}" + cite(parent.text, parent.id))
            if clause.is_lead:
                lines.append(f"　└ {text('items.label', english)}: {'、'.join(clause.children)}")
        return citations, lines

    def versions_line(self, citations: list[Citation], english: bool) -> str:
        docs = list(dict.fromkeys(c.doc for c in citations))
        return text("versions", english, versions="、".join(f"{d} {self.corpus.docs[d].manifest.version}" for d in docs))

    def compose(self, q: str, r: Retrieval) -> Answer:
        english = is_english(q)
        chosen = self._pick_clauses(r)
        citations, lines = self.quote_lines(chosen, self.terms_of(q), english, whole=bool(r.explicit))
        cited = {c.clause_id for c in citations}
        related = [h.clause_id for h in r.hits[1:6] if h.clause_id not in cited][:3]
        lead = self.plain_lead(chosen[0].id, english, self.terms_of(q))
        first_doc = self.corpus.docs[chosen[0].doc]
        doc_name = first_doc.doc if first_doc.doc == first_doc.title else f"{first_doc.title}（{first_doc.doc}）"
        parts = ([text("head.answer", english, text=lead), ""] if lead else []) + [text("head.documents", english, doc=doc_name), "", *lines]
        parts += ["", self.versions_line(citations, english)]
        if r.missing:  # 「第4の2の一と第4の9」: the one that exists is quoted, the other named as not found
            parts += ["", self.unknown_clause_text(r.missing, english)]
        if related:
            parts += ["", text("related.ids", english, ids="、".join(related))]
        return Answer(q, "\n".join(parts), False, citations, self.retrieved_rows(r), self.corpus.version, lead=lead)

    def retrieved_rows(self, r: Retrieval) -> list[dict]:
        """The ranked clauses as ask --json reports them (at least the top 5)."""
        return [{"clause_id": h.clause_id, "score": round(h.score, 4)} for h in r.hits[: max(5, self.cfg.retrieval.top_k)]]

    # -- refusals -------------------------------------------------------------------------------------
    def coverage_summary(self, english: bool = False) -> str:
        items = []
        for d in self.corpus.documents:
            heads = [f"{c.label} {c.text}" for c in d.clauses if c.kind == "heading" and c.parent is None]
            items.append(f"「{d.title}」（{d.doc}）: " + "／".join(heads))
        return text("refusal.coverage", english, coverage="；".join(items))

    def related_quotes(self, q: str, r: Retrieval, n: int = 2) -> list[Citation]:
        """What the documents say nearby: shown as related, never as the answer."""
        terms = self.terms_of(q)
        out = []
        for h in r.hits[:n]:
            clause = self.corpus.resolve(h.clause_id)
            out.append(Citation(clause.id, clause.doc, self.quote(clause, terms)))
        return out

    def refusal(self, q: str, r: Retrieval, reason: str, intent: str = "documents") -> Answer:
        english = is_english(q)
        citations: list[Citation] = []
        related: list[Citation] = []
        if reason == "standard_not_loaded":
            citations = self.minimum_set_citation()
            quote = cite(citations[0].quote, citations[0].clause_id) if citations else ""
            body = "\n".join([text("standard.not_loaded", english), text("standard.minimum", english, quote=quote), text("standard.how_to_add", english)])
        else:
            if reason == "unknown_clause":
                body = self.unknown_clause_text(r.missing, english)
            elif reason == "not_stated" and asserted_claim(q):
                body = text("refusal.claim_not_stated", english, claim=asserted_claim(q))
            elif reason == "not_stated":
                body = text("refusal.not_stated", english, what=text(f"ask.{asks_for(q)}", english))
            elif reason == "undefined_term":
                body = text("refusal.undefined_term", english, term=asked_term(q) or "")
            else:
                body = text(f"refusal.{'misuse' if reason == 'injection' else reason}", english)
            if reason in ("not_stated", "undefined_term", "out_of_scope", "unsupported") and r.hits and self.vocabulary_coverage(q) >= self.policy.related_vocabulary:
                related = self.related_quotes(q, r)
                body += "\n\n" + text("head.related", english) + "\n" + "\n".join("・" + cite(c.quote, c.clause_id) for c in related)
            body += "\n" + self.coverage_summary(english)
        return Answer(q, body, True, citations, self.retrieved_rows(r), self.corpus.version, reason, related, intent=intent)

    def unknown_clause_text(self, missing: list[str], english: bool) -> str:
        """The references the documents lack, and the nearest clauses that exist (as IDs: nothing is quoted)."""
        nearest = list(dict.fromkeys(n for m in missing for n in self.corpus.nearest(m)[: self.policy.nearest_clauses]))
        return text("refusal.unknown_clause", english, refs="、".join(missing), nearest="、".join(nearest))

    def minimum_set_citation(self) -> list[Citation]:
        from .minimum import guideline_quote

        found = guideline_quote(self.corpus)
        return [Citation(*found)] if found else []
