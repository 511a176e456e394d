"""The adviser's grid (一覧表): one row per piece of information, read as the answers file the CLI takes.

The grid asks the same questions as the conversation, in columns; an empty cell is 「わからない」.
"""

from __future__ import annotations

from .triage import TriageError
from .triage.flow import FORMS, UNKNOWN, forms_in
from .triage.result import AnswersError, validate_answers

COLUMNS = ["情報", "秘密保持の義務", "法令上の管理対象", "公開済み・再現容易", "競争力の源泉", "漏えい時の損害", "態様", "保管場所", "利用できる人", "社外に渡す"]
FIELDS = [None, "confidential_obligation", "legal_control", "public", "competitive", "damage", "forms", "location", "access", "goes_outside"]


def rows_of(value) -> list[list[str]]:
    """The grid's rows as lists of strings (gradio gives a DataFrame, a list, or a dict)."""
    if value is None:
        return []
    if hasattr(value, "values") and hasattr(value, "columns"):
        rows = value.values.tolist()
    elif isinstance(value, dict):
        rows = value.get("data", [])
    else:
        rows = value
    return [["" if c is None else str(c).strip() for c in row] for row in rows if row and str(row[0] or "").strip()]


def rows_for(items) -> list[list[str]]:
    """A diagnosis' information (TriageState.items) as grid rows (what the adviser sees and corrects)."""
    out = []
    for it in items:
        row = [it["name"]]
        for f in FIELDS[1:]:
            v = it.get(f, "")
            row.append("・".join(v) if isinstance(v, list) else (v or ""))
        out.append(row)
    return out


def rows_named(names_text: str, rows, limit: int) -> list[list[str]]:
    """The grid for the names typed (「、」 or 「,」 between them); a row already filled in keeps its cells."""
    names = [n.strip() for n in (names_text or "").replace("、", ",").split(",") if n.strip()]
    if len(names) > limit:
        raise TriageError(f"情報は {limit} 件までです。")
    old = {r[0]: r for r in rows_of(rows)}
    return [old.get(n) or [n] + [""] * (len(COLUMNS) - 1) for n in names]


def answers_of(name, industry, size, collab, rows: list[list[str]]) -> dict:
    """The grid as an answers file (the same one the CLI takes)."""
    items = []
    for n, row in enumerate(rows, start=1):
        item = {"name": row[0]}
        for col, f in enumerate(FIELDS[1:], start=1):
            v = row[col] if col < len(row) else ""
            if not v:
                continue
            if f == "forms":  # 「電子データ・書面」: the form names it contains (人の知識・ノウハウ has a ・ of its own)
                named = [form for form in FORMS if form in v] or forms_in(v) or ([UNKNOWN] if UNKNOWN in v else [])
                if not named:
                    raise TriageError(f"{n} 行目「態様」: 「{v[:20]}」を読み取れません（{'・'.join(FORMS)}、{UNKNOWN}）。")
                item[f] = named
            else:
                item[f] = v
        items.append(item)
    firm = {"name": name or "", "industry": industry or UNKNOWN, "size": size or UNKNOWN, "collaboration": list(collab or []) or [UNKNOWN]}
    answers = {"firm": firm, "items": items}
    try:
        validate_answers(answers)
    except AnswersError as exc:
        raise TriageError(f"{where(exc.path)}: {exc.problem}。") from exc
    return answers


FIRM_LABELS = {"name": "会社名", "industry": "業種", "size": "従業員", "collaboration": "他社や社外の人との関わり"}


def where(path: tuple) -> str:
    """A place in the answers file, said as the grid shows it (row and column), not as a JSON path."""
    if len(path) >= 3 and path[0] == "items" and isinstance(path[1], int) and path[2] in FIELDS:
        return f"一覧表の {path[1] + 1} 行目「{COLUMNS[FIELDS.index(path[2])]}」"
    if len(path) >= 2 and path[0] == "items" and isinstance(path[1], int):
        return f"一覧表の {path[1] + 1} 行目"
    if len(path) >= 2 and path[0] == "firm":
        return f"会社の「{FIRM_LABELS.get(path[1], path[1])}」"
    return "一覧表"
