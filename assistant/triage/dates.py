"""Due dates as people type them (one grammar): 2026-02-28, 2026/2/28, 2026年2月28日, 2/28, 2月28日,
2月末, 今月末, 来月末, 再来月末, 月末, 年度末. Stored and shown as YYYY-MM-DD.

A date without a year is the next one from today (「2/28」 typed in December is next February), so a
plan's deadlines never land in the past by accident. Relative forms are read against ``today``, which
the caller passes (the page: the server's date), so the function stays pure.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata

from .flow import TriageError

_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_MD = re.compile(r"^(\d{1,2})\s*[/月]\s*(\d{1,2})\s*日?$")
_MONTH_END = re.compile(r"^(\d{1,2})\s*月\s*(末|末日)$")
_RELATIVE_MONTH_END = {"月末": 0, "今月末": 0, "来月末": 1, "再来月末": 2}
HINT = "期限は 2026-02-28、2026/2/28、2/28、2月末、来月末 のように入力してください。"


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _next(today: dt.date, month: int, day: int | None) -> dt.date:
    """The first such date on or after today (day None: the month's last day)."""
    for year in (today.year, today.year + 1):
        d = _month_end(year, month) if day is None else dt.date(year, month, day)
        if d >= today:
            return d
    raise ValueError("unreachable")


def parse_due(text: str, today: dt.date) -> dt.date | None:
    """The date meant by ``text`` (None for an empty one); TriageError saying what to type otherwise."""
    t = unicodedata.normalize("NFKC", text or "").strip().replace(" ", "")
    if not t:
        return None
    try:
        if m := _YMD.match(t):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := _MD.match(t):
            return _next(today, int(m[1]), int(m[2]))
        if m := _MONTH_END.match(t):
            return _next(today, int(m[1]), None)
        if t in _RELATIVE_MONTH_END:
            month_index = today.month - 1 + _RELATIVE_MONTH_END[t]
            return _month_end(today.year + month_index // 12, month_index % 12 + 1)
        if t == "年度末":  # the Japanese fiscal year ends on 31 March
            return _next(today, 3, 31)
    except ValueError:  # 2026-02-30, 13月末 …
        raise TriageError(f"「{text.strip()[:20]}」という日付はありません。{HINT}") from None
    raise TriageError(f"期限「{text.strip()[:20]}」を日付として読めません。{HINT}")


def parse_full_date(text: str) -> dt.date | None:
    """A date with its year (2026-12-01, 2026/12/1, 2026年12月1日), for searching records by day, where a
    date without a year or a month's end has no one meaning. None for an empty text; ValueError otherwise."""
    t = unicodedata.normalize("NFKC", text or "").strip().replace(" ", "")
    if not t:
        return None
    if m := _YMD.match(t):
        return dt.date(int(m[1]), int(m[2]), int(m[3]))  # ValueError for 2026-02-30
    raise ValueError(t)


def normalise_due(text: str, today: dt.date | None = None) -> str:
    """``text`` as YYYY-MM-DD ("" for an empty one)."""
    d = parse_due(text, today or dt.date.today())
    return d.isoformat() if d else ""
