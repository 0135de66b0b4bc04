"""Set up the central database: its schema from `sql/central/schema.sql` and the API's role."""
from __future__ import annotations

import logging

import psycopg2
import psycopg2.errors
from psycopg2 import sql

from pisa import db
from pisa.config import Settings

log = logging.getLogger(__name__)


def init_central(settings: Settings, *, reset: bool = False) -> bool:
    """Create (or, with reset, recreate) the central DB, its schema and the read-only API role.

    Idempotent: on an existing database it only adds what is missing. True when created.
    Replication slots are not left behind: a reset drops the stack's slots on every source (a
    new central copy starts from new slots), and an init drops those of sources no longer
    configured (PISA_SOURCES), which would otherwise keep WAL on them forever.
    """
    if reset:
        _drop_slots(settings, set(settings.sources) | set(_sources_with_slots(settings)), "the central database is reset")
    created = db.create_database(settings.central_url, reset=reset)
    conn = db.connect(settings.central_url, application_name="pisa-admin")
    try:
        with conn.cursor() as cur:
            cur.execute(db.load_sql("central/schema.sql"))
            role = sql.Identifier(settings.api_role)
            cur.execute(sql.SQL(db.load_sql("central/api_role.sql")).format(
                role=role, role_literal=sql.Literal(settings.api_role),
                database=sql.Identifier(db.database_name(settings.central_url))),
                {"password": settings.api_password or None})
        conn.commit()
    finally:
        conn.close()
    removed = set(_sources_with_slots(settings)) - set(settings.sources)
    _drop_slots(settings, removed, "the source is no longer configured")
    log.info("central database %s %s; API role %s may only read it",
             db.describe(settings.central_url), "created" if created else "up to date", settings.api_role)
    return created


def _sources_with_slots(settings: Settings) -> list[str]:
    """Sources whose replication slot the central copy records (none when it does not exist)."""
    try:
        conn = db.connect(settings.central_url, application_name="pisa-admin", autocommit=True)
    except psycopg2.OperationalError:
        return []
    try:
        with conn.cursor() as cur:
            cur.execute(db.load_sql("central/sources_with_slots.sql"))
            return [source for (source,) in cur.fetchall()]
    except psycopg2.errors.UndefinedTable:      # a database made before this schema
        return []
    finally:
        conn.close()


def _drop_slots(settings: Settings, sources: set[str], why: str) -> None:
    from pisa.sync.capture.replication import drop_product_slots, slot_name
    for source in sorted(sources):
        for name in drop_product_slots(settings.source_url(source), slot_name(settings, source)):
            log.info("%s: dropped replication slot %s: %s", source, name, why)
        if source not in settings.sources:
            _forget_slot(settings, source)


def _forget_slot(settings: Settings, source: str) -> None:
    conn = db.connect(settings.central_url, application_name="pisa-admin", autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(db.load_sql("central/forget_slot.sql"), {"source": source})
    finally:
        conn.close()
