"""The measures catalogue (product advice, corpus/measures.json) and the operator's optional
mapping of measures to clauses of the loaded standard.

A measure says what it covers: organisation basics, basic controls per form (態様) of an
item, and situations of the firm. The plan (plan.py) picks measures to cover what a firm needs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from ..config import SHIPPED_CORPUS

Group = Literal["organisation", "basic", "situation"]
GROUPS: tuple[Group, ...] = ("organisation", "basic", "situation")
GROUP_LABELS = {"organisation": "組織の基本", "basic": "情報の形ごとの基本の管理", "situation": "会社の状況に応じた対策"}
COST_TIERS = ("無料", "〜1万円", "〜10万円", "それ以上")
EFFORTS = ("低", "中", "高")
ORG_TOPICS = ("responsible", "policy", "inventory", "rules_pledge", "education", "incident", "review")
SITUATIONS = ("customer_supplied", "joint_rd", "outsourcing", "visitors", "leavers", "export_control")
FORMS = ("電子データ", "書面", "物品", "人の知識・ノウハウ")
# The basic controls an adviser expects for each form. Know-how in people's heads cannot be
# locked away (what is written down is paper or data); only data faces attacks from outside.
FORM_CONTROLS: dict[str, tuple[str, ...]] = {
    "電子データ": ("identify_mark", "restrict_access", "store_lock", "take_out_send", "dispose_return", "cyber"),
    "書面": ("identify_mark", "restrict_access", "store_lock", "take_out_send", "dispose_return"),
    "物品": ("identify_mark", "restrict_access", "store_lock", "take_out_send", "dispose_return"),
    "人の知識・ノウハウ": ("identify_mark", "restrict_access", "take_out_send", "dispose_return"),
}
LABELS = {
    "responsible": "責任者", "policy": "基本方針", "inventory": "守るべき情報の一覧", "rules_pledge": "ルールと誓約",
    "education": "教育", "incident": "漏えい時の対応", "review": "定期的な点検",
    "identify_mark": "識別・表示", "restrict_access": "利用者の限定", "store_lock": "保管・施錠", "take_out_send": "持ち出し・送付",
    "dispose_return": "廃棄・返却", "cyber": "不正アクセス・ウイルス対策",
    "customer_supplied": "顧客から預かった情報", "joint_rd": "共同研究開発", "outsourcing": "外注・委託先", "visitors": "来訪者",
    "leavers": "退職者", "export_control": "法令上の管理（輸出管理など）",
}
MEASURE_MAP_FILE = "measure_map.json"


class CatalogueError(ValueError):
    pass


@dataclass(frozen=True)
class Measure:
    id: str
    title: str
    what: str
    how_small: str  # how a firm of about five people does it
    group: Group
    cost_tier: str
    effort: str
    org: tuple[str, ...] = ()
    controls: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (form, controls)
    situations: tuple[str, ...] = ()
    prerequisites: tuple[str, ...] = ()
    en: str = ""  # an English summary, searched only: an English question finds the same measure (never shown)
    words: tuple[str, ...] = ()  # how owners say it (「辞めた」「スマホを落とす」), searched only
    # How a larger firm does it, per size band of the diagnosis (「6〜20人」): the plan gives the firm's own.
    by_size: tuple[tuple[str, str], ...] = ()

    def tip_for(self, size: str | None) -> tuple[str, str]:
        """(how this firm does it, the size band it is written for; "" for the small-firm tip)."""
        tip = dict(self.by_size).get(size or "")
        return (tip, size) if tip and size else (self.how_small, "")

    def controls_for(self, form: str) -> tuple[str, ...]:
        return dict(self.controls).get(form, ())

    @property
    def cost_key(self) -> tuple[int, int]:
        return COST_TIERS.index(self.cost_tier), EFFORTS.index(self.effort)

    @property
    def keys(self) -> tuple[str, ...]:
        """Everything it covers: organisation topics, controls (any form), situations."""
        return tuple(dict.fromkeys([*self.org, *(c for _, cs in self.controls for c in cs), *self.situations]))

    @property
    def text(self) -> str:
        """What is searched for advice in the chat: title, what to do, how a small firm does it, and
        the names of what it covers (「教育」「漏えい時の対応」), so a question in those words finds it."""
        words = f"（{'・'.join(self.words)}）" if self.words else ""
        return f"{self.title}。{self.what}{self.how_small}（{'・'.join(LABELS[k] for k in self.keys)}）{words}"


@dataclass(frozen=True)
class Catalogue:
    version: str
    measures: tuple[Measure, ...]
    by_id: dict[str, Measure] = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def load(cls, path: Path = SHIPPED_CORPUS / "measures.json") -> "Catalogue":
        return _load(str(path))

    def __getitem__(self, measure_id: str) -> Measure:
        return self.by_id[measure_id]


@lru_cache(maxsize=8)
def _load(path: str) -> Catalogue:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    measures = []
    for m in data["measures"]:
        covers = m.get("covers", {})
        measures.append(Measure(
            m["id"], m["title"], m["what"], m["how_small"], m["group"], m["cost_tier"], m["effort"],
            tuple(covers.get("org", [])), tuple((f, tuple(c)) for f, c in covers.get("controls", {}).items()),
            tuple(covers.get("situations", [])), tuple(m.get("prerequisites", [])), m.get("en", ""),
            tuple(m.get("words", ())), tuple(m.get("how_by_size", {}).items()),
        ))
    ids = {m.id for m in measures}
    if len(ids) != len(measures):
        raise CatalogueError("対策カタログに同じ ID が複数あります")
    for m in measures:
        bad = (
            m.group not in GROUPS or m.cost_tier not in COST_TIERS or m.effort not in EFFORTS or not set(m.prerequisites) <= ids
            or not set(m.org) <= set(ORG_TOPICS) or not set(m.situations) <= set(SITUATIONS)
            or any(f not in FORM_CONTROLS or not set(c) <= set(FORM_CONTROLS[f]) for f, c in m.controls)
        )
        if bad:
            raise CatalogueError(f"対策カタログの {m.id} の値が不正です")
    catalogue = Catalogue(str(data.get("version", "1")), tuple(measures))
    object.__setattr__(catalogue, "by_id", {m.id: m for m in measures})
    return catalogue


def load_measure_map(path: Path, known_measures: set[str], clause_exists) -> tuple[dict[str, list[str]], list[str]]:
    """The operator's mapping of measures to clauses of the loaded standard ({measure id: [clause ids]}).

    The product never guesses this mapping; it only shows what the operator wrote, and only the
    clause IDs that exist in the loaded documents. Returns (mapping, warnings)."""
    if not path.exists():
        return {}, []
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {}, [f"対策と基準の対応付け {path.name} を読めません（{exc}）。"]
    mapping: dict[str, list[str]] = {}
    warnings: list[str] = []
    for measure_id, clauses in (raw.get("measures", raw) if isinstance(raw, dict) else {}).items():
        if measure_id.startswith("_"):
            continue
        if measure_id not in known_measures or not isinstance(clauses, list):
            warnings.append(f"対応付けの {measure_id} はカタログにない対策です。無視しました。")
            continue
        ok = [c for c in clauses if isinstance(c, str) and clause_exists(c)]
        warnings += [f"対応付けの {measure_id} → {c} は読み込まれた文書にない条項です。無視しました。" for c in clauses if c not in ok]
        if ok:
            mapping[measure_id] = ok
    return mapping, warnings
