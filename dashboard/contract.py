"""The five Forage chart endpoints: paths and body shapes exactly as DESIGN section 3 fixes them."""
from __future__ import annotations

from flask import Blueprint, current_app, request

from dashboard import views
from dashboard.db import reader
from dashboard.params import parse_countries
from dashboard.responses import encoded_response

bp = Blueprint("contract", __name__)


def chart_response(name: str):
    """Answer one chart from the snapshot's shared view; only the freshness headers are made
    per request."""
    settings = current_app.config["SETTINGS"]
    countries = parse_countries(request, settings.sources) if views.CHARTS[name][1] else None
    snapshot = reader().snapshot()
    payload, etag = views.chart(snapshot, settings.sources, name, countries)
    return encoded_response(payload, etag, views.freshness_now(snapshot, settings))


@bp.get("/submissions")
def submissions():
    """Big number: rows across all sources."""
    return chart_response("submissions")


@bp.get("/sot")
def submissions_over_time():
    """Line: rows per hour of first arrival, the last 24 hours."""
    return chart_response("sot")


@bp.get("/tmins")
def learning_hours():
    """Bar: mean learning hours per week by country."""
    return chart_response("tmins")


@bp.get("/escs")
def escs():
    """Choropleth: mean ESCS by country."""
    return chart_response("escs")


@bp.get("/eeb")
def early_education_vs_belonging():
    """Bubbles: mean DURECEC (x) against mean BELONG (y), sized by submissions."""
    return chart_response("eeb")
