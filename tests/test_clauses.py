"""The clause parser on the real guideline and on a fictional notice layout."""

from assistant.clauses import parse_document, read_marker
from assistant.corpus import satisfies
from assistant.textnorm import ends_sentence

GUIDELINE_IDS = [
    "指針第1", "指針第1（第1段落）", "指針第1（第2段落）", "指針第1（第3段落）",
    "指針第2", "指針第2の1", "指針第2の2", "指針第2の3", "指針第2の4",
    "指針第3", "指針第3の1", "指針第3の2", "指針第3の3",
    "指針第4", "指針第4の1", "指針第4の1の一", "指針第4の1の二", "指針第4の1の三", "指針第4の1の四",
    "指針第4の2", "指針第4の2の一", "指針第4の2の二", "指針第4の2の三",
    "指針第4の3", "指針第4の3の一", "指針第4の3の二", "指針第4の3の三",
]


def test_every_guideline_clause_has_its_id(corpus):
    doc = corpus.docs["指針"]
    assert [c.id for c in doc.clauses] == GUIDELINE_IDS
    assert doc.title == "技術等情報漏えい防止措置の実施の促進に関する指針"
    assert doc.warnings == []


def test_page_breaks_are_joined_not_split(corpus):
    doc = corpus.docs["指針"]
    assert len(doc.joins) == 4
    for c in corpus.content_clauses():
        assert ends_sentence(c.text), c.id  # a clause cut in two would end mid-sentence
    assert "漏えいを防止するために必要な措置" in corpus.resolve("指針第1（第2段落）").text
    assert "拡大に意義を有する" in corpus.resolve("指針第4の1の一").text
    assert "見極めや技術等情報漏えい防止措置に係る認証" in corpus.resolve("指針第4の2の一").text
    assert corpus.resolve("指針第4の3").text.endswith("努めるものとする。")


def test_lead_text_and_alias(corpus):
    lead = corpus.resolve("指針第4の1")
    assert lead.text.startswith("経済産業省は、関係省庁と連携し")
    assert lead.is_lead and lead.children == ["指針第4の1の一", "指針第4の1の二", "指針第4の1の三", "指針第4の1の四"]
    assert corpus.resolve("指針第4の1の柱書き") is lead
    assert corpus.resolve("指針第４の２の一").id == "指針第4の2の一"  # full-width digits


def test_heading_path(corpus):
    c = corpus.resolve("指針第4の2の一")
    assert c.heading_path[0] == "第4 中小企業者の技術等情報漏えい防止措置の実施の促進に関し配慮すべき事項"
    assert c.heading_path[1].startswith("2 認定技術等情報漏えい防止措置認証機関は")
    assert c.norm != "" and c.text.startswith("法第二条第二十四項第二号")


def test_descendant_matching():
    assert satisfies("指針第4の2", "指針第4の2の一")
    assert satisfies("指針第4の2", "指針第4の2")
    assert satisfies("指針第1", "指針第1（第2段落）")
    assert satisfies("指針第4の2", "指針第4の2の柱書き")
    assert not satisfies("指針第4の2の一", "指針第4の2")
    assert not satisfies("指針第4の1", "指針第4の2の一")
    assert not satisfies("指針第1", "指針第10")


FICTIONAL_NOTICE = """架空の措置基準（テスト用。実在の告示ではありません）

Ⅰ 架空の共通事項
第一 架空の方針を定めること。
第二 架空の責任者は、次に掲げる事項を行うこと。
一 架空の台帳を作ること。
二 架空の点検を行うこと。
（一） 架空の細目その一。
（二） 架空の細目その二。
Ⅱ 架空の電子データの管理
次に掲げる架空の措置を講ずること。
第一 架空のパスワードを設定すること。
① 架空の丸数字の項目。
イ 架空のいろはの項目。
"""


def test_fictional_notice_layout():
    """Notice-style numbering: Ⅰ › 第一 › 一 › （一）, ①, イ, and a part's lead text."""
    parsed = parse_document("架空基準", FICTIONAL_NOTICE)
    ids = [c.id for c in parsed.clauses]
    assert ids == [
        "架空基準Ⅰ", "架空基準Ⅰの第一", "架空基準Ⅰの第二", "架空基準Ⅰの第二の一", "架空基準Ⅰの第二の二",
        "架空基準Ⅰの第二の二の（一）", "架空基準Ⅰの第二の二の（二）",
        "架空基準Ⅱ", "架空基準Ⅱの第一", "架空基準Ⅱの第一の①", "架空基準Ⅱの第一の①のイ",
    ]
    assert parsed.title.startswith("架空の措置基準")
    part = next(c for c in parsed.clauses if c.id == "架空基準Ⅱ")
    assert (part.title, part.text, part.is_lead) == ("架空の電子データの管理", "次に掲げる架空の措置を講ずること。", True)
    sub = next(c for c in parsed.clauses if c.id == "架空基準Ⅱの第一")
    assert sub.heading_path == ["Ⅱ 架空の電子データの管理"]


def test_markers():
    assert read_marker("第４ 見出し").label == "第4"
    assert read_marker("III 見出し").label == "Ⅲ"
    assert read_marker("(3) 項目").label == "（3）"
    assert read_marker("一方、これは本文") is None
    assert read_marker("2018年に") is None
