"""JSON Lines, read one way for every data file (intent examples, eval cases, triage scenarios):
blank lines skipped, each row with the place it came from, an error that names the file and line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path


def read_jsonl(path: Path, error: type[Exception] = ValueError) -> Iterator[tuple[str, object]]:
    """``(where, row)`` for each non-empty line, ``where`` as ``path:line``; a file that cannot be read
    or a line that is not JSON raises ``error`` with a Japanese message naming the place."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: 読めません（{exc}）") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            yield where, json.loads(line)
        except ValueError as exc:
            raise error(f"{where}: JSON として読めません（{exc}）") from exc
