"""A Japanese font for PDFs and charts, shipped by a PyPI package (IPAexGothic)."""

from __future__ import annotations

import importlib.util
from pathlib import Path


class FontMissing(RuntimeError):
    pass


def japanese_font() -> Path:
    """Path of IPAexGothic, from the japanize-matplotlib package (no download, no system font)."""
    spec = importlib.util.find_spec("japanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise FontMissing("日本語フォントが見つかりません（japanize-matplotlib をインストールしてください: make setup）。")
    path = Path(spec.submodule_search_locations[0]) / "fonts" / "ipaexg.ttf"
    if not path.exists():
        raise FontMissing(f"日本語フォント {path} がありません。")
    return path
