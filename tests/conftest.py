"""Fixtures: throwaway source and central databases on the real PostgreSQL, dropped afterwards."""
from __future__ import annotations

import itertools
import os
from dataclasses import dataclass

import psycopg2
import pytest

from pisa import db
from pisa.central_setup import init_central
from pisa.config import Settings, load_settings
from pisa.sources.setup import init_sources

SERVER_URL = os.environ.get("PISA_TEST_SERVER_URL", "postgresql://postgres@127.0.0.1:5432")
_names = itertools.count()


@dataclass
class Env:
    """A throwaway deployment: settings pointing at its own databases."""

    settings: Settings

    def source_conn(self, source: str):
        """A plain read-write connection to a source (what the outside world writes with)."""
        return db.connect(self.settings.source_url(source), application_name="pisa-test")

    def central_conn(self):
        return db.connect(self.settings.central_url, application_name="pisa-test", autocommit=True)

    def sync_state(self, source: str) -> dict:
        """A source's sync_state row: its capture, note, slot, WAL retained and watermark."""
        central = self.central_conn()
        with central.cursor() as cur:
            cur.execute("SELECT capture, capture_note, replication_slot, wal_retained_bytes, watermark "
                        "FROM sync_state WHERE source = %s", (source,))
            found = dict(zip(("capture", "note", "slot", "retained", "watermark"), cur.fetchone()))
        central.close()
        return found

    def urls(self) -> list[str]:
        return [self.settings.central_url] + [self.settings.source_url(s) for s in self.settings.sources]


@pytest.fixture(scope="session")
def server_available():
    try:
        psycopg2.connect(f"{SERVER_URL}/postgres", connect_timeout=3).close()
    except psycopg2.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not answering at {SERVER_URL} ({exc}); .ci/run starts it")


@pytest.fixture
def make_env(server_available):
    """Factory: make_env(sources=..., rows=..., seed=...) -> Env with created, loaded databases."""
    made: list[Env] = []

    def make(sources=("ALB", "ARG", "AUS"), rows=200, seed=1, filler_columns=3, **overrides) -> Env:
        prefix = f"pisa_t{os.getpid()}_{next(_names)}"
        settings = load_settings({
            "PISA_CENTRAL_URL": f"{SERVER_URL}/{prefix}_central",
            "PISA_SOURCE_URL_TEMPLATE": f"{SERVER_URL}/{prefix}_src_{{cnt}}",
            "PISA_SOURCES": ",".join(sources),
            "PISA_API_ROLE": "pisa_test_api",
        }).replace(**overrides)
        env = Env(settings)
        made.append(env)
        init_central(settings)
        init_sources(settings, rows=rows, filler_columns=filler_columns, seed=seed)
        return env

    yield make
    for env in made:
        for url in env.urls():
            db.drop_database(url)


@pytest.fixture
def env(make_env) -> Env:
    """Three small sources and a central DB, not yet synced (capture auto: wal on this server)."""
    return make_env()


CAPTURES = ("xmin", "wal")


@pytest.fixture(params=CAPTURES)
def capture(request) -> str:
    """Each capture strategy in turn: for the tests every strategy must pass."""
    return request.param


@pytest.fixture
def xmin_env(make_env) -> Env:
    """As `env`, synced by xmin polls (for what only that strategy does)."""
    return make_env(capture="xmin")


@pytest.fixture
def synced(make_env) -> Env:
    """Four sources with inserts, updates, deletes and malformed values, synced and reconciled."""
    from pisa.sources.writer import Simulator
    from tests.ground_truth import sync_and_reconcile
    env = make_env(sources=("ALB", "ARG", "AUS", "BRA"), rows=300, seed=21)
    simulator = Simulator(env.settings, rate=0, update_share=0.3, delete_share=0.15, bad_share=0.2, seed=21)
    simulator.write_rows(400)
    simulator.close()
    sync_and_reconcile(env)
    return env


@pytest.fixture
def api_client():
    """Factory: api_client(env, **settings) -> a Flask test client of a fresh app (no read cache;
    a test client reads whole bodies, so /api/v1/stream ends after its first event)."""
    from dashboard import create_app
    apps = []

    def make(env: Env, **settings):
        overrides = {"api_cache_seconds": 0, "stream_max_seconds": 0, **settings}
        app = create_app({"SETTINGS": env.settings.replace(**overrides), "TESTING": True})
        apps.append(app)
        return app.test_client()
    yield make
    for app in apps:
        app.extensions["pisa_feed"].stop()      # a stream started its listener
