"""Text normalisation shared by parsing, search and quote verification."""

from __future__ import annotations

import re
import unicodedata

_WS = re.compile(r"\s+")
TERMINATORS = ("。", "。）", "。」", "．")


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def normalize(text: str) -> str:
    """NFKC with whitespace runs collapsed to one space (for display and search)."""
    return _WS.sub(" ", nfkc(text)).strip()


def match_form(text: str) -> str:
    """The form quotes are compared in: NFKC, all whitespace removed.

    Japanese legal text carries no meaningful spaces, and PDF extraction inserts
    them at line breaks, so dropping them all is the only stable comparison.
    """
    return _WS.sub("", nfkc(text))


def is_verbatim(quote: str, source: str) -> bool:
    """True when ``quote`` is a non-empty substring of ``source`` after normalisation."""
    q = match_form(quote)
    return bool(q) and q in match_form(source)


def ends_sentence(text: str) -> bool:
    return text.rstrip().endswith(TERMINATORS)


def split_sentences(text: str) -> list[str]:
    """Split Japanese text after 。 while keeping 。 inside brackets with its sentence."""
    out: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch in "（(「『":
            depth += 1
        elif ch in "）)」』":
            depth = max(0, depth - 1)
        elif ch == "。" and depth == 0:
            out.append(text[start : i + 1])
            start = i + 1
    tail = text[start:]
    if tail.strip():
        out.append(tail)
    return [s.strip() for s in out if s.strip()]


# Format characters (bidi overrides and isolates, zero-width spaces and joiners, the BOM) and
# control characters other than line breaks and tabs: invisible, yet they can make a stored name
# read differently on screen (「\u202eFDP.exe 社会式株」 shows as 「株式会社 exe.PDF」).
_INVISIBLE = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]")


def strip_invisible(text: str) -> str:
    """``text`` without invisible format and control characters (names, places, notes a user typed)."""
    return _INVISIBLE.sub("", text)
