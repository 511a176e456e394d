"""Checks on the question itself: validity, instruction injection, requests for legal judgements."""

from __future__ import annotations

import re
import unicodedata

from .textnorm import nfkc


class QuestionError(ValueError):
    """A question that cannot be processed; the message is Japanese and says what to do."""


def validate_question(question: object, max_chars: int) -> str:
    """Return the cleaned question or raise QuestionError with a Japanese message."""
    if isinstance(question, bytes):
        try:
            question = question.decode("utf-8")
        except UnicodeDecodeError:
            raise QuestionError("質問を UTF-8 の文字として読めません（バイナリデータの可能性）。文章で質問を入力してください。") from None
    if not isinstance(question, str):
        raise QuestionError("質問は文字列で入力してください。")
    text = question.strip()
    if not text:
        raise QuestionError("質問が空です。知りたいことを文章で入力してください（例：「必要最低限の措置とは何ですか？」）。")
    if len(text) > max_chars:
        raise QuestionError(f"質問が長すぎます（{len(text)} 文字）。{max_chars} 文字以内に要約して入力してください。")
    bad = sum(1 for ch in text if _is_garbage(ch))
    if bad and (bad >= 3 or bad / len(text) > 0.05 or "\x00" in text):
        raise QuestionError("質問に読み取れない文字（制御文字や壊れた文字）が含まれています。文章で質問を入力し直してください。")
    return "".join(ch for ch in text if not _is_garbage(ch))


def _is_garbage(ch: str) -> bool:
    if ch in "\n\t":
        return False
    if ch == "\ufffd" or 0xD800 <= ord(ch) <= 0xDFFF:  # replacement char, undecodable bytes
        return True
    return unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn")


_INJECTION = [
    r"(これまで|以前|前|上記|今まで|すべて|全て)の(指示|命令|ルール|設定|制約)を(無視|忘れ|破棄|取り消)",
    r"(指示|ルール|制約|制限)を(無視|解除|無効)",
    r"システム\s*プロンプト",
    r"(あなた|君|お前)は(今から|これから|もう)",
    r"(になりきって|として振る舞|のふりをして|ロールプレイ)",
    r"(出典|引用|根拠)(なし|無し|は不要|を付けず|をつけず)で",
    r"自由に(回答|答え|話し)",
    r"(管理者|開発者|運営者)(から|として)?の?(命令|指示)",
    r"推測で(断定|答え|回答)",
    r"(引用|出典)も(出典|引用)?も?(なし|無し|不要)",
    r"(制限|制約)なしで",
    r"開発者モード|脱獄|jailbreak",
    r"ignore (all |any |the )?(previous|prior|above|earlier)",
    r"disregard (all |any |the )?(previous|prior|above|earlier|your)",
    r"(system|hidden|initial) prompt",
    r"you are (now|no longer)",
    r"pretend (to be|you are)",
    r"act as (a|an)\b",
    r"developer mode|\bDAN\b",
    r"without (citations|citing|sources|quoting)",
    r"from now on",
]
_INJECTION_RE = re.compile("|".join(_INJECTION), re.IGNORECASE)

# The guideline states duties and considerations; it never rules on a particular case.
_LEGAL = [
    r"(違法|合法|適法|違反)(です|でしょう|ですか|か[？?]|になる|にな|かどうか)",
    r"(罰則|罰金|処罰|ペナルティ|刑事|訴え|訴訟|損害賠償)",
    r"(有効|無効)(です|でしょう|か|[？?]|なの|かどうか)",
    r"(違法|違反|合法)(じゃ|では|なの|かな)",
    r"(うち|当社|弊社|わが社|我が社|私の会社|うちの会社)(は|が|でも)?.{0,20}(取れ|取得でき|通り|受か|合格|認証され)(ます|る)?(か|でしょうか)",
    r"(訴えられ|責任を問われ|法的責任|法的に|法律上)",
    r"\b(illegal|lawful|unlawful|legal(ly)? (valid|binding)|liable|liability|legally|penalt(y|ies)|fine[sd]?|sue|lawsuit)\b",
    r"\b(will|would|can|could) (we|my company|our company) (pass|get certified|obtain certification|be certified)\b",
]
_LEGAL_RE = re.compile("|".join(_LEGAL), re.IGNORECASE)


def looks_like_injection(question: str) -> bool:
    return bool(_INJECTION_RE.search(nfkc(question)))


def asks_for_legal_judgement(question: str) -> bool:
    return bool(_LEGAL_RE.search(nfkc(question)))


def is_english(question: str) -> bool:
    letters = [ch for ch in question if ch.isalpha()]
    if not letters:
        return False
    ascii_letters = sum(1 for ch in letters if ch.isascii())
    return ascii_letters / len(letters) > 0.7
