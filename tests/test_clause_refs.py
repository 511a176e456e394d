"""The grammar of clause references: numerals, ID spelling, references in a question, citations."""

from assistant.clause_refs import (
    Reference,
    ascii_digits,
    canonical_id,
    circled_to_int,
    citations_in,
    cite,
    clause_references,
    iroha_to_int,
    kanji_to_int,
    roman_to_int,
    standard_references,
)


def test_numerals_read_as_their_ordinals():
    assert [kanji_to_int(s) for s in ("一", "九", "十", "十二", "二十", "二十三")] == [1, 9, 10, 12, 20, 23]
    assert iroha_to_int("イ") == 1 and iroha_to_int("ロ") == 2 and iroha_to_int("ハ") == 3
    assert circled_to_int("①") == 1 and circled_to_int("③") == 3 and circled_to_int("⑳") == 20
    assert roman_to_int("Ⅲ") == 3 and roman_to_int("IV") == 4 and roman_to_int("ＩＶ") == 4  # a PDF's letters
    assert roman_to_int("IIII") == 0  # no numeral
    assert ascii_digits("第１２") == "第12"


def test_a_typed_id_is_spelled_as_the_documents_spell_it():
    assert canonical_id("指針第４の２の一") == "指針第4の2の一"
    assert canonical_id("基準IIIの第二") == "基準Ⅲの第二"  # ASCII letters become the roman numeral
    assert canonical_id("指針第1(第2段落)") == "指針第1（第2段落）"


def test_a_reference_in_a_question_becomes_the_guideline_clause_id(corpus):
    assert clause_references("第4の2の一には何と書いてある？", corpus) == [Reference("指針第4の2の一", "指針第4の2の一")]
    assert clause_references("指針第２の３の内容は？", corpus) == [Reference("指針第2の3", "指針第2の3")]
    assert clause_references("指針第1の第2段落を見せて", corpus) == [Reference("指針第1（第2段落）", "指針第1（第2段落）")]
    assert clause_references("第4の1の柱書きは？", corpus) == [Reference("指針第4の1", "指針第4の1")]


def test_a_reference_to_no_clause_is_kept_only_when_it_stands_alone(corpus):
    assert clause_references("指針第4の5を引用して", corpus) == [Reference("指針第4の5", None)]
    assert clause_references("第5世代の通信規格について", corpus) == []  # a counter, not a reference
    assert clause_references("法第二条の定義は？", corpus) == []  # a law's article, which the guideline only mentions
    assert clause_references("見極めは何から始める？", corpus) == []


def test_a_formatted_citation_is_found_back():
    text = "指針によると" + cite("保険、準備金等により備える", "指針第3の3") + "とされています。"
    assert text == "指針によると「保険、準備金等により備える」（指針第3の3）とされています。"
    assert citations_in(text) == ["指針第3の3"]
    assert citations_in(text + "\n・" + cite("周知", "指針第2の2") + "（指針第3の3）") == ["指針第3の3", "指針第2の2"]  # each once
    assert citations_in("「…」(指針第4の2の一)") == ["指針第4の2の一"]  # ASCII parentheses too
    assert citations_in("見極めから始めてください（まずは一覧を作る）。") == []


def test_parts_of_the_standard_are_named_as_written():
    assert standard_references("基準Ⅲの第二はどういう内容？") == ["Ⅲの第二"]
    assert standard_references("保険は必要？") == []
