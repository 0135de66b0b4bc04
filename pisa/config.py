"""Settings: read once from the environment (and a `.env` file), each with a default and help.

Every module that needs configuration takes a `Settings` object, so tests and benchmarks can
point the whole pipeline at throwaway databases without touching the process environment.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from typing import Mapping

from urllib.parse import quote, urlsplit, urlunsplit

from dotenv import load_dotenv

COUNTRIES = (
    "ALB", "ARG", "AUS", "AUT", "BEL", "BGR", "BIH", "BLR", "BRA", "BRN",
    "CAN", "CHE", "CHL", "COL", "CRI", "CZE", "DEU", "DNK", "DOM", "ESP",
)


@dataclass(frozen=True)
class Setting:
    """One configuration variable: its name, default (as text) and a one-line help."""

    name: str
    default: str
    help: str


SETTINGS = (
    Setting("PISA_CENTRAL_URL", "postgresql://postgres@127.0.0.1:5432/pisa_central",
            "libpq URL of the central analytical database (sync writes, API reads)."),
    Setting("PISA_SOURCE_URL_TEMPLATE", "postgresql://postgres@127.0.0.1:5432/pisa_src_{cnt}",
            "libpq URL of one source database; {cnt} is the lower-case country code."),
    Setting("PISA_SOURCES", ",".join(COUNTRIES),
            "Comma-separated country codes of the sources to simulate and sync."),
    Setting("PISA_PORT", "8000", "Port of the dashboard and API under `make run`."),
    Setting("PISA_SIM_RATE", "20",
            "Rows per second the simulator writes under `make run`; 0 runs no simulator."),
    Setting("PISA_POLL_INTERVAL", "0.25",
            "Seconds between two change polls of one source in follow mode (the floor)."),
    Setting("PISA_MAX_POLL_DUTY", "0.5",
            "Share of one CPU core that follow-mode polls of all sources may use together; "
            "polls of large sources are spaced out to stay under it."),
    Setting("PISA_BATCH_ROWS", "10000",
            "Rows fetched from a source and applied to the central DB per transaction."),
    Setting("PISA_LEASE_TIMEOUT_SECONDS", "15",
            "A sync runner whose central session sits idle this long (stopped, hung) loses its "
            "source's lease to the next runner; polls are never spaced further apart than a third of it."),
    Setting("PISA_CAPTURE", "auto",
            "How the sync finds a source's changes: wal (logical replication), xmin (a poll that "
            "needs only SELECT), or auto (wal where the source allows it, else xmin)."),
    Setting("PISA_PUBLICATION", "pisa_responses",
            "The source publication on `responses` that wal capture reads (the simulator creates it)."),
    Setting("PISA_SYNC_WORKERS", "4", "Sources synced in parallel by `pisa sync --once` and `pisa reconcile`."),
    Setting("PISA_API_ROLE", "pisa_api", "Read-only database role the API connects as."),
    Setting("PISA_API_PASSWORD", "",
            "Password set on the API role by `pisa central init` (empty: none, for trust auth)."),
    Setting("PISA_API_DATABASE_URL", "",
            "libpq URL the API reads the central DB with (empty: PISA_CENTRAL_URL as PISA_API_ROLE)."),
    Setting("PISA_API_CACHE_SECONDS", "0.1",
            "How long one API process reuses a read of the central summaries (0: read every request); "
            "while its push feed listens, up to 2 s, the feed reading at each change."),
    Setting("PISA_WEB_THREADS", "8",
            "Central connections each API process pools (and threads per worker, if gunicorn runs gthread)."),
    Setting("PISA_STREAM_MAX_SECONDS", "600",
            "How long the server keeps one /api/v1/stream open before ending it; the browser reconnects "
            "at once and resumes (Last-Event-ID), so streams spread over the workers again after a restart."),
    Setting("PISA_LAGGING_AFTER_SECONDS", "5",
            "A source whose synced data is older than this is reported as lagging."),
    Setting("PISA_AIRFLOW_PORT", "8080", "Port of the Airflow UI and API server under `make run`."),
    Setting("PISA_AIRFLOW_HOST", "127.0.0.1",
            "Address the Airflow UI and API server listen on under `make run` (0.0.0.0: every interface)."),
    Setting("PISA_RUN_SYNC", "airflow",
            "What syncs the sources under `make run`: airflow, or cli for the sync core's own follower."),
    Setting("PISA_AIRFLOW_DB_URL", "postgresql://postgres@127.0.0.1:5432/pisa_airflow",
            "libpq URL of Airflow's own metadata database under `make run`."),
    Setting("PISA_AIRFLOW_KEEP_HOURS", "24",
            "Hours of Airflow history (DAG runs, task instances, XComs, task logs) the maintenance DAG "
            "keeps; fractions allowed."),
    Setting("PISA_CORS_ORIGINS", "*",
            "Origins allowed to read the API from a browser, comma-separated (* for any)."),
)


@dataclass(frozen=True)
class Settings:
    """Typed view of the configuration; every value comes from `load_settings` (defaults: SETTINGS)."""

    central_url: str
    source_url_template: str
    sources: tuple[str, ...]
    port: int
    sim_rate: float
    poll_interval: float
    max_poll_duty: float
    batch_rows: int
    sync_workers: int
    capture: str
    publication: str
    lease_timeout_seconds: float
    api_role: str
    api_password: str = field(repr=False)
    api_database_url: str = field(repr=False)
    api_cache_seconds: float
    web_threads: int
    stream_max_seconds: float
    lagging_after_seconds: float
    cors_origins: tuple[str, ...]
    airflow_port: int
    airflow_host: str
    run_sync: str
    airflow_db_url: str = field(repr=False)
    airflow_keep_hours: float

    def source_url(self, source: str) -> str:
        """The libpq URL of one source database."""
        return self.source_url_template.format(cnt=source.lower())

    def api_url(self) -> str:
        """The URL the API connects with: its own, or the central URL as the read-only role."""
        if self.api_database_url:
            return self.api_database_url
        parts = urlsplit(self.central_url)
        user = quote(self.api_role, safe="") + (":" + quote(self.api_password, safe="") if self.api_password else "")
        return urlunsplit(parts._replace(netloc=f"{user}@{parts.netloc.rpartition('@')[2]}"))

    def with_sources(self, sources: tuple[str, ...] | list[str] | None) -> "Settings":
        """A copy restricted to the given sources (None keeps the configured ones)."""
        return self if not sources else replace(self, sources=parse_sources(",".join(sources)))

    def replace(self, **changes) -> "Settings":
        """A copy with some fields changed (tests and benchmarks use this)."""
        return replace(self, **changes)


def setting_field(name: str) -> str:
    """The Settings field of a PISA_* variable: PISA_SIM_RATE -> sim_rate."""
    return name.removeprefix("PISA_").lower()


class ConfigError(ValueError):
    """A configuration value is malformed; the message names the variable."""


def parse_sources(text: str) -> tuple[str, ...]:
    """Parse a comma-separated list of country codes into upper-case, de-duplicated codes."""
    codes: list[str] = []
    for part in text.split(","):
        code = part.strip().upper()
        if not code:
            continue
        if len(code) != 3 or not code.isalpha() or not code.isascii():
            raise ConfigError(f"PISA_SOURCES: {part.strip()!r} is not a 3-letter country code")
        if code not in codes:
            codes.append(code)
    if not codes:
        raise ConfigError("PISA_SOURCES: no source configured")
    return tuple(codes)


# Numeric settings: their type and valid range, inclusive (None: unbounded). A value outside is
# an error naming the variable, never silently clamped.
NUMBERS = {
    "PISA_PORT": (int, 1, 65535),
    "PISA_SIM_RATE": (float, 0, None),
    "PISA_POLL_INTERVAL": (float, 0, None),
    "PISA_MAX_POLL_DUTY": (float, 0.01, 1),
    "PISA_BATCH_ROWS": (int, 1, None),
    "PISA_SYNC_WORKERS": (int, 1, None),
    "PISA_LEASE_TIMEOUT_SECONDS": (float, 1, 86400),     # a day; PostgreSQL's timeouts stop near 24 days
    "PISA_API_CACHE_SECONDS": (float, 0, None),
    "PISA_WEB_THREADS": (int, 1, 256),
    "PISA_STREAM_MAX_SECONDS": (float, 0, None),
    "PISA_LAGGING_AFTER_SECONDS": (float, 0, None),
    "PISA_AIRFLOW_PORT": (int, 1, 65535),
    "PISA_AIRFLOW_KEEP_HOURS": (float, 0.01, None),
}
RUN_SYNC_CHOICES = ("airflow", "cli")
CAPTURE_CHOICES = ("auto", "wal", "xmin")


def _number(name: str, text: str):
    kind, low, high = NUMBERS[name]
    try:
        value = kind(text)
    except ValueError:
        raise ConfigError(f"{name}: {text!r} is not a valid {kind.__name__}") from None
    if not math.isfinite(value):
        raise ConfigError(f"{name}: must be a finite number, got {text!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise ConfigError(f"{name}: must be {bounds}, got {text!r}")
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from `env` (default: os.environ after loading `.env`)."""
    if env is None:
        load_dotenv()
        env = os.environ
    raw = {s.name: env.get(s.name, s.default) for s in SETTINGS}
    if raw["PISA_RUN_SYNC"] not in RUN_SYNC_CHOICES:
        raise ConfigError(f"PISA_RUN_SYNC: must be one of {', '.join(RUN_SYNC_CHOICES)}, got {raw['PISA_RUN_SYNC']!r}")
    if raw["PISA_CAPTURE"] not in CAPTURE_CHOICES:
        raise ConfigError(f"PISA_CAPTURE: must be one of {', '.join(CAPTURE_CHOICES)}, got {raw['PISA_CAPTURE']!r}")
    values = {setting_field(name): text for name, text in raw.items()}      # text settings as given
    values.update({setting_field(name): _number(name, raw[name]) for name in NUMBERS})
    values["sources"] = parse_sources(raw["PISA_SOURCES"])
    values["cors_origins"] = tuple(o.strip() for o in raw["PISA_CORS_ORIGINS"].split(",") if o.strip()) or ("*",)
    return Settings(**values)
