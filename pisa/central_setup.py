"""Set up the central database: its schema from `sql/central/schema.sql` and the API's role."""
from __future__ import annotations

import logging

from psycopg2 import sql

from pisa import db
from pisa.config import Settings

log = logging.getLogger(__name__)


def init_central(settings: Settings, *, reset: bool = False) -> bool:
    """Create (or, with reset, recreate) the central DB, its schema and the read-only API role.

    Idempotent: on an existing database it only adds what is missing. True when created.
    """
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
    log.info("central database %s %s; API role %s may only read it",
             db.describe(settings.central_url), "created" if created else "up to date", settings.api_role)
    return created
