"""Run gold cases through the same public functions as the CLI, score them, gate on thresholds."""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from assistant.config import Config, ConfigError
from assistant.corpus import CorpusError
from assistant.guard import QuestionError
from assistant.jsonl import read_jsonl

from . import metrics as m
from .report import markdown_report, svg_chart, terminal_table

EVAL_DIR = Path(__file__).resolve().parent
DEFAULT_THRESHOLDS = EVAL_DIR / "thresholds.toml"
SHIPPED = "hybrid"

# Named configurations compared side by side: each is a change to the shipped Config.
CONFIGS = {
    "hybrid": {},
    "dense": {"mode": "dense", "explicit_refs": False, "glossary": False},
    "bm25": {"mode": "bm25", "explicit_refs": False, "glossary": False},
    "hybrid-no-glossary": {"glossary": False},
    "hybrid-no-refs": {"explicit_refs": False},
    "hybrid-no-examples": {"examples_weight": 0.0},  # dense ranking without the example questions (BM25 keeps them)
    "llm": {},  # the shipped retrieval with the language model configured by ASSISTANT_LLM*
}


class CaseError(ValueError):
    """A case file that does not follow the format; the message names file and line."""


INTENTS = ("documents", "action", "triage", "out_of_scope", "misuse")


@dataclass
class Case:
    id: str
    question: str
    gold_clauses: list[str]
    must_include: list[str]
    expect_refusal: bool
    history: list[dict] = field(default_factory=list)
    source: str = ""
    intent: str | None = None  # documents | action | triage | out_of_scope | misuse (absent: not checked)
    expect_advice: list[str] = field(default_factory=list)  # measure keys the product's advice must cover
    expect_offer: bool | None = None  # the answer offers the diagnosis


def load_cases(paths: list[Path]) -> list[Case]:
    cases: list[Case] = []
    seen: set[str] = set()
    for path in paths:
        for where, raw in read_jsonl(path, CaseError):
            cases.append(_case(raw, where, seen))
    if not cases:
        raise CaseError("評価ケースが一つもありません。--cases に JSONL ファイルを指定してください。")
    return cases


def _case(raw: object, where: str, seen: set[str]) -> Case:
    if not isinstance(raw, dict):
        raise CaseError(f"{where}: 1 行に 1 つの JSON オブジェクトを書いてください")
    need = {"id": str, "question": str, "gold_clauses": list, "must_include": list, "expect_refusal": bool}
    for key, typ in need.items():
        if key not in raw:
            raise CaseError(f"{where}: 必須の項目 {key} がありません")
        if not isinstance(raw[key], typ):
            raise CaseError(f"{where}: 項目 {key} の型が違います（{typ.__name__} が必要）")
    history = raw.get("history", [])
    if not isinstance(history, list) or any(
        not isinstance(t, dict) or t.get("role") not in ("user", "assistant") or not isinstance(t.get("content"), str)
        for t in history
    ):
        raise CaseError(f"{where}: history は {{\"role\": \"user\"|\"assistant\", \"content\": 文字列}} の配列です")
    if raw["id"] in seen:
        raise CaseError(f"{where}: id {raw['id']} が重複しています")
    seen.add(raw["id"])
    intent = raw.get("intent")
    if intent is not None and intent not in INTENTS:
        raise CaseError(f"{where}: intent は {', '.join(INTENTS)} のいずれかです")
    if not raw["expect_refusal"] and not raw["gold_clauses"] and intent != "triage":
        raise CaseError(f"{where}: 回答すべきケースには gold_clauses が必要です")
    advice = raw.get("expect_advice", [])
    offer = raw.get("expect_offer")
    if not isinstance(advice, list) or (offer is not None and not isinstance(offer, bool)):
        raise CaseError(f"{where}: expect_advice は配列、expect_offer は true/false です")
    return Case(raw["id"], raw["question"], raw["gold_clauses"], raw["must_include"], raw["expect_refusal"], history, where, intent, advice, offer)


@dataclass
class CaseResult:
    case: Case
    refused: bool
    ranked: list[str]
    cited: list[str]
    answer: str
    seconds: float
    scores: dict
    problems: list[str]

    @property
    def failed(self) -> bool:
        return bool(self.problems)


def score_case(case: Case, out: dict, corpus, seconds: float) -> CaseResult:
    """Score one answer in the public ``ask --json`` shape against its case."""
    ranked = [r["clause_id"] for r in out["retrieved"]]
    cited = [c["clause_id"] for c in out["citations"]]
    refused = bool(out["refused"])

    def text_of(cid: str) -> str | None:
        c = corpus.resolve(cid)
        return c.text if c else None

    ok, total, quote_problems = m.quote_check(out["citations"] + out.get("related", []), text_of)
    scores: dict = {"quotes_ok": ok, "quotes": total, "hard_fail": any("存在しない" in p for p in quote_problems)}
    problems = list(quote_problems)
    if case.intent is not None:
        scores["intent_ok"] = out.get("intent") == case.intent
        if not scores["intent_ok"]:
            problems.append(f"意図が違う（期待 {case.intent}、結果 {out.get('intent')}）")
    if case.expect_advice:
        scores["advice"] = m.advice_recall(case.expect_advice, out.get("advice_keys", []))
        if scores["advice"] < 1.0:
            problems.append("期待した製品の助言がない")
    if case.expect_offer is not None:
        scores["offer_ok"] = (out.get("offer") == "triage") == case.expect_offer
        if not scores["offer_ok"]:
            problems.append("見極め診断の提案の有無が違う")
    if case.expect_refusal:
        if not refused:
            problems.append("拒否すべき質問に回答した")
    elif case.intent == "triage":
        if refused:
            problems.append("回答すべき質問を拒否した")
    else:
        scores.update(
            r1=m.recall_at(case.gold_clauses, ranked, 1),
            r5=m.recall_at(case.gold_clauses, ranked, 5),
            mrr=m.mrr(case.gold_clauses, ranked),
            ndcg5=m.ndcg_at(case.gold_clauses, ranked, 5),
            cit_p=m.citation_precision(case.gold_clauses, cited, corpus.ancestors),
            cit_r=m.citation_recall(case.gold_clauses, cited),
            must=m.must_include_coverage(out["answer"], case.must_include),
        )
        if refused:
            problems.append("回答すべき質問を拒否した")
        if scores["r1"] < 1.0:
            problems.append("正解条項が1位でない")
        if scores["r5"] < 1.0:
            problems.append("正解条項が上位5件にない")
        if scores["must"] is not None and scores["must"] < 1.0:
            problems.append("must_include の語句が回答にない")
    return CaseResult(case, refused, ranked, cited, out["answer"], seconds, scores, problems)


def aggregate(results: list[CaseResult]) -> dict:
    ans = [r for r in results if not r.case.expect_refusal]
    ref = [r for r in results if r.case.expect_refusal]

    def mean(key: str, rows: list[CaseResult]) -> float | None:
        vals = [r.scores[key] for r in rows if r.scores.get(key) is not None]
        return sum(vals) / len(vals) if vals else None

    quotes = sum(r.scores["quotes"] for r in results)
    lat = [r.seconds * 1000 for r in results]
    labelled = [r for r in results if r.case.intent is not None]
    per_intent = {}
    for intent in INTENTS:
        rows = [r for r in labelled if r.case.intent == intent]
        if not rows:
            continue
        answer_rows = [r for r in rows if not r.case.expect_refusal and r.case.gold_clauses]
        per_intent[intent] = {
            "cases": len(rows),
            "intent_accuracy": sum(r.scores["intent_ok"] for r in rows) / len(rows),
            "recall_at_1": mean("r1", answer_rows),
            "refused": sum(r.refused for r in rows) / len(rows),
            "advice_recall": mean("advice", rows),
        }
    return {
        "cases": len(results),
        "answerable": len(ans),
        "refusal_cases": len(ref),
        "recall_at_1": mean("r1", ans),
        "recall_at_5": mean("r5", ans),
        "mrr": mean("mrr", ans),
        "ndcg_at_5": mean("ndcg5", ans),
        "citation_precision": mean("cit_p", ans),
        "citation_recall": mean("cit_r", ans),
        "quote_fidelity": (sum(r.scores["quotes_ok"] for r in results) / quotes) if quotes else 1.0,
        "unknown_clause_ids": sum(1 for r in results if r.scores["hard_fail"]),
        "must_include": mean("must", ans),
        "correct_refusal_rate": (sum(r.refused for r in ref) / len(ref)) if ref else None,
        "false_refusal_rate": (sum(r.refused for r in ans) / len(ans)) if ans else None,
        "llm_answer_rate": (sum(1 for r in results if r.scores.get("generator") == "llm") / len(results)) if any(r.scores.get("generator") for r in results) else None,
        "intent_accuracy": (sum(r.scores["intent_ok"] for r in labelled) / len(labelled)) if labelled else None,
        "advice_recall": mean("advice", results),
        "offer_accuracy": (sum(r.scores["offer_ok"] for r in results if "offer_ok" in r.scores) / n_offer) if (n_offer := sum(1 for r in results if "offer_ok" in r.scores)) else None,
        "per_intent": per_intent,
        "latency_p50_ms": m.percentile(lat, 50),
        "latency_p95_ms": m.percentile(lat, 95),
    }


def run_config(conversation, name: str, cases: list[Case], progress: bool = True) -> list[CaseResult]:
    """Every case through ``Conversation.ask`` — the function behind ``ask --json`` — with the
    configuration's answerer in place of the shipped one."""
    from dataclasses import replace

    from assistant.answer import Assistant
    from assistant.conversation import Conversation

    assistant = conversation.assistant
    changes = dict(CONFIGS[name])
    use_glossary = changes.pop("glossary", True)
    cfg = assistant.cfg.with_retrieval(**changes)
    variant = Assistant(cfg, assistant.corpus, assistant.index, assistant.glossary if use_glossary else type(assistant.glossary)({}), assistant.policy)
    core = variant
    if name == "llm":
        from assistant.generate import FallbackAnswerer, LLMAnswerer
        from assistant.llm import LLMUnavailable, make_chat_model

        if not cfg.llm.enabled:
            raise CaseError("構成 llm には言語モデルの設定が必要です（ASSISTANT_LLM、ASSISTANT_LLM_MODEL／ASSISTANT_LLM_GGUF など。README 参照）")
        try:
            variant = LLMAnswerer(variant, make_chat_model(cfg.llm), cfg.llm.timeout_s)
        except LLMUnavailable as exc:
            variant = FallbackAnswerer(variant, str(exc))
    talk = Conversation(replace(conversation.s, core=core, answerer=variant))
    clear = getattr(assistant.index.embedder.embed_query, "cache_clear", None)
    if clear:
        clear()  # each configuration pays for its own query embeddings: latencies stay comparable
    results = []
    for i, case in enumerate(cases, start=1):
        start = time.perf_counter()
        try:
            answer = talk.ask(case.question, case.history)
            out = answer.to_json()
            out["advice_keys"] = sorted({k for a in answer.advice for k in a.keys})
        except QuestionError as exc:
            out = {"answer": str(exc), "refused": True, "citations": [], "retrieved": []}
        result = score_case(case, out, assistant.corpus, time.perf_counter() - start)
        result.scores["generator"] = out.get("generator")
        results.append(result)
        if progress:
            print(f"\r評価中 [{name}] {i}/{len(cases)}", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return results


def load_thresholds(path: Path, table: str = "gate") -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))[table]
    except (OSError, ValueError, KeyError) as exc:
        raise CaseError(f"閾値ファイル {path} を読めません（[{table}] 表が必要です）: {exc}") from exc


def check_gate(summary: dict, thresholds: dict) -> list[str]:
    """Every missed threshold, in words. Keys ending in _max are upper bounds, others lower."""
    missed = []
    for key, bound in thresholds.items():
        metric = key[:-4] if key.endswith(("_max", "_min")) else key
        value = summary.get(metric)
        if value is None:
            continue
        if key.endswith("_max") and value > bound:
            missed.append(f"{metric} = {value:.3f} > {bound}")
        elif not key.endswith("_max") and value < bound:
            missed.append(f"{metric} = {value:.3f} < {bound}")
    return missed


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m eval", description="TICS Assistant の忠実性評価")
    p.add_argument("--cases", nargs="+", default=[], type=Path, help="評価ケース（JSONL）")
    p.add_argument("--triage", nargs="+", default=[], type=Path, help="見極め診断のシナリオ（JSONL）")
    p.add_argument("--config", default=None, help=f"一つの構成を評価（{', '.join(CONFIGS)}）")
    p.add_argument("--compare", default=None, help="複数の構成をカンマ区切りで並べて評価")
    p.add_argument("--json", type=Path, help="JSON レポートの出力先")
    p.add_argument("--md", type=Path, help="Markdown レポートの出力先（同名の .svg グラフも出力）")
    p.add_argument("--thresholds", type=Path, default=DEFAULT_THRESHOLDS, help="CI ゲートの閾値ファイル")
    p.add_argument("--gate-table", default="gate", help="閾値ファイルの表（gate: 指針の金標準、guide_gate: 相談の金標準）")
    p.add_argument("--no-gate", action="store_true", help="閾値で失敗させない")
    p.add_argument("--baseline", type=Path, help="以前の --json レポート: 結果が変わったケース（直った・壊れた）を一覧にする")
    p.add_argument("--quiet", action="store_true", help="進捗を表示しない")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.cases and not args.triage:
        print("エラー: --cases（質問のケース）か --triage（診断のシナリオ）を指定してください。", file=sys.stderr)
        return 2
    names = args.compare.split(",") if args.compare else [args.config or SHIPPED]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        print(f"エラー: 不明な構成 {', '.join(unknown)}（使える構成: {', '.join(CONFIGS)}）", file=sys.stderr)
        return 2
    from .triage_eval import ScenarioError, load_scenarios

    try:
        cases = load_cases(args.cases) if args.cases else []
        scenarios = load_scenarios(args.triage) if args.triage else []
        thresholds = {} if args.no_gate or not cases else load_thresholds(args.thresholds, args.gate_table)
        triage_thresholds = {} if args.no_gate or not scenarios else load_thresholds(args.thresholds, "triage_gate")
        from assistant.runtime import open_conversation

        conversation = open_conversation(Config.from_env(), lambda s: print(s, file=sys.stderr))
        assistant = conversation.assistant
        unknown_gold = sorted({g for c in cases for g in c.gold_clauses if not assistant.corpus.exists(g)})
        if unknown_gold:
            raise CaseError(f"gold_clauses に存在しない条項IDがあります: {', '.join(unknown_gold)}")
    except (CaseError, ConfigError, CorpusError, ScenarioError) as exc:
        print(f"エラー: {exc}", file=sys.stderr)
        return 2

    runs = {}
    try:
        for name in names if cases else []:
            results = run_config(conversation, name, cases, progress=not args.quiet)
            runs[name] = {"summary": aggregate(results), "results": results}
    except CaseError as exc:
        print(f"エラー: {exc}", file=sys.stderr)
        return 2
    gated = SHIPPED if SHIPPED in runs else (names[0] if runs else None)
    missed = check_gate(runs[gated]["summary"], thresholds) if gated else []

    triage_report = None
    if scenarios:
        from . import triage_eval

        try:
            t_results = triage_eval.run(scenarios, assistant.corpus)
        except ScenarioError as exc:
            print(f"エラー: {exc}", file=sys.stderr)
            return 2
        t_summary = triage_eval.summary(t_results)
        missed += [f"triage {m}" for m in check_gate(t_summary, triage_thresholds)]
        triage_report = {"summary": t_summary, "scenarios": [r.to_dict() for r in t_results]}
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    baseline = None
    if args.baseline and gated:
        try:
            old = json.loads(args.baseline.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            print(f"エラー: 比較するレポート {args.baseline} を読めません（{exc}）", file=sys.stderr)
            return 2
        baseline = compare_with_baseline(old, gated, runs[gated]["results"])
    report = {
        "corpus_version": assistant.corpus.version,
        "cases": [str(p) for p in args.cases + args.triage],
        "peak_rss_mb": round(peak_rss_mb, 1),
        "gated_config": gated,
        "thresholds": {**thresholds, **{f"triage.{k}": v for k, v in triage_thresholds.items()}},
        "gate_missed": missed,
        "configs": {
            n: {
                "summary": r["summary"],
                "failures": [_failure(x) for x in r["results"] if x.failed],
                "per_case": [_per_case(x) for x in r["results"]],
            }
            for n, r in runs.items()
        },
        "triage": triage_report,
        "baseline": baseline,
    }
    print(terminal_table(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    if args.md:
        args.md.parent.mkdir(parents=True, exist_ok=True)
        chart = args.md.with_suffix(".svg")
        chart.write_text(svg_chart(report), encoding="utf-8")
        args.md.write_text(markdown_report(report, chart.name), encoding="utf-8")
    if missed:
        print("ゲート不合格: " + "; ".join(missed), file=sys.stderr)
        return 1
    return 0


def _failure(r: CaseResult) -> dict:
    return {
        "id": r.case.id,
        "question": r.case.question,
        "expected": r.case.gold_clauses if not r.case.expect_refusal else "（拒否）",
        "retrieved": r.ranked[:5],
        "cited": r.cited,
        "refused": r.refused,
        "problems": r.problems,
    }


def _per_case(r: CaseResult) -> dict:
    return {"id": r.case.id, "ms": round(r.seconds * 1000, 1), "refused": r.refused, "failed": r.failed, "problems": r.problems, **r.scores}


def compare_with_baseline(baseline: dict, config: str, results: list[CaseResult]) -> dict:
    """Case by case, what changed since an earlier run: fixed (failed then, passes now) and broken."""
    run = baseline.get("configs", {}).get(config, {})
    failed_then = {f["id"] for f in run.get("failures", [])}  # also in reports older than per-case "failed"
    before = {c["id"] for c in run.get("per_case", [])}
    fixed, broken, new = [], [], []
    for r in results:
        row = {"id": r.case.id, "question": r.case.question, "problems": r.problems}
        if r.case.id not in before:
            new.append(row)
        elif r.case.id in failed_then and not r.failed:
            fixed.append(row)
        elif r.case.id not in failed_then and r.failed:
            broken.append(row)
    return {"config": config, "fixed": fixed, "broken": broken, "new": new, "compared": len(before)}
