"""Prompts (and the page texts: the login page, the stylesheet) live as files in prompts/ and are
rendered strictly: a missing or unused variable is an error."""

from __future__ import annotations

import re
from pathlib import Path

from .config import PACKAGE_ROOT

PROMPTS_DIR = PACKAGE_ROOT / "prompts"
_VAR = re.compile(r"{{\s*([a-z_]+)\s*}}")


class PromptError(KeyError):
    pass


def render(name: str, prompts_dir: Path = PROMPTS_DIR, suffix: str = ".md", **values: str) -> str:
    text = (prompts_dir / f"{name}{suffix}").read_text(encoding="utf-8")
    wanted = set(_VAR.findall(text))
    missing = wanted - set(values)
    if missing:
        raise PromptError(f"プロンプト {name} の変数が足りません: {', '.join(sorted(missing))}")
    unused = set(values) - wanted
    if unused:
        raise PromptError(f"プロンプト {name} にない変数が渡されました: {', '.join(sorted(unused))}")
    # One pass: text substituted in is never scanned for placeholders again.
    return _VAR.sub(lambda m: str(values[m.group(1)]), text)
