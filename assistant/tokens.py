"""Japanese tokenisation for BM25 and support checks (Sudachi, normalised forms)."""

from __future__ import annotations

import re
import threading

from sudachipy import dictionary, tokenizer

from .textnorm import nfkc

_CONTENT_POS = {"名詞", "動詞", "形容詞", "形状詞", "副詞", "接頭辞", "接尾辞"}
# Function-like words that carry no topic: dropping them keeps BM25 from matching on grammar.
STOPWORDS = {
    "為る", "有る", "居る", "成る", "出来る", "言う", "物", "事", "こと", "もの", "等", "よう", "ため", "為",
    "場合", "其の", "此の", "之", "当該", "及び", "並びに", "又は", "若しくは", "的", "中", "上", "下", "方",
    "何", "ん", "の", "さん", "くれる", "下さる", "教える", "知る", "思う", "いる", "ある", "なる", "する",
    "be", "the", "a", "an", "of", "to", "and", "or", "is", "are", "what", "how", "does", "do", "for", "in",
    "on", "with", "by", "it", "that", "this", "should", "can", "about", "tell", "me", "please", "i", "we",
    "our", "my", "you", "your", "there", "any", "which", "who", "when", "where", "why", "will", "would",
    "must", "may", "get", "getting", "us", "they", "them", "their", "its", "at", "from", "as", "if", "not",
    "no", "yes", "than", "into", "over", "has", "have", "had", "was", "were", "been", "being", "say", "says",
    "guideline", "guidelines", "some", "all", "also", "need", "needs", "much", "many", "own",
}
_SYMBOL = re.compile(r"^[\W_]+$")


class Tokenizer:
    """Sudachi mode C (whole compounds) plus mode A parts, so 情報漏えい also matches 漏えい."""

    def __init__(self) -> None:
        self._dic = dictionary.Dictionary(dict="core")
        self._a = tokenizer.Tokenizer.SplitMode.A
        # A Sudachi tokenizer may not be used by two threads at once ("Already borrowed"):
        # the web app answers several users in parallel, so each thread gets its own.
        self._local = threading.local()

    @property
    def _c(self):
        tok = getattr(self._local, "tok", None)
        if tok is None:
            tok = self._local.tok = self._dic.tokenizer(mode=tokenizer.Tokenizer.SplitMode.C)
        return tok

    def terms(self, text: str) -> list[str]:
        out: list[str] = []
        for m in self._c.tokenize(nfkc(text)):
            if m.part_of_speech()[0] not in _CONTENT_POS:
                continue
            surface = m.surface()
            # Sudachi "normalises" English words to katakana; keep them as written instead.
            term = surface.lower() if surface.isascii() else m.normalized_form().lower()
            if term in STOPWORDS or _SYMBOL.match(term):
                continue
            out.append(term)
            parts = m.split(self._a)
            if len(parts) > 1:
                out.extend(
                    p.surface().lower() if p.surface().isascii() else p.normalized_form().lower()
                    for p in parts
                    if p.normalized_form().lower() not in STOPWORDS
                )
        return out

    def proper_nouns(self, text: str) -> list[str]:
        """Proper names (organisations, products, people) in a text; place names are left out."""
        out = []
        for m in self._c.tokenize(nfkc(text)):
            pos = m.part_of_speech()
            if pos[1] == "固有名詞" and pos[2] != "地名":
                out.append(m.surface())
        return out
