"""The dashboard's Flask app: the Forage contract endpoints, the versioned API and the chart page.

`create_app()` builds the app; nothing connects at import time.
"""
from __future__ import annotations

import logging

from flask import Flask
from flask_cors import CORS

from pisa.config import load_settings


def create_app(config: dict | None = None) -> Flask:
    """Build the app. `config` may carry SETTINGS (a pisa.config.Settings) and Flask options."""
    from dashboard import api_v1, contract, db, errors, page, push, replay, stream

    app = Flask(__name__)
    # '//static//x' would redirect to an absolute URL built from the request's Host header.
    app.url_map.merge_slashes = False
    app.config.from_mapping(config or {})
    if "SETTINGS" not in app.config:
        app.config["SETTINGS"] = load_settings()
    settings = app.config["SETTINGS"]
    # The charts live on another origin: read-only GETs may be read cross-origin.
    any_origin = settings.cors_origins == ("*",)
    CORS(app, origins="*" if any_origin else list(settings.cors_origins), send_wildcard=any_origin,
         methods=["GET", "HEAD", "OPTIONS"],
         allow_headers=["If-None-Match"], expose_headers=["ETag", "X-Data-As-Of", "X-Data-Age-Ms"],
         max_age=600)
    db.init_app(app)
    push.init_app(app)
    errors.init_app(app)
    app.after_request(_no_sniffing)
    app.register_blueprint(contract.bp)
    app.register_blueprint(api_v1.bp)
    app.register_blueprint(api_v1.health_bp)
    app.register_blueprint(stream.bp)
    app.register_blueprint(page.bp)
    replay.RepeatAnswers.install(app)       # the hot polls, answered again per snapshot
    logging.getLogger(__name__).info("dashboard serving %d sources", len(settings.sources))
    return app


def _no_sniffing(response):
    # A browser must take every answer as the type it says it is (JSON, never HTML or script).
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
