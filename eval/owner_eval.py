"""What an owner reads (#21): does the answer answer the question asked?

Three kinds of gold case, written blind in ``eval/owner/`` (see its README):

- **action**: an owner's "what should we do" question. Scored: the first measure proposed is on the
  question's topic; the lead (the first sentences) speaks of the topic; how many characters come
  before the product's advice.
- **followup**: a short conversation whose last turn only makes sense with the earlier ones. Played
  through ``Conversation.reply`` turn by turn, as the page plays them, with the turns kept as data.
  Resolved: the gold clause is cited (documents), the first measure is on topic (action), or the
  answer says the documents do not hold it (not_stated).
- **firm**: an owner introduces the firm, then starts the diagnosis in the chat. Scored: the share of
  the profile fields the introduction stated that the diagnosis does not ask again.

Each metric is a small pure function of one case and what the assistant returned; ``run`` plays the
cases and ``summary`` averages them. Gated in CI by ``[owner_gate]`` in thresholds.toml.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from assistant.jsonl import read_jsonl

ADVICE_HEAD = "【製品の助言】"
FIRM_FIELDS = ("industry", "size", "collaboration")
_SENTENCE_END = re.compile(r"(?<=[。！？!?])|\n")


class OwnerCaseError(ValueError):
    """A case file that does not follow the format; the message names file and line."""


@dataclass(frozen=True)
class ActionCase:
    id: str
    question: str
    topic_measures: tuple[str, ...]
    topic_words: tuple[str, ...]
    lead_words: tuple[str, ...]
    held_out: bool


@dataclass(frozen=True)
class FollowupCase:
    id: str
    turns: tuple[str, ...]
    kind: str  # documents | action | not_stated
    gold_clauses: tuple[str, ...]
    topic_measures: tuple[str, ...]
    topic_words: tuple[str, ...]
    expect_refusal: bool
    held_out: bool


@dataclass(frozen=True)
class FirmCase:
    id: str
    text: str
    profile: dict
    held_out: bool


Case = ActionCase | FollowupCase | FirmCase


def load(paths: list[Path]) -> list[Case]:
    """The cases of each file, by the fields its rows carry; a file named *_holdout* is held out."""
    out: list[Case] = []
    seen: set[str] = set()
    for path in paths:
        held = "holdout" in Path(path).name
        for where, row in read_jsonl(path, OwnerCaseError):
            if not isinstance(row, dict) or not isinstance(row.get("id"), str):
                raise OwnerCaseError(f"{where}: id のあるオブジェクトではありません")
            if row["id"] in seen:
                raise OwnerCaseError(f"{where}: id {row['id']} が重複しています")
            seen.add(row["id"])
            try:
                if "question" in row:
                    out.append(ActionCase(row["id"], row["question"], tuple(row["topic_measures"]), tuple(row["topic_words"]),
                                          tuple(row["lead_words"]), held))
                elif "turns" in row:
                    out.append(FollowupCase(row["id"], tuple(row["turns"]), row["kind"], tuple(row["gold_clauses"]),
                                            tuple(row["topic_measures"]), tuple(row["topic_words"]), bool(row["expect_refusal"]), held))
                elif "text" in row:
                    out.append(FirmCase(row["id"], row["text"], dict(row["profile"]), held))
                else:
                    raise KeyError("question / turns / text")
            except (KeyError, TypeError) as exc:
                raise OwnerCaseError(f"{where}: 欄が足りません（{exc}）") from exc
    return out


# -- metrics: pure functions of a case and what came back -------------------------------------------
def measure_on_topic(measure_id: str | None, measure_text: str, topic_measures: tuple[str, ...], topic_words: tuple[str, ...]) -> bool:
    """The measure is one an adviser accepts for the question, or its text speaks of the topic."""
    if measure_id is None:
        return False
    return measure_id in topic_measures or any(w in measure_text for w in topic_words)


def lead_of(answer: str, sentences: int = 3) -> str:
    """The first sentences of an answer, without its bracketed section labels (【答え】…)."""
    body = re.sub(r"【[^】]{1,12}】", "", answer)
    parts = [p.strip() for p in _SENTENCE_END.split(body) if p and p.strip()]
    return "".join(parts[:sentences])


def lead_on_topic(answer: str, lead_words: tuple[str, ...]) -> bool:
    lead = lead_of(answer).lower()
    return any(w.lower() in lead for w in lead_words)


def chars_before_advice(answer: str) -> int:
    """How much an owner reads before the product's advice (all of it when there is none)."""
    at = answer.find(ADVICE_HEAD)
    return at if at >= 0 else len(answer)


def fields_carried(stated: dict, asked: set[str]) -> tuple[int, int]:
    """(carried, stated): the profile fields the owner stated that the diagnosis did not ask again."""
    named = [f for f in FIRM_FIELDS if stated.get(f)]
    return sum(f not in asked for f in named), len(named)


# -- playing the cases ------------------------------------------------------------------------------
@dataclass
class Result:
    id: str
    kind: str
    held_out: bool
    scores: dict = field(default_factory=dict)
    detail: dict = field(default_factory=dict)


def _measure_text(catalogue, measure_id: str | None) -> str:
    if measure_id is None or measure_id not in catalogue.by_id:
        return ""
    m = catalogue[measure_id]
    return f"{m.title} {m.what} {m.how_small}"


def _first_measure(answer) -> str | None:
    return answer.advice[0].measure_id if answer is not None and answer.advice else None


def run_action(conversation, catalogue, case: ActionCase) -> Result:
    a = conversation.ask(case.question)
    first = _first_measure(a)
    return Result(case.id, "action", case.held_out, {
        "first_measure_on_topic": measure_on_topic(first, _measure_text(catalogue, first), case.topic_measures, case.topic_words),
        "lead_on_topic": lead_on_topic(a.answer, case.lead_words),
        "chars_before_advice": chars_before_advice(a.answer),
    }, {"first_measure": first, "intent": a.intent})


def run_followup(conversation, catalogue, corpus, case: FollowupCase) -> Result:
    from assistant.conversation import ChatState
    from assistant.corpus import satisfies

    history: list[dict] = []
    state, answer = ChatState(), None
    for said in case.turns:
        turn = conversation.reply(said, history, state)
        state, answer = turn.state, turn.answer
        history += [{"role": "user", "content": said},
                    {"role": "assistant", "content": answer.answer if answer else turn.notice,
                     "citations": [c.clause_id for c in answer.citations] if answer else [],
                     "measures": [x.measure_id for x in answer.advice] if answer else []}]
    if answer is None:
        resolved = False
    elif case.kind == "not_stated":
        resolved = answer.refused
    elif case.kind == "documents":
        resolved = not answer.refused and any(satisfies(g, c.clause_id) for g in case.gold_clauses for c in answer.citations)
    else:
        first = _first_measure(answer)
        resolved = measure_on_topic(first, _measure_text(catalogue, first), case.topic_measures, case.topic_words)
    return Result(case.id, "followup", case.held_out, {"followup_resolved": resolved},
                  {"kind": case.kind, "intent": answer.intent if answer else None,
                   "cited": [c.clause_id for c in answer.citations] if answer else []})


def run_firm(conversation, case: FirmCase) -> Result:
    """The introduction, then 見極め診断 started in the chat; the firm's questions are answered
    「わからない」 (or a placeholder name) until the diagnosis reaches the information itself."""
    from assistant.conversation import ChatInput, ChatState

    history: list[dict] = []
    turn = conversation.reply(case.text, history, ChatState())
    history += [{"role": "user", "content": case.text}, {"role": "assistant", "content": turn.answer.answer if turn.answer else turn.notice}]
    turn = conversation.reply(ChatInput("", "start_triage"), history, turn.state, turn.session)
    asked: set[str] = set()
    for _ in range(10):
        q = turn.question
        if q is None or not q.id.startswith("firm."):
            break
        asked.add(q.field)
        said = ChatInput("架空の会社") if q.kind == "text" else ChatInput("", "unknown")
        turn = conversation.reply(said, history, turn.state, turn.session)
    carried, stated = fields_carried(case.profile, asked)
    return Result(case.id, "firm", case.held_out, {"profile_fields_carried": carried / stated if stated else None},
                  {"asked_again": sorted(asked & {f for f in FIRM_FIELDS if case.profile.get(f)})})


def run(conversation, cases: list[Case], progress: bool = True) -> list[Result]:
    from assistant.triage.catalogue import Catalogue

    catalogue = Catalogue.load()
    corpus = conversation.assistant.corpus
    out = []
    for i, case in enumerate(cases, start=1):
        if isinstance(case, ActionCase):
            out.append(run_action(conversation, catalogue, case))
        elif isinstance(case, FollowupCase):
            out.append(run_followup(conversation, catalogue, corpus, case))
        else:
            out.append(run_firm(conversation, case))
        if progress:
            print(f"\r評価中 [owner] {i}/{len(cases)}", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return out


def summary(results: list[Result]) -> dict:
    """Means per metric, for the dev and the held-out parts apart (a held-out part is never tuned on)."""
    out: dict = {}
    for part, held in (("dev", False), ("held_out", True)):
        rows = [r for r in results if r.held_out == held]
        if not rows:
            continue
        s: dict = {}
        for key in ("first_measure_on_topic", "lead_on_topic", "followup_resolved", "profile_fields_carried"):
            values = [float(r.scores[key]) for r in rows if r.scores.get(key) is not None]
            if values:
                s[key] = round(sum(values) / len(values), 3)
                s[f"{key}_n"] = len(values)
        chars = sorted(r.scores["chars_before_advice"] for r in rows if "chars_before_advice" in r.scores)
        if chars:
            s["chars_before_advice_median"] = chars[len(chars) // 2]
        out[part] = s
    return out


def check_gate(s: dict, gate: dict) -> list[str]:
    """Floors (a ``_max`` suffix: ceilings) on the dev part's summary."""
    missed = []
    for key, bound in gate.items():
        name, ceiling = (key[:-4], True) if key.endswith("_max") else (key, False)
        value = s.get(name)
        if value is None or (value > bound if ceiling else value < bound):
            missed.append(f"{name} {value} ({'≤' if ceiling else '≥'} {bound})")
    return missed


def main(argv: list[str] | None = None) -> int:
    from assistant.config import Config
    from assistant.runtime import open_conversation

    p = argparse.ArgumentParser(prog="python -m eval.owner_eval", description="オーナーの質問への答え方の評価（#21）")
    p.add_argument("--sets", nargs="+", type=Path, required=True, help="eval/owner/*.jsonl")
    p.add_argument("--json", type=Path, help="結果を JSON で書き出す")
    p.add_argument("--gate", action="store_true", help="thresholds.toml の [owner_gate] で dev 部分を判定する")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    try:
        cases = load(args.sets)
    except OwnerCaseError as exc:
        print(f"エラー: {exc}", file=sys.stderr)
        return 2
    conversation = open_conversation(Config.from_env(), lambda s: print(s, file=sys.stderr))
    results = run(conversation, cases, progress=not args.quiet)
    s = summary(results)
    print(json.dumps(s, ensure_ascii=False, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"summary": s, "cases": [r.__dict__ for r in results]}, ensure_ascii=False, indent=2), encoding="utf-8")
    if args.gate:
        import tomllib

        from .harness import DEFAULT_THRESHOLDS

        gate = tomllib.loads(DEFAULT_THRESHOLDS.read_text(encoding="utf-8")).get("owner_gate", {})
        missed = check_gate(s.get("dev", {}), gate)
        if missed:
            print("ゲート不合格: " + "; ".join(missed), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
