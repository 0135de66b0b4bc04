"""Parse and validate: raw source text -> typed fact values plus quarantine entries.

The rules are DESIGN section 3's: a field is present when its text parses as a number inside its
valid range (DURECEC a whole number). 'NA', empty and NULL are missing. Anything else is missing
too AND becomes a quarantine entry with a reason; the row itself always counts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from pisa.source_schema import INDEX_COLUMNS

MISSING_TEXTS = frozenset({"", "NA"})
# Plain ASCII decimal notation only: Python's Decimal would also take 'NaN', 'Infinity', '1_000'
# and non-ASCII digits. Only spaces are trimmed, as SQL's btrim() does.
NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
MAX_DECIMAL_PLACES = 100   # far beyond any index's precision; keeps every stored value small


@dataclass(frozen=True)
class FieldRule:
    """Valid range of one index, inclusive, and whether it must be a whole number."""

    low: Decimal
    high: Decimal
    whole: bool = False


RULES = {
    "escs": FieldRule(Decimal(-10), Decimal(10)),
    "tmins": FieldRule(Decimal(0), Decimal(10080)),   # the minutes in a week
    "belong": FieldRule(Decimal(-10), Decimal(10)),
    "durecec": FieldRule(Decimal(0), Decimal(8), whole=True),
}


@dataclass(frozen=True)
class ParsedValue:
    """A parsed field: `value` when present, `reason` when the raw text was malformed."""

    value: Decimal | None
    reason: str | None = None


@dataclass(frozen=True)
class Issue:
    """A quarantine entry: which value of which row was wrong, and why."""

    id: int
    column: str
    raw_value: str | None
    reason: str


@dataclass(frozen=True)
class Fact:
    """One row as the central fact table stores it."""

    id: int
    version: int
    escs: Decimal | None
    tmins: Decimal | None
    belong: Decimal | None
    durecec: Decimal | None
    content_hash: int          # of the source's raw cnt and index texts: what reconcile compares


MISSING = ParsedValue(None)


def parse_value(column: str, raw: str | None) -> ParsedValue:
    """Parse one index value by the rule of its column."""
    if raw is None:
        return MISSING
    text = raw.strip(" ")
    if text in MISSING_TEXTS:
        return MISSING
    rule = RULES[column]
    if not NUMBER.fullmatch(text):
        return ParsedValue(None, "not a number")
    try:
        number = Decimal(text)
    except InvalidOperation:          # an exponent beyond what Decimal can represent
        return ParsedValue(None, "exponent too large")
    if not rule.low <= number <= rule.high:
        return ParsedValue(None, f"out of range [{rule.low}, {rule.high}]")
    if rule.whole:
        if number != number.to_integral_value():
            return ParsedValue(None, "not a whole number")
        return ParsedValue(Decimal(int(number)))
    if number.as_tuple().exponent < -MAX_DECIMAL_PLACES:
        return ParsedValue(None, f"more than {MAX_DECIMAL_PLACES} decimal places")
    return ParsedValue(number)


def parse_row(source: str, row: tuple) -> tuple[Fact, list[Issue]]:
    """Parse one extracted row (id, version, cnt, escs, tmins, belong, durecec, content_hash)."""
    row_id, version, cnt, *raw_values, content_hash = row
    issues: list[Issue] = []
    values: list[Decimal | None] = []
    for column, raw in zip(INDEX_COLUMNS, raw_values):
        parsed = parse_value(column, raw)
        values.append(parsed.value)
        if parsed.reason:
            issues.append(Issue(row_id, column, raw, parsed.reason))
    country = cnt.strip(" ") if cnt is not None else ""
    if country not in MISSING_TEXTS and country != source:
        # The row still counts under its source: a wrong code is a data-quality problem only.
        issues.append(Issue(row_id, "cnt", cnt, f"country code does not match source {source}"))
    return Fact(row_id, version, *values, content_hash), issues


def parse_rows(source: str, rows: list[tuple]) -> tuple[list[Fact], list[Issue]]:
    """Parse a batch of extracted rows."""
    facts: list[Fact] = []
    issues: list[Issue] = []
    for row in rows:
        fact, row_issues = parse_row(source, row)
        facts.append(fact)
        issues.extend(row_issues)
    return facts, issues
