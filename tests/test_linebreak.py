"""Japanese line breaking for the PDF (禁則処理), on a fixed-width measure: one unit per character."""

from assistant.linebreak import HANGING, NO_END, NO_START, lines, units


def width(s: str) -> float:
    return float(len(s))


def test_numbers_dates_and_words_are_one_unit():
    assert units("期限2026-01-31まで") == ["期", "限", "2026-01-31", "ま", "で"]
    assert units("M41 台帳") == ["M41", " ", "台", "帳"]


def test_no_line_opens_with_a_closing_mark_or_ends_with_an_opening_one():
    text = "守るべき情報を決めて、「社外秘」と表示し、保管する。次に（必要なら）鍵をかける。" * 3
    for w in range(4, 15):
        got = lines(text, w, width, hang=False)
        assert "".join(got) == text, w  # nothing lost or added
        assert all(len(line) <= w for line in got), (w, got)
        assert not any(line[0] in NO_START for line in got[1:]), (w, got)
        assert not any(line[-1] in NO_END for line in got[:-1]), (w, got)


def test_a_full_stop_hangs_past_the_edge_when_allowed():
    got = lines("あいうえお。かきくけこ", 5, width, hang=True)
    assert got == ["あいうえお。", "かきくけこ"]  # ぶら下げ
    got = lines("あいうえお。かきくけこ", 5, width, hang=False)
    assert got == ["あいうえ", "お。かきく", "けこ"]  # 追い出し: お goes down with 。
    assert set("。、") <= HANGING


def test_a_date_is_never_split_when_it_fits_a_line():
    got = lines("期限 2026-01-31", 10, width, hang=False)
    assert "2026-01-31" in got and got[0] == "期限 "
    assert lines("2026-01-31", 4, width) == ["2026", "-01-", "31"]  # wider than a line: cut as a last resort


def test_the_texts_own_newlines_are_kept():
    assert lines("一行目\n\n三行目", 10, width) == ["一行目", "", "三行目"]
