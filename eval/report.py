"""Render an eval report: a terminal table, Markdown, and an SVG chart comparing configs."""

from __future__ import annotations

from html import escape

ROWS = [
    ("recall_at_1", "Recall@1"),
    ("recall_at_5", "Recall@5"),
    ("mrr", "MRR"),
    ("ndcg_at_5", "nDCG@5"),
    ("citation_precision", "引用の適合率"),
    ("citation_recall", "引用の再現率"),
    ("quote_fidelity", "引用の原文一致率"),
    ("unknown_clause_ids", "存在しない条項ID（件）"),
    ("must_include", "must_include 充足率"),
    ("llm_answer_rate", "LLM の回答が検証を通った割合"),
    ("correct_refusal_rate", "正しい拒否率"),
    ("false_refusal_rate", "誤った拒否率"),
    ("intent_accuracy", "意図の判定の正解率"),
    ("advice_recall", "製品の助言の再現率"),
    ("offer_accuracy", "見極め診断の提案の正解率"),
    ("latency_p50_ms", "レイテンシ p50 (ms)"),
    ("latency_p95_ms", "レイテンシ p95 (ms)"),
]
CHART_METRICS = ["recall_at_1", "recall_at_5", "mrr", "citation_recall", "quote_fidelity", "correct_refusal_rate"]


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.3f}" if v <= 1.0 else f"{v:.1f}"
    return str(v)


def _width(s: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in s)


def _pad(s: str, n: int) -> str:
    return s + " " * max(0, n - _width(s))


TRIAGE_ROWS = [
    ("exact_match", "完全一致率"),
    ("must_protect_f1", "守るべき情報 F1"),
    ("confirm_f1", "要確認 F1"),
    ("minimum_forms_accuracy", "最低限の措置の態様 正解率"),
    ("basics_covered", "基本の管理の網羅率（守るべき情報ごと）"),
    ("organisation_covered", "組織の基本の網羅率"),
    ("situations_recall", "会社の状況への対策の再現率"),
    ("mentions_recall", "助言者が期待する語の再現率"),
    ("plan_size_ok", "計画の対策数が妥当な割合"),
    ("median_questions_3_items", "質問数の中央値（情報3件の会社）"),
    ("median_questions_3_items_before", "同・適応的な質問の前"),
]


INTENT_LABELS = {"documents": "文書の質問", "action": "行動の質問", "triage": "診断の依頼", "out_of_scope": "範囲外", "misuse": "不正な利用"}


def _intent_lines(report: dict, md: bool = False) -> list[str]:
    """Per intent, for the gated configuration: cases, intent accuracy, Recall@1, refused, advice."""
    gated = report.get("gated_config")
    per = (report["configs"].get(gated) or {}).get("summary", {}).get("per_intent") if gated else None
    if not per:
        return []
    head = ["意図", "ケース", "意図の正解率", "Recall@1", "拒否した割合", "助言の再現率"]
    rows = [[INTENT_LABELS[k], str(v["cases"]), _fmt(v["intent_accuracy"]), _fmt(v["recall_at_1"]), _fmt(v["refused"]), _fmt(v["advice_recall"])] for k, v in per.items()]
    if md:
        return ["", f"## 意図ごとの指標（{gated}）", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(r) + " |" for r in rows]
    return ["", f"意図ごとの指標（{gated}）:"] + ["  " + "".join(_pad(c, 14) for c in r) for r in [head, *rows]]


def _baseline_lines(report: dict, md: bool = False) -> list[str]:
    b = report.get("baseline")
    if not b:
        return []
    out = ["", f"{'## ' if md else ''}前回の実行との比較（{b['config']}、比較したケース {b['compared']} 件）: 直った {len(b['fixed'])} 件、壊れた {len(b['broken'])} 件、新しいケース {len(b['new'])} 件"]
    for label, rows in (("直った", b["fixed"]), ("壊れた", b["broken"])):
        for r in rows:
            out.append(f"{'- ' if md else '  '}{label}: {r['id']}: {r['question'][:60]}" + (f"（{'; '.join(r['problems'])}）" if r["problems"] else ""))
    return out


def _triage_lines(report: dict, md: bool = False) -> list[str]:
    t = report.get("triage")
    if not t:
        return []
    s = t["summary"]
    if md:
        out = ["", f"## 見極め診断のシナリオ（{s['scenarios']} 件）", "", "| 指標 | 値 |", "|---|---|"]
        out += [f"| {label} | {_fmt(s[key])} |" for key, label in TRIAGE_ROWS]
        out += ["", "| シナリオ | 完全一致 | 守るべき F1 | 要確認 F1 | 態様 | 基本の管理 | 計画 | 対策数 | 質問数（前→後） |", "|---|---|---|---|---|---|---|---|---|"]
        for r in t["scenarios"]:
            out.append(
                f"| {r['id']} | {'○' if r['exact'] else '×'} | {r['must_f1']:.2f} | {r['confirm_f1']:.2f} | {'○' if r['forms_ok'] else '×'} "
                f"| {r['basics']:.2f} | {'○' if r['plan_ok'] else '×'} | {r['plan_size']} | {r['questions_before']} → {r['questions_asked']} |"
            )
        return out
    out = ["", f"見極め診断のシナリオ（{s['scenarios']} 件）:"]
    out += [f"  {_pad(label, 30)}{_fmt(s[key])}" for key, label in TRIAGE_ROWS]
    for r in t["scenarios"]:
        mark = "○" if r["exact"] and r["plan_ok"] else "×"
        out.append(
            f"  {mark} {_pad(r['id'], 26)} 守るべきF1 {r['must_f1']:.2f}  要確認F1 {r['confirm_f1']:.2f}  態様 {'○' if r['forms_ok'] else '×'}"
            f"  基本 {r['basics']:.2f}  組織 {r['organisation']:.2f}  状況 {r['situations']:.2f}  語 {r['mentions']:.2f}"
            f"  対策数 {r['plan_size']}{'' if r['size_ok'] else '（範囲外）'}  質問 {r['questions_before']}→{r['questions_asked']}"
        )
        if not (r["exact"] and r["plan_ok"]):
            out.append(f"      期待: {r['expected']}")
            out.append(f"      結果: {r['got']}")
    return out


def terminal_table(report: dict) -> str:
    names = list(report["configs"])
    if not names:
        lines = _triage_lines(report)
        verdict = "不合格: " + "; ".join(report["gate_missed"]) if report["gate_missed"] else "合格"
        return "\n".join(lines + [f"\nゲート: {verdict if report['thresholds'] else '閾値なし'}"])
    label_w = max(_width(lbl) for _, lbl in ROWS) + 2
    col_w = max(12, *(len(n) + 2 for n in names))
    lines = [_pad("指標", label_w) + "".join(_pad(n, col_w) for n in names)]
    lines.append("-" * (label_w + col_w * len(names)))
    for key, label in ROWS:
        lines.append(_pad(label, label_w) + "".join(_pad(_fmt(report["configs"][n]["summary"][key]), col_w) for n in names))
    first = report["configs"][names[0]]["summary"]
    lines.append(f"ケース {first['cases']} 件（回答 {first['answerable']}、拒否 {first['refusal_cases']}）／ピーク RSS {report['peak_rss_mb']} MB")
    gated = report["gated_config"]
    failures = report["configs"][gated]["failures"]
    if failures:
        lines.append(f"\n失敗したケース（{gated}、{len(failures)} 件）:")
        for f in failures:
            lines.append(f"- {f['id']}: {f['question']}")
            lines.append(f"    期待: {f['expected']}  検索上位: {', '.join(f['retrieved'])}  引用: {', '.join(f['cited']) or '—'}")
            lines.append(f"    問題: {'; '.join(f['problems'])}")
    lines += _intent_lines(report) + _baseline_lines(report) + _triage_lines(report)
    verdict = "不合格: " + "; ".join(report["gate_missed"]) if report["gate_missed"] else "合格"
    lines.append(f"\nゲート（{gated}）: {verdict if report['thresholds'] else '閾値なし'}")
    return "\n".join(lines)


def markdown_report(report: dict, chart_name: str) -> str:
    names = list(report["configs"])
    out = [
        "# 忠実性評価レポート",
        "",
        f"- 文書バージョン: `{report['corpus_version']}`",
        f"- ケース: {', '.join(report['cases'])}",
        f"- ピーク RSS: {report['peak_rss_mb']} MB",
        f"- ゲート対象: `{report['gated_config']}` — "
        + ("**合格**" if not report["gate_missed"] else "**不合格**: " + "; ".join(report["gate_missed"])),
        "",
        f"![構成の比較]({chart_name})",
        "",
        "| 指標 | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for key, label in ROWS if names else []:
        out.append(f"| {label} | " + " | ".join(_fmt(report["configs"][n]["summary"][key]) for n in names) + " |")
    out += _intent_lines(report, md=True) + _baseline_lines(report, md=True) + _triage_lines(report, md=True)
    for n in names:
        failures = report["configs"][n]["failures"]
        out += ["", f"## 失敗したケース: `{n}`（{len(failures)} 件）", ""]
        if failures:
            out.append("| id | 質問 | 期待 | 検索上位5件 | 問題 |")
            out.append("|---|---|---|---|---|")
            for f in failures:
                q = f["question"].replace("|", "｜")
                out.append(f"| {f['id']} | {q} | {f['expected']} | {', '.join(f['retrieved'])} | {'; '.join(f['problems'])} |")
    return "\n".join(out) + "\n"


def svg_chart(report: dict) -> str:
    """Grouped bars: one group per metric, one bar per config (0..1)."""
    names = list(report["configs"])
    colors = ["#1f6feb", "#d29922", "#2da44e", "#8250df", "#cf222e", "#57606a"]
    bar, gap, group_gap, height, top, left = 16, 2, 28, 200, 30, 40
    group_w = len(names) * (bar + gap) + group_gap
    width = left + group_w * len(CHART_METRICS) + 160
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{top + height + 60}" font-family="sans-serif" font-size="11">',
        f'<line x1="{left}" y1="{top + height}" x2="{width - 150}" y2="{top + height}" stroke="#888"/>',
    ]
    for tick in (0.0, 0.5, 1.0):
        y = top + height - tick * height
        parts.append(f'<text x="4" y="{y + 4}">{tick:.1f}</text><line x1="{left}" y1="{y}" x2="{width - 150}" y2="{y}" stroke="#eee"/>')
    for gi, key in enumerate(CHART_METRICS):
        x0 = left + gi * group_w
        for ni, name in enumerate(names):
            v = report["configs"][name]["summary"].get(key) or 0.0
            h = max(0.0, min(1.0, v)) * height
            x = x0 + ni * (bar + gap)
            parts.append(f'<rect x="{x}" y="{top + height - h}" width="{bar}" height="{h}" fill="{colors[ni % len(colors)]}"><title>{escape(name)} {key}: {v:.3f}</title></rect>')
        parts.append(f'<text x="{x0}" y="{top + height + 16}">{escape(key)}</text>')
    for ni, name in enumerate(names):
        y = top + 14 * ni
        parts.append(f'<rect x="{width - 140}" y="{y}" width="10" height="10" fill="{colors[ni % len(colors)]}"/><text x="{width - 124}" y="{y + 9}">{escape(name)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
