"""Query parameters: parsed strictly, refused with a message that names the bad part.

The rules live here once, and the OpenAPI document's parameter schemas are made from them
(`countries_pattern`, `source_pattern`, `LIMIT`, `OFFSET`), so a value the document allows is one
the server accepts, and a value it forbids is a 400 (tests/test_schemathesis.py checks both ways).
Each parameter may be given once; spaces are only allowed around the codes of `countries`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from flask import Request

from dashboard.errors import ApiError

COUNTRY_CODE = re.compile(r"[A-Za-z]{3}")
MAX_COUNTRIES_TEXT = 400        # 20 codes need 79 characters; anything far longer is refused whole
WHOLE_NUMBER = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class IntParam:
    """A whole-number query parameter: its default and inclusive bounds."""

    name: str
    default: int
    low: int
    high: int
    description: str


LIMIT = IntParam("limit", 50, 1, 500, "Items per page.")
OFFSET = IntParam("offset", 0, 0, 10**9, "Items to skip, newest first.")


def _codes(served: tuple[str, ...]) -> str:
    """A regular expression matching one served code in any case: `[Aa][Ll][Bb]|...`."""
    return "|".join("".join(f"[{c.upper()}{c.lower()}]" for c in code) for code in served)


@cache
def countries_pattern(served: tuple[str, ...]) -> str:
    """What `?countries=` accepts: served codes in any case, comma-separated, spaces around them and
    empty segments allowed (so empty means all)."""
    code = f"(?:{_codes(served)})"
    return f"^[ ,]*(?:{code} *(?:,[ ,]*{code} *)*)?[ ,]*$"


@cache
def source_pattern(served: tuple[str, ...]) -> str:
    """What `?source=` accepts: one served code in any case."""
    return f"^(?:{_codes(served)})$"


def _one(request: Request, name: str) -> str | None:
    """The one value of a query parameter, or None when absent."""
    values = request.args.getlist(name)
    if len(values) > 1:
        raise ApiError(f"{name}: given {len(values)} times; give it once")
    return values[0] if values else None


def parse_countries(request: Request, served: tuple[str, ...]) -> tuple[str, ...] | None:
    """`?countries=ALB,arg`: upper-case codes in served order; None (all) when absent or empty."""
    text = _one(request, "countries")
    if text is None:
        return None
    if len(text) > MAX_COUNTRIES_TEXT:
        raise ApiError(f"countries: {len(text)} characters is too long; give at most {len(served)} "
                       f"comma-separated codes")
    codes = [part.strip(" ") for part in text.split(",")]
    if not re.fullmatch(countries_pattern(served), text):
        for code in codes:
            if code and not COUNTRY_CODE.fullmatch(code):
                raise ApiError(f"countries: {code[:20]!r} is not a 3-letter country code")
            if code and code.upper() not in served:
                raise ApiError(f"countries: {code.upper()!r} is not a country we serve "
                               f"(we serve {', '.join(served)})")
        raise ApiError(f"countries: {text[:20]!r} is not a comma-separated list of country codes")
    chosen = {code.upper() for code in codes if code}
    return tuple(c for c in served if c in chosen) or None


def parse_int(request: Request, param: IntParam) -> int:
    """A whole number within the parameter's bounds; its default when absent (`?limit=` is a 400)."""
    text = _one(request, param.name)
    if text is None:
        return param.default
    if not WHOLE_NUMBER.fullmatch(text):
        raise ApiError(f"{param.name}: {text[:20]!r} is not a whole number")
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(param.high)) or not param.low <= int(digits) <= param.high:
        raise ApiError(f"{param.name}: {digits[:20]} is outside [{param.low}, {param.high}]")
    return int(digits)


def parse_source(request: Request, served: tuple[str, ...]) -> str | None:
    """`?source=ALB`: one served code in any case, or None when absent (`?source=` is a 400)."""
    text = _one(request, "source")
    if text is None:
        return None
    if not re.fullmatch(source_pattern(served), text):
        raise ApiError(f"source: {text[:20]!r} is not a country we serve")
    return text.upper()
