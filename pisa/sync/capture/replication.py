"""A source's logical replication, outside the stream: whether wal capture can run there (and
why not), the product's slot (its name, its state, the WAL it keeps), and removing slots.

Slot names are unique per PostgreSQL cluster, and a slot belongs to one consumer. So the name
carries the stack: the central database's name and a hash of its address. Two stacks on one
server (the tests, a second environment) never share a slot, and `pisa slots drop` removes
exactly the product's slots (`pisa_...`) from a source.
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass

from psycopg2.extensions import parse_dsn

from pisa import db
from pisa.config import Settings
from pisa.sync.capture.pgoutput import parse_lsn
from pisa.sync.source_reads import fetch_all

log = logging.getLogger(__name__)

SLOT_PREFIX = "pisa_"
MAX_NAME = 63                   # NAMEDATALEN - 1


def slot_name(settings: Settings, source: str) -> str:
    """The product's slot for `source` in this stack: pisa_<central db>_<hash>_<source>, say
    pisa_central_4f1c2a_alb. The same whichever form the central URL takes (a URL for the CLI,
    key=value from an Airflow connection): only its host, port and database count."""
    central = parse_dsn(settings.central_url)
    database = central.get("dbname", "")
    stack = re.sub(r"[^a-z0-9_]", "_", database.lower()).removeprefix(SLOT_PREFIX)[:32]
    address = f"{central.get('host') or 'localhost'}:{central.get('port') or 5432}/{database}"
    digest = hashlib.sha1(address.encode()).hexdigest()[:6]
    return f"{SLOT_PREFIX}{stack}_{digest}_{source.lower()}"[:MAX_NAME]


def unavailable_reason(source_conn, publication: str) -> str | None:
    """Why wal capture cannot run on this source (None: it can). Leaves no transaction open."""
    try:
        wal_level, may_replicate, published, has_identity = fetch_all(
            source_conn, "source/replication_readiness.sql", {"publication": publication})[0]
    finally:
        source_conn.rollback()
    if wal_level != "logical":
        return f"the source's wal_level is {wal_level}, not logical"
    if not may_replicate:
        return "the source role may not replicate (it needs REPLICATION, or rds_replication on RDS)"
    if not published:
        return (f"no publication {publication} covering responses for inserts, updates, deletes and "
                "truncates")
    if not has_identity:
        return "responses has no primary key or replica identity, so it must not be published"
    return None


@dataclass(frozen=True)
class SlotStatus:
    """A slot as `pg_replication_slots` shows it."""

    wal_status: str | None          # reserved, extended, unreserved, or lost (invalidated)
    active_pid: int | None
    confirmed_flush_lsn: int | None
    retained_bytes: int | None
    has_responses: bool = True

    @property
    def lost(self) -> bool:
        return self.wal_status == "lost"


def slot_status(source_conn, slot: str) -> SlotStatus | None:
    """The slot's state, or None when it does not exist. Leaves no transaction open."""
    try:
        rows = fetch_all(source_conn, "source/slot_status.sql", {"slot": slot})
    finally:
        source_conn.rollback()
    if not rows:
        return None
    wal_status, pid, confirmed, retained, has_responses = rows[0]
    return SlotStatus(wal_status, pid, parse_lsn(confirmed) if confirmed else None, retained, has_responses)


def drop_product_slots(source_url: str, only: str | None = None) -> list[str]:
    """Drop the product's slots (or only the slot named `only`) from one source database; the
    names dropped. Names are matched literally: `_` is a LIKE wildcard, so it is escaped."""
    pattern = _like_literal(only) if only is not None else _like_literal(SLOT_PREFIX) + "%"
    return db.drop_replication_slots(source_url, pattern)


def _like_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
