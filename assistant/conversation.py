"""The conversation: each turn is routed by its intent to the answerer or to the triage.

Above both: the answerer (answer.py, generate.py) knows nothing of the triage, and the triage
(triage/) nothing of answers. A documents question is answered from the documents; an action
question gets the official text that bears on it, the product's one-sentence explanation, the
product's measures and an offer to run the diagnosis; a triage request starts (or continues)
the diagnosis in the chat, where a side question is answered and the diagnosis carries on;
out-of-scope and misuse turns are refused, saying what the documents do cover.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar, Literal

from .advice import Advice, Advisor
from .advice import lead as action_lead
from .answer import Answer, Answerer, Assistant, Event
from .asks import asks_for, is_question, ordinal_in
from .clause_refs import clause_references
from .config import SHIPPED_CORPUS
from .guard import (
    asks_for_legal_judgement,
    is_english,
    looks_like_injection,
    validate_question,
)
from .intent import Cues, Evidence, Intent, IntentClassifier, IntentDecision
from .retrieve import Retrieval, cited_in, is_followup, last_user_turn, proposed_in
from .texts import text
from .triage.flow import (
    UNKNOWN,
    Question,
    TriageError,
    TriageState,
    forms_in,
    prefill,
    says_unknown,
)
from .triage.profile import firm_profile, profile_line
from .triage.replies import BACK_LABEL, BACK_WORDS
from .triage.session import TriageServices, TriageSession

ACTION_ANCHORS = SHIPPED_CORPUS / "guideline" / "action.json"

ChatAction = Literal["say", "choose", "start_triage", "back", "unknown"]


@dataclass(frozen=True)
class ChatInput:
    """What the user did in the chat: typed something (``say``), pressed a quick reply (``choose``, an
    answer, not a question), or pressed the diagnosis button, 「わからない」 or 「戻る」. The page tells
    them apart by the event, not by comparing the text with a button's label."""

    text: str
    action: ChatAction = "say"
    START_LABEL: ClassVar[str] = "見極め診断を始める"
    # Quick-reply values that are actions, not answers (an answer's value is its option's text).
    START_VALUE: ClassVar[str] = "@start_triage"
    BACK_VALUE: ClassVar[str] = "@back"
    UNKNOWN_VALUE: ClassVar[str] = "@unknown"

    @classmethod
    def option(cls, value: str) -> ChatInput:
        """A pressed quick reply, by its value."""
        actions = {cls.START_VALUE: (cls.START_LABEL, "start_triage"), cls.BACK_VALUE: (BACK_LABEL, "back"), cls.UNKNOWN_VALUE: (UNKNOWN, "unknown")}
        label, action = actions.get(value, (value, "choose"))
        return cls(label, action)


def load_anchors(path: Path = ACTION_ANCHORS) -> list[str]:
    return list(json.loads(path.read_text(encoding="utf-8"))["clauses"])


def order_anchors(clauses: list, scores: dict[str, float], margin: float) -> list:
    """The action clauses in the data file's order (the firm's starting point first); one moves ahead
    only when the question is clearly closer to it (「お金をかけない最初の一歩」 → the minimum set)."""
    out = list(clauses)
    for i in range(1, len(out)):
        j = i
        while j > 0 and scores.get(out[j].id, 0.0) - scores.get(out[j - 1].id, 0.0) > margin:
            out[j - 1], out[j] = out[j], out[j - 1]
            j -= 1
    return out


@dataclass
class ChatServices:
    core: Assistant  # the extractive core: retrieval, quotes, refusals (the answerer may be an LLM on top of it)
    answerer: Answerer
    classifier: IntentClassifier
    advisor: Advisor
    triage: TriageServices
    anchors: list[str] = field(default_factory=load_anchors)
    # A later anchor goes first only when the question is this much closer to it: the guideline's own
    # starting point (見極め) leads unless the question is plainly about the minimum set (set on eval/guide).
    anchor_margin: float = 0.45
    # A clause much closer than every anchor, and close in meaning, is quoted first: it answers more of the question.
    specific_gap: float = 0.3
    specific_dense: float = 0.87
    # A typed 「わからない」-like reply up to this long is the answer 「わからない」 (longer text is read as written).
    unknown_reply_chars: int = 12
    action_fallback: float = 0.3  # a documents question the documents cannot answer is answered as an action question when it had this share of the vote


@dataclass(frozen=True)
class Routing:
    """A turn's route and the retrieval it was decided on: the answer is built from the same retrieval."""

    decision: IntentDecision
    retrieval: Retrieval

    @property
    def intent(self) -> Intent:
        return self.decision.intent


@dataclass
class ChatState:
    """What a chat remembers besides its messages: the diagnosis run in it (shared with the
    見極め診断 tab), and the last turn's intent for follow-ups."""

    triage: dict | None = None  # TriageState.to_dict()
    triage_active: bool = False
    previous_intent: str | None = None
    firm: dict = field(default_factory=dict)  # what the owner said of the firm (triage.profile), for the diagnosis

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: dict | None) -> ChatState:
        d = d or {}
        return cls(d.get("triage"), bool(d.get("triage_active")), d.get("previous_intent"), dict(d.get("firm") or {}))


@dataclass
class Turn:
    state: ChatState
    answer: Answer | None = None  # a reply from the documents (also a side question during the diagnosis)
    question: Question | None = None  # the diagnosis' next question, shown with quick replies
    notice: str = ""  # a message about the diagnosis (started, an answer it could not read…)
    session: TriageSession | None = None  # the diagnosis after this turn (the caller saves it)
    finished: bool = False


class Conversation:
    def __init__(self, services: ChatServices):
        self.s = services

    @property
    def assistant(self) -> Assistant:
        return self.s.core

    # -- routing ---------------------------------------------------------------------------
    def decide(self, question: str, history: list[dict] | None = None, previous: str | None = None) -> Routing:
        """The turn's intent, decided on its retrieval (returned with it: the turn retrieves once)."""
        history = history or []
        if previous is None and cited_in(history):
            previous = "documents"  # the last answer quoted the documents
        a = self.assistant
        cues = Cues(
            instruction=looks_like_injection(question), legal_judgement=asks_for_legal_judgement(question),
            clause_reference=bool(clause_references(question, a.corpus)),  # one that does not exist is declined there
            followup=is_followup(question, history), previous=previous,  # type: ignore[arg-type]
        )
        r = a.retrieve(question, history)
        evidence = Evidence(max((h.dense for h in r.hits[:3]), default=0.0), a.vocabulary_coverage(question), asks_for(question),
                            self.s.advisor.closeness(question))
        # A follow-up (「お金の面ではどう？」) means little alone: it is judged with the question it follows.
        said = f"{last_user_turn(history)} {question}" if cues.followup and last_user_turn(history) else question
        return Routing(self.s.classifier.classify(said, cues, evidence), r)

    def ask(self, question: str, history: list[dict] | None = None, previous: str | None = None, routing: Routing | None = None,
            offer: bool = True) -> Answer:
        """One question and its answer (ask --json, the REST API, the eval): the same routing as the chat.
        ``offer``: an action answer offers the diagnosis (not when one is running)."""
        final = None
        for event in self.stream(question, history, previous, routing, offer):
            if event.kind == "final":
                final = event.answer
        return final

    def stream(self, question: str, history: list[dict] | None = None, previous: str | None = None,
               routing: Routing | None = None, offer: bool = True) -> Iterator[Event]:
        q = validate_question(question, self.assistant.cfg.max_question_chars)
        history = history or []
        routing = routing or self.decide(q, history, previous)
        d, r = routing.decision, routing.retrieval
        intent: Intent = d.intent
        if intent == "documents":
            for event in self.s.answerer.stream(q, history, r):
                if event.kind == "final":
                    a = event.answer
                    if a.refused and a.refusal_reason == "unsupported" and d.votes.get("action", 0.0) >= self.s.action_fallback:
                        # Nothing in the documents answers it, but it was nearly an action question: the
                        # product's advice helps where a quote cannot (「うちは町工場です。何から？」).
                        event = Event("final", answer=self.action(q, r, history, offer))
                    else:
                        event = Event("final", answer=replace(a, intent="documents"))
                yield event
            return
        if intent == "action":
            yield Event("final", answer=self.action(q, r, history, offer))
            return
        if intent == "triage":
            yield Event("final", answer=self.triage_answer(q, r))
            return
        reason = "misuse" if intent == "misuse" else ("legal_judgement" if d.cue == "legal_judgement" else self._out_of_scope_reason(q, r))
        yield Event("final", answer=self.assistant.refusal(q, r, reason, intent))

    def _out_of_scope_reason(self, q: str, r) -> str:
        signals = self.assistant.signals(q, r)
        if signals.asks is not None and not signals.answerable:
            return "undefined_term" if signals.asks == "definition" else "not_stated"
        if not signals.claim_stated:
            return "not_stated"
        return "out_of_scope"

    # -- action questions ----------------------------------------------------------------------------
    def advise(self, q: str, history: list[dict] | None = None) -> tuple[list[Advice], tuple[str, ...]]:
        """The measures for an action question. A follow-up is advised with the question it follows
        (「データの場合は？」 after a question on customers' drawings), and one that points at an item of
        the previous answer's list (「2番目のはどうやるの？」) gets that measure first; both read the
        previous turns as data (their text and the measures they proposed), not the rendered answer.
        Returns the advice, and the measures the previous answer listed when the question pointed past
        its end (「2番目の」 after a list of one), so the answer says how many there were."""
        history = history or []
        advisor = self.s.advisor
        previous = last_user_turn(history)
        follows = bool(previous) and is_followup(q, history)
        advice = advisor.advise(f"{previous} {q}" if follows else q)
        place, proposed = ordinal_in(q), proposed_in(history)
        if place is None or not proposed:
            return advice, ()
        if not -len(proposed) <= (place - 1 if place > 0 else place) < len(proposed):
            return advice, tuple(proposed)
        pointed = proposed[place - 1 if place > 0 else place]
        if pointed in advisor.catalogue.by_id:
            advice = [advisor.one(pointed), *(x for x in advice if x.measure_id != pointed)][: advisor.policy.count]
        return advice, ()

    def action(self, q: str, r: Retrieval, history: list[dict] | None = None, offer: bool = True) -> Answer:
        a = self.assistant
        english = is_english(q)
        scores = {h.clause_id: h.score for h in r.hits}
        clauses = order_anchors([a.corpus.resolve(c) for c in self.s.anchors if a.corpus.exists(c)], scores, self.s.anchor_margin)
        top = r.hits[0] if r.hits else None
        if (top and top.clause_id not in {c.id for c in clauses} and top.dense >= self.s.specific_dense
                and top.score - max(scores.get(c.id, 0.0) for c in clauses) >= self.s.specific_gap):
            clauses.insert(0, a.corpus.resolve(top.clause_id))
        clauses += self._standard_clauses(q)
        citations, lines = a.quote_lines(clauses, a.terms_of(q), english)
        advice, listed = self.advise(q, history)
        # What to do comes first, as an adviser answers: the lead is built from the measures ranked for
        # this question, then the measures, then the official text that frames them, as evidence.
        lead = action_lead([self.s.advisor.catalogue[x.measure_id] for x in advice], english)
        parts = ([text("head.answer_advice", english, text=lead), ""] if lead else [])
        if listed:  # 「2番目の」 after a list of one: say what the list held rather than answer as if it had more
            parts += [text("advice.past_the_list", english, count=len(listed), ids="、".join(listed)), ""]
        if advice:
            parts += [text("head.advice", english)]
            parts += [text("advice.item", english, id=x.measure_id, title=x.title, cost=x.cost_tier, effort=x.effort) for x in advice]
            parts += [""]
        parts += [text("head.official", english), *lines, "", a.versions_line(citations, english)]
        if offer:  # not during a diagnosis: it is running already
            parts += ["", text("offer.triage", english)]
        cited = [c.id for c in clauses]
        retrieved = [{"clause_id": cid, "score": 1.0} for cid in cited] + [row for row in a.retrieved_rows(r) if row["clause_id"] not in cited]
        return Answer(q, "\n".join(parts), False, citations, retrieved[: max(5, len(cited))], a.corpus.version, intent="action",
                      lead=lead, advice=advice, offer="triage" if offer else None)

    def _standard_clauses(self, q: str) -> list:
        """With the standard loaded: the lead texts of its parts for the forms the question names."""
        from .minimum import FORM_PARTS, MinimumSetError, known_forms, minimum_set

        corpus = self.assistant.corpus
        if not corpus.has_doc("基準"):
            return []
        forms = forms_in(q)
        mapping = self.s.triage.flow.rubric.standard_forms
        available = known_forms(corpus.docs["基準"])
        wanted = [n for f in forms for n in [f, *mapping.get(f, [])] if n in available]
        if not wanted:
            return []
        try:
            found = minimum_set(corpus, "基準", list(dict.fromkeys(wanted)))
        except MinimumSetError:
            return []
        parts = {f"基準{p}" for p in FORM_PARTS}
        return [corpus.resolve(c["clause_id"]) for c in found.clauses if c["clause_id"] in parts]

    def triage_answer(self, q: str, r: Retrieval) -> Answer:
        """A request for the diagnosis, answered in words (ask --json); the chat starts it (reply)."""
        a = self.assistant
        body = text("triage.start", is_english(q))
        return Answer(q, body, False, [], a.retrieved_rows(r), a.corpus.version, intent="triage")

    # -- the chat, with the diagnosis inside it -------------------------------------------------------
    def reply(self, said: ChatInput | str, history: list[dict], state: ChatState, session: TriageSession | None = None) -> Turn:
        """One chat turn (a plain string is typed text)."""
        said = ChatInput(said) if isinstance(said, str) else said
        session = session or TriageSession(self.s.triage, TriageState.from_dict(state.triage) if state.triage else TriageState())
        if said.action == "start_triage":
            return self._start(state, session)
        if state.triage_active and not session.finished:
            return self._triage_turn(said, history, state, session)
        q = validate_question(said.text, self.assistant.cfg.max_question_chars)
        # 「金属部品の下請けで社員12人です」: what the owner says of the firm is kept for the diagnosis and shown back.
        profile = firm_profile(q, self.s.triage.flow.firm_questions)
        learned = {k: v for k, v in profile.items() if state.firm.get(k) != v}
        state = replace(state, firm={**state.firm, **profile})
        routing = self.decide(q, history, state.previous_intent)
        if routing.intent == "triage":
            return self._start(state, session)
        a = self.ask(q, history, state.previous_intent, routing)
        notice = text("firm.learned", is_english(q), line=profile_line(learned)) if learned else ""
        return Turn(replace(state, previous_intent=a.intent), answer=a, session=session, notice=notice)

    def _start(self, state: ChatState, session: TriageSession) -> Turn:
        if session.finished and session.started:
            session = replace(session, state=TriageState())  # a finished one: a new diagnosis
        notice = text("triage.resume") if session.started else text("triage.start")
        filled, applied = prefill(session.state, self.s.triage.flow, state.firm)
        if applied:
            session = replace(session, state=filled)
            notice += "\n" + text("triage.prefilled", line=profile_line(applied))
        new = replace(state, triage=session.state.to_dict(), triage_active=True, previous_intent="triage")
        return Turn(new, question=session.question, notice=notice, session=session)

    def _triage_turn(self, said: ChatInput, history: list[dict], state: ChatState, session: TriageSession) -> Turn:
        m = said.text.strip()
        typed = said.action == "say"
        try:
            if said.action == "back" or (typed and m in BACK_WORDS):
                session = session.back()
            elif said.action == "unknown" or (typed and says_unknown(m) and len(m) <= self.s.unknown_reply_chars):
                session = session.unknown()
            elif typed and self._side_question(m, session.question):
                a = self.ask(m, history, state.previous_intent, offer=False)
                return Turn(state, answer=a, question=session.question, notice=text("triage.side"), session=session)
            else:
                session = session.answer(self._value(m, session.question))
        except TriageError as exc:
            return Turn(state, question=session.question, notice=f"⚠️ {exc}", session=session)
        new = replace(state, triage=session.state.to_dict(), triage_active=not session.finished)
        return Turn(new, question=session.question, session=session, finished=session.finished)

    @staticmethod
    def _side_question(message: str, q: Question | None) -> bool:
        """Free text that asks something is a side question, not an answer (quick replies are answers)."""
        if q is None or message in q.options or message == UNKNOWN:
            return False
        return is_question(message)

    @staticmethod
    def _value(message: str, q: Question | None):
        """A quick reply for a multi-choice question answers with that one option; free text is read as written."""
        if q is not None and q.kind in ("multi", "forms", "batch", "items") and message in q.options:
            return [message]
        return message
