"""Fixed texts shown to users (prompts/texts.json), rendered strictly like the prompts:
a missing or unused value is an error, and a value substituted in is never scanned again."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from .prompts import PROMPTS_DIR, PromptError

_VAR = re.compile(r"{{\s*([a-z_]+)\s*}}")


@lru_cache(maxsize=4)
def _load(path: str) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def text(key: str, english: bool = False, path: Path = PROMPTS_DIR / "texts.json", **values) -> str:
    data = _load(str(path))["en" if english else "ja"]
    if key not in data:
        raise PromptError(f"定型文 {key} がありません")
    return render(data[key], f"定型文 {key}", True, **values)


def render(template: str, _what: str = "定型文", _strict: bool = True, /, **values) -> str:
    """``{{ name }}`` filled in once. Strict: the values are exactly the template's; otherwise values it
    does not use are allowed (one set of values for several texts), a value it lacks never is."""
    wanted = set(_VAR.findall(template))
    if wanted - set(values) or (_strict and wanted != set(values)):
        raise PromptError(f"{_what} の変数が合いません（必要: {sorted(wanted)}、渡した: {sorted(values)}）")
    return _VAR.sub(lambda m: str(values[m.group(1)]), template)
