"""The five Forage chart endpoints: paths and body shapes exactly as DESIGN section 3 fixes them."""
from __future__ import annotations

from flask import Blueprint, current_app, request

from dashboard import figures
from dashboard.db import reader
from dashboard.params import parse_countries
from dashboard.responses import encode, encoded_response

bp = Blueprint("contract", __name__)


def chart_response(build, filtered: bool):
    """Answer one chart from the (cached) snapshot: the body is built and encoded once per
    snapshot and filter; only the freshness headers are made per request."""
    settings = current_app.config["SETTINGS"]
    countries = parse_countries(request, settings.sources) if filtered else None
    snapshot = reader().snapshot()
    served = settings.sources
    payload, etag = snapshot.memoized((build, countries), lambda: encode(
        build(snapshot, served, countries) if filtered else build(snapshot, served)))
    return encoded_response(payload, etag, figures.current_freshness(snapshot, served, settings.lagging_after_seconds))


@bp.get("/submissions")
def submissions():
    """Big number: rows across all sources."""
    return chart_response(figures.submissions, filtered=False)


@bp.get("/sot")
def submissions_over_time():
    """Line: rows per hour of first arrival, the last 24 hours."""
    return chart_response(lambda snapshot, served: figures.submissions_over_time(snapshot), filtered=False)


@bp.get("/tmins")
def learning_hours():
    """Bar: mean learning hours per week by country."""
    return chart_response(figures.learning_hours, filtered=True)


@bp.get("/escs")
def escs():
    """Choropleth: mean ESCS by country."""
    return chart_response(figures.escs, filtered=True)


@bp.get("/eeb")
def early_education_vs_belonging():
    """Bubbles: mean DURECEC (x) against mean BELONG (y), sized by submissions."""
    return chart_response(figures.early_education_vs_belonging, filtered=True)
