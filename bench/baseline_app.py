"""The baseline of bench/api.py: the query-on-read design, for comparison only.

Each request queries all 20 source databases and aggregates their raw rows, as a peer project
did with a serverless function per poll. To be fair to it, connections are kept per thread
(a serverless function would reconnect on every poll and be slower still).
"""
from __future__ import annotations

import sys
import threading
from pathlib import Path

from flask import Flask, jsonify

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pisa import db  # noqa: E402
from pisa.config import load_settings  # noqa: E402

_local = threading.local()


def _figures(settings) -> dict[str, tuple]:
    if not hasattr(_local, "conns"):
        _local.conns = {s: db.connect(settings.source_url(s), application_name="pisa-baseline", autocommit=True)
                        for s in settings.sources}
    figures = {}
    for source, conn in _local.conns.items():
        with conn.cursor() as cur:
            cur.execute(db.load_sql("bench/country_figures_on_read.sql"))
            row = cur.fetchone()
        if row[0]:
            figures[source] = row
    return figures


def _number(value):
    return None if value is None else float(value)


def create_app() -> Flask:
    settings = load_settings()
    app = Flask(__name__)

    @app.get("/submissions")
    def submissions():
        return jsonify({"count": sum(f[0] for f in _figures(settings).values())})

    @app.get("/tmins")
    def tmins():
        return jsonify({"datasets": [{"country": s, "hours": _number(f[1])} for s, f in sorted(_figures(settings).items())]})

    @app.get("/escs")
    def escs():
        return jsonify({"datasets": [{"id": s, "value": _number(f[2])} for s, f in sorted(_figures(settings).items())]})

    @app.get("/eeb")
    def eeb():
        return jsonify({"datasets": [{"id": s, "data": [{"x": _number(f[3]), "y": _number(f[4]), "submissions": f[0]}]}
                                     for s, f in sorted(_figures(settings).items())]})

    @app.get("/sot")
    def sot():  # the sources have no timestamps: the baseline cannot answer this one at all
        return jsonify({"datasets": [{"id": "Submissions", "data": []}]})

    return app
