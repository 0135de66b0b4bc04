"""Query parameters: parsed strictly, refused with a message that names the bad part."""
from __future__ import annotations

import re

from flask import Request

from dashboard.errors import ApiError

COUNTRY_CODE = re.compile(r"[A-Za-z]{3}")
MAX_COUNTRIES_TEXT = 400        # 20 codes need 79 characters; anything far longer is refused whole


def parse_countries(request: Request, served: tuple[str, ...]) -> tuple[str, ...] | None:
    """`?countries=ALB,arg`: upper-case codes in served order; None (all) when absent or empty."""
    text = ",".join(request.args.getlist("countries")).strip()
    if not text:
        return None
    if len(text) > MAX_COUNTRIES_TEXT:
        raise ApiError(f"countries: {len(text)} characters is too long; give at most {len(served)} "
                       f"comma-separated codes")
    chosen = set()
    for part in text.split(","):
        code = part.strip()
        if not code:
            continue
        if not COUNTRY_CODE.fullmatch(code):
            raise ApiError(f"countries: {code[:20]!r} is not a 3-letter country code")
        if code.upper() not in served:
            raise ApiError(f"countries: {code.upper()!r} is not a country we serve "
                           f"(we serve {', '.join(served)})")
        chosen.add(code.upper())
    return tuple(c for c in served if c in chosen) if chosen else None


def parse_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within [low, high]."""
    text = request.args.get(name)
    if text is None or text == "":
        return default
    if not re.fullmatch(r"[0-9]{1,9}", text.strip()):
        raise ApiError(f"{name}: {text[:20]!r} is not a whole number")
    value = int(text)
    if not low <= value <= high:
        raise ApiError(f"{name}: {value} is outside [{low}, {high}]")
    return value


def parse_source(request: Request, served: tuple[str, ...]) -> str | None:
    """`?source=ALB`: one served country code, or None."""
    text = (request.args.get("source") or "").strip()
    if not text:
        return None
    if not COUNTRY_CODE.fullmatch(text) or text.upper() not in served:
        raise ApiError(f"source: {text[:20]!r} is not a country we serve")
    return text.upper()
