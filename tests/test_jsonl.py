"""One JSON Lines reader for every data file: places named as path:line, blank lines skipped."""

import pytest

from assistant.jsonl import read_jsonl


class DataError(Exception):
    pass


def test_rows_come_with_their_place_and_blank_lines_are_skipped(tmp_path):
    f = tmp_path / "cases.jsonl"
    f.write_text('{"id": "a"}\n\n  \n{"id": "b"}\n', encoding="utf-8")
    assert list(read_jsonl(f)) == [(f"{f}:1", {"id": "a"}), (f"{f}:4", {"id": "b"})]


def test_a_bad_line_and_a_missing_file_raise_the_callers_error_naming_the_place(tmp_path):
    f = tmp_path / "cases.jsonl"
    f.write_text('{"id": "a"}\n{"id": \n', encoding="utf-8")
    with pytest.raises(DataError, match=r"cases\.jsonl:2: JSON として読めません"):
        list(read_jsonl(f, DataError))
    with pytest.raises(DataError, match="読めません"):
        list(read_jsonl(tmp_path / "missing.jsonl", DataError))
