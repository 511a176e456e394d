"""User and document text made safe for the places it is shown: one line of plain text, or
Markdown in which every ASCII punctuation mark is escaped so that it can only be text.

Everything the product renders as Markdown (the web page, the records) passes user text and
document text through ``md_text``; the structure around it (headings, tables, links) is built
by the product alone.
"""

from __future__ import annotations

import re
import unicodedata

_MD_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation mark (CommonMark lets each be escaped)


def plain(text) -> str:
    """One line of plain text: no control or format characters, no line breaks."""
    s = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in str(text or ""))
    return re.sub(r"\s+", " ", s).strip()


def md_text(text) -> str:
    """Text shown exactly as typed inside Markdown: it cannot become a heading, a table, a quote,
    a link, an image or HTML, and a URL in it is not made a link."""
    return _MD_PUNCT.sub(r"\\\1", plain(text))


def md_lines(text) -> str:
    """Several lines of text, each made safe, kept as separate lines."""
    return "  \n".join(md_text(line) for line in str(text or "").splitlines())
