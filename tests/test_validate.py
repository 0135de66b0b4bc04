"""Parse and validate: DESIGN section 3's rules, value by value."""
from decimal import Decimal

import pytest

from pisa.sync.validate import Fact, Issue, parse_row, parse_value


@pytest.mark.parametrize("column, raw, value, reason", [
    ("escs", None, None, None),
    ("escs", "NA", None, None),
    ("escs", "", None, None),
    ("escs", "  ", None, None),
    ("escs", "-0.9234", Decimal("-0.9234"), None),
    ("escs", " 1.5 ", Decimal("1.5"), None),
    ("escs", "10", Decimal("10"), None),
    ("escs", "10.0001", None, "out of range [-10, 10]"),
    ("escs", "abc", None, "not a number"),
    ("escs", "NaN", None, "not a number"),
    ("escs", "Infinity", None, "not a number"),
    ("escs", "1_000", None, "not a number"),
    ("tmins", "1500", Decimal("1500"), None),
    ("tmins", "0", Decimal("0"), None),
    ("tmins", "10080", Decimal("10080"), None),
    ("tmins", "10081", None, "out of range [0, 10080]"),
    ("tmins", "-5", None, "out of range [0, 10080]"),
    ("tmins", "1.2e3", Decimal("1200"), None),
    ("belong", "-10.5", None, "out of range [-10, 10]"),
    ("belong", ".25", Decimal("0.25"), None),
    ("durecec", "3", Decimal("3"), None),
    ("durecec", "3.0", Decimal("3"), None),
    ("durecec", "2.5", None, "not a whole number"),
    ("durecec", "9", None, "out of range [0, 8]"),
    ("durecec", "na", None, "not a number"),
    ("durecec", "0e1", Decimal("0"), None),
    ("tmins", "1E+3", Decimal("1000"), None),
    ("escs", "1e-16384", None, "more than 100 decimal places"),
    ("escs", "1e99999999999999999999", None, "exponent too large"),
    ("escs", "\u0663", None, "not a number"),          # an Arabic-Indic digit three
    ("escs", "1.5\t", None, "not a number"),           # only spaces are trimmed, as btrim() does
])
def test_parse_value(column, raw, value, reason):
    parsed = parse_value(column, raw)
    assert (parsed.value, parsed.reason) == (value, reason)


def test_a_row_with_a_foreign_country_code_still_counts_under_its_source():
    fact, issues = parse_row("ALB", (7, 901, "ARG", "0.5", "NA", "abc", "2", -42))
    assert fact == Fact(7, 901, Decimal("0.5"), None, None, Decimal("2"), -42)
    assert issues == [Issue(7, "belong", "abc", "not a number"),
                      Issue(7, "cnt", "ARG", "country code does not match source ALB")]


def test_a_missing_country_code_is_not_a_problem():
    assert parse_row("ALB", (7, 901, "NA", "NA", "NA", "NA", "NA", 0))[1] == []


def test_every_index_column_has_one_rule():
    from pisa.source_schema import INDEX_COLUMNS
    from pisa.sync.validate import RULES
    assert tuple(RULES) == INDEX_COLUMNS
