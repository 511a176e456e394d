"""Due dates as an adviser or owner types them (triage/dates.py), read against a fixed today."""

import datetime as dt

import pytest

from assistant.triage.dates import normalise_due, parse_due
from assistant.triage.flow import TriageError

TODAY = dt.date(2026, 12, 2)


@pytest.mark.parametrize(("typed", "meant"), [
    ("2027-02-28", "2027-02-28"),
    ("2027/2/28", "2027-02-28"),
    ("２０２７／２／２８", "2027-02-28"),  # full-width, as a Japanese IME types it
    ("2027年2月28日", "2027-02-28"),
    ("2/28", "2027-02-28"),  # no year: the next 28 February, not the one gone by
    ("12/24", "2026-12-24"),  # still to come this year
    ("12月1日", "2027-12-01"),  # yesterday's date: next year's
    ("2月末", "2027-02-28"),
    ("12月末", "2026-12-31"),
    ("今月末", "2026-12-31"),
    ("月末", "2026-12-31"),
    ("来月末", "2027-01-31"),
    ("再来月末", "2027-02-28"),
    ("年度末", "2027-03-31"),
    (" 2027-01-05 ", "2027-01-05"),
    ("", ""),
])
def test_the_forms_people_type_are_stored_as_a_date(typed, meant):
    assert normalise_due(typed, TODAY) == meant


def test_a_leap_year_february_ends_on_the_29th():
    assert parse_due("2月末", dt.date(2027, 6, 1)) == dt.date(2028, 2, 29)


@pytest.mark.parametrize("typed", ["来月", "そのうち", "2027-02-30", "13月末", "2/31", "31/12"])
def test_what_is_not_a_date_is_refused_saying_what_to_type(typed):
    with pytest.raises(TriageError) as exc:
        normalise_due(typed, TODAY)
    assert "2/28" in str(exc.value) and "来月末" in str(exc.value)
