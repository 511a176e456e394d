"""User and document text made safe for the places it is shown: one line of plain text, or
Markdown in which every mark that could make structure is escaped, so that it can only be text.

Everything the product renders as Markdown (the web page, the records) passes user text and
document text through ``md_text``; the structure around it (headings, tables, links) is built
by the product alone.
"""

from __future__ import annotations

import re
import unicodedata

# The marks that make inline structure wherever they stand: emphasis, code, links and images, raw HTML
# and entities, table cells, strikethrough, math ($ in gradio), headings, mentions and mail autolinks.
# Other punctuation (- : ( ) . / , ! ? + = …) stays as typed, so a file read in a text editor has no
# backslashes in dates, times and company names (#22).
_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~&$#@])")
_MD_BLOCK_START = re.compile(r"^(\s*)([-+=>]|\d+[.)])")  # a list, quote or setext line if the text starts a line
_AUTOLINK = re.compile(r"(?i)(?<=[a-z])(:)(?=//)|(?<=\bwww)(\.)")  # https://… and www.… are not made links


def plain(text) -> str:
    """One line of plain text: no control or format characters, no line breaks, and no code point
    that XML cannot hold (U+FFFE, U+FFFF, lone surrogates), which an Excel or Word file refuses."""
    s = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs") or ch in "\ufffe\uffff" else ch for ch in str(text or ""))
    return re.sub(r"\s+", " ", s).strip()


def md_text(text) -> str:
    """Text shown exactly as typed inside Markdown: it cannot become a heading, a table, a quote,
    a link, an image or HTML, and a URL in it is not made a link. Only the marks that could do so
    are escaped (CommonMark lets any ASCII punctuation be escaped)."""
    s = _MD_INLINE.sub(r"\\\1", plain(text))
    s = _AUTOLINK.sub(lambda m: "\\" + (m.group(1) or m.group(2)), s)
    return _MD_BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2) if not m.group(2)[0].isdigit() else m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], s)


def md_lines(text) -> str:
    """Several lines of text, each made safe, kept as separate lines."""
    return "  \n".join(md_text(line) for line in str(text or "").splitlines())
