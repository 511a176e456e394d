#!/usr/bin/env python3
"""Standalone sanity check for the eval/owner gold sets (does not import project code).

Run: python3 eval/owner/check_sets.py   (from the repository root)
"""
import json, os, re, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(ROOT, "eval", "owner")
GUIDE = "/work/shared/seeds/000_40f4958d1e32a417.txt"
MEASURES = os.path.join(ROOT, "corpus", "measures.json")
FLOW = os.path.join(ROOT, "corpus", "triage", "flow.json")

# Clause IDs of the guideline, written by hand from its numbering, each with the
# opening words of that clause (used to locate it and to cut its text).
CLAUSES = [
    ("指針第1（第1段落）", "事業者にとっての競争力の源泉"),
    ("指針第1（第2段落）", "そのため、技術等情報の適切な管理"),
    ("指針第1（第3段落）", "こうした状況も踏まえ、主務省は"),
    ("指針第2の1", "1主務省は、事業者における"),
    ("指針第2の2", "2主務省は、認定技術等"),
    ("指針第2の3", "3主務省は、この指針の第2の1及び2"),
    ("指針第2の4", "4経済産業省は、他の主務省"),
    ("指針第3の1", "1技術等情報漏えい防止措置認証業務の実施の方法を適確"),
    ("指針第3の2", "2技術等情報漏えい防止措置認証業務を適正に"),
    ("指針第3の3", "3法第二条第二十四項第一号に掲げる業務から生じるリスク"),
    ("指針第4の1", "1経済産業省は、関係省庁と連携し"),
    ("指針第4の1の一", "一技術等情報漏えい防止措置が技術等情報漏えい防止措置基準に適合"),
    ("指針第4の1の二", "二認定技術等情報漏えい防止措置認証機関及び独立行政法人"),
    ("指針第4の1の三", "三認定技術等情報漏えい防止措置認証機関等と連携し"),
    ("指針第4の1の四", "四この指針の第4の1の三の調査"),
    ("指針第4の2", "2認定技術等情報漏えい防止措置認証機関は、中小企業者の"),
    ("指針第4の2の一", "一法第二条第二十四項第二号に掲げる業務として、確実に守るべき技術等情報の見極めや"),
    ("指針第4の2の二", "二法第二条第二十四項第二号に掲げる業務として、確実に守るべき技術等情報の見極め等"),
    ("指針第4の2の三", "三主務省からの要請に応じて"),
    ("指針第4の3", "3技術等情報漏えい防止措置を実施し、又は実施しようとする中小企業者以外の者"),
    ("指針第4の3の一", "一取引等をするに当たって、当該中小企業者"),
    ("指針第4の3の二", "二当該中小企業者以外の者の資金"),
    ("指針第4の3の三", "三取引等をするに当たっては、その取引等の重要性"),
]
HEADINGS = ["第2技術等情報漏えい防止措置の実施の促進に関する施策", "第3技術等情報漏えい防止措置認証業務の実施の方法", "第4中小企業者の技術等情報漏えい防止措置"]

errors = []
def err(msg):
    errors.append(msg)

guide = re.sub(r"\s+", "", open(GUIDE, encoding="utf-8").read())
starts = []
for cid, anchor in CLAUSES:
    n = guide.count(anchor)
    if n != 1:
        err(f"clause anchor for {cid} found {n} times")
        starts.append(-1)
    else:
        starts.append(guide.index(anchor))
if starts != sorted(starts):
    err("clause anchors are not in document order")
cuts = sorted(set(starts + [guide.index(h) for h in HEADINGS if h in guide] + [len(guide)]))
CLAUSE_TEXT = {}
for (cid, _), s in zip(CLAUSES, starts):
    if s >= 0:
        e = min(c for c in cuts if c > s)
        CLAUSE_TEXT[cid] = guide[s:e]

measures = {m["id"]: m for m in json.load(open(MEASURES, encoding="utf-8"))["measures"]}
def mtext(mid):
    m = measures[mid]
    return m["title"] + m["what"] + m["how_small"]

flow = json.load(open(FLOW, encoding="utf-8"))
fq = {q["field"]: q for q in flow["firm_questions"]}
INDUSTRY, SIZE, COLLAB = fq["industry"]["options"], fq["size"]["options"], fq["collaboration"]["options"]

def load(name):
    path = os.path.join(HERE, name)
    rows = []
    raw = open(path, encoding="utf-8").read()
    if not raw.endswith("\n"):
        err(f"{name}: no final newline")
    for i, line in enumerate(raw.split("\n")[:-1], 1):
        if not line.strip():
            err(f"{name}:{i}: blank line"); continue
        try:
            rows.append(json.loads(line))
        except Exception as e:
            err(f"{name}:{i}: {e}")
    return rows

def check_measure_words(cid, tm, tw, need_words=True):
    if not (1 <= len(tm) <= 5):
        err(f"{cid}: topic_measures count {len(tm)}")
    for mid in tm:
        if mid not in measures:
            err(f"{cid}: unknown measure {mid}"); return
    if not (2 <= len(tw) <= 6):
        err(f"{cid}: topic_words count {len(tw)}")
    for w in tw:
        if not any(w in mtext(m) for m in tm):
            err(f"{cid}: topic_word {w!r} not in any of {tm}")
    for m in tm:  # every accepted first measure must pass the word test
        if not any(w in mtext(m) for w in tw):
            err(f"{cid}: accepted measure {m} contains none of the topic_words")

all_ids = set()
def uniq(cid):
    if cid in all_ids:
        err(f"duplicate id {cid}")
    all_ids.add(cid)

used_clauses = {}
expected = {"action_dev.jsonl": 28, "action_holdout.jsonl": 20, "followup_dev.jsonl": 12,
            "followup_holdout.jsonl": 12, "firms_dev.jsonl": 6, "firms_holdout.jsonl": 6}
counts = {}
for name, n in expected.items():
    rows = load(name)
    counts[name] = len(rows)
    if len(rows) != n:
        err(f"{name}: {len(rows)} lines, expected {n}")
    part = "holdout" if "holdout" in name else "dev"
    for r in rows:
        cid = r.get("id", "?"); uniq(cid)
        if name.startswith("action"):
            assert set(r) == {"id", "question", "lang", "topic_measures", "topic_words", "lead_words", "size"}, cid
            if not cid.startswith(f"owner-action-{part}-"): err(f"{cid}: bad id")
            if r["lang"] not in ("ja", "en"): err(f"{cid}: lang")
            if r["size"] is not None and r["size"] not in SIZE: err(f"{cid}: size {r['size']}")
            check_measure_words(cid, r["topic_measures"], r["topic_words"])
            if not (2 <= len(r["lead_words"]) <= 6): err(f"{cid}: lead_words count")
        elif name.startswith("followup"):
            assert set(r) == {"id", "turns", "kind", "gold_clauses", "topic_measures", "topic_words", "expect_refusal"}, cid
            if not cid.startswith(f"owner-followup-{part}-"): err(f"{cid}: bad id")
            if not (2 <= len(r["turns"]) <= 3): err(f"{cid}: turns")
            k = r["kind"]
            if r["expect_refusal"] != (k == "not_stated"): err(f"{cid}: expect_refusal")
            if k == "documents":
                if not r["gold_clauses"] or r["topic_measures"]: err(f"{cid}: documents fields")
                for c in r["gold_clauses"]:
                    if c not in CLAUSE_TEXT: err(f"{cid}: unknown clause {c}")
                    used_clauses.setdefault(c, []).append(cid)
                text = "".join(CLAUSE_TEXT.get(c, "") for c in r["gold_clauses"])
                hits = [w for w in r["topic_words"] if w in text]
                if not hits: err(f"{cid}: no topic_word occurs in its gold clauses")
                miss = [w for w in r["topic_words"] if w not in text]
                if miss: print(f"note {cid}: plain-language variants not in clause text: {miss}")
            elif k == "action":
                if r["gold_clauses"]: err(f"{cid}: action has gold_clauses")
                check_measure_words(cid, r["topic_measures"], r["topic_words"])
            elif k == "not_stated":
                if r["gold_clauses"] or r["topic_measures"]: err(f"{cid}: not_stated fields")
            else:
                err(f"{cid}: kind {k}")
        else:
            assert set(r) == {"id", "text", "profile"}, cid
            if not cid.startswith(f"owner-firm-{part}-"): err(f"{cid}: bad id")
            p = r["profile"]
            assert set(p) == {"industry", "size", "collaboration", "items"}, cid
            if p["industry"] is not None and p["industry"] not in INDUSTRY: err(f"{cid}: industry")
            if p["size"] is not None and p["size"] not in SIZE: err(f"{cid}: size")
            for c in p["collaboration"]:
                if c not in COLLAB: err(f"{cid}: collaboration {c}")
            for it in p["items"]:
                if it not in r["text"]: err(f"{cid}: item {it!r} not written in text")

# dev/holdout must not share questions
def key(name):
    out = set()
    for r in load(name):
        out.add(r.get("question") or r.get("text") or "|".join(r["turns"]))
    return out
for a, b in [("action_dev.jsonl", "action_holdout.jsonl"), ("followup_dev.jsonl", "followup_holdout.jsonl"), ("firms_dev.jsonl", "firms_holdout.jsonl")]:
    if key(a) & key(b): err(f"{a}/{b} share cases")

print("counts:", counts)
print("clause IDs used:")
for c, ids in used_clauses.items():
    print(f"  {c}: {', '.join(ids)}  <- {CLAUSE_TEXT[c][:40]}…")
if errors:
    print("\nERRORS:"); [print(" ", e) for e in errors]; sys.exit(1)
print("OK")
