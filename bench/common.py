"""What the benchmarks share: their own databases on the configured server, and the machine line."""
from __future__ import annotations

import os
import platform

from pisa import db
from pisa.config import Settings, load_settings


def bench_settings(name: str, sources) -> Settings:
    """Settings for databases named pisa_bench_<name>_* (server: PISA_BENCH_SERVER_URL)."""
    server = os.environ.get("PISA_BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432")
    return load_settings({
        "PISA_CENTRAL_URL": f"{server}/pisa_bench_{name}_central",
        "PISA_SOURCE_URL_TEMPLATE": f"{server}/pisa_bench_{name}_src_{{cnt}}",
        "PISA_SOURCES": ",".join(sources),
        "PISA_API_ROLE": "pisa_bench_api",
    })


def settings_environment(settings: Settings) -> dict:
    """The environment that makes a child process (gunicorn) use these settings."""
    return {"PISA_CENTRAL_URL": settings.central_url, "PISA_SOURCE_URL_TEMPLATE": settings.source_url_template,
            "PISA_SOURCES": ",".join(settings.sources), "PISA_API_ROLE": settings.api_role}


def drop_databases(settings: Settings) -> None:
    """Drop the central and source databases of `settings`."""
    for url in [settings.central_url] + [settings.source_url(s) for s in settings.sources]:
        db.drop_database(url)


def machine_line(title: str) -> str:
    return f"{title} on {platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}"
