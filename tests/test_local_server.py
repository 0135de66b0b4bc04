"""The local PostgreSQL made ready for the product (`scripts/prepare_postgres.sh`): autovacuum
on (this machine kind's CI configuration turns it off), max_connections high enough, logical
replication allowed."""
from __future__ import annotations

import time

import psycopg2
from psycopg2.extras import LogicalReplicationConnection

from pisa import db
from pisa.local_server import NEEDED_CONNECTIONS, NEEDED_REPLICATION_SLOTS, NEEDED_WAL_SENDERS, max_connections, prepare
from tests.conftest import SERVER_URL

URL = f"{SERVER_URL}/postgres"


def autovacuum_on() -> bool:
    with db.maintenance_connection(URL) as conn, conn.cursor() as cur:
        cur.execute(db.load_sql("admin/autovacuum.sql"))
        return cur.fetchone()[0]


def settles(expected: bool) -> bool:
    """A reload reaches new sessions within moments."""
    deadline = time.monotonic() + 5
    while autovacuum_on() != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    return autovacuum_on() == expected


def test_autovacuum_turned_off_is_turned_back_on_without_a_restart(server_available):
    with db.maintenance_connection(URL) as conn, conn.cursor() as cur:
        cur.execute("ALTER SYSTEM SET autovacuum = off")
        cur.execute("SELECT pg_reload_conf()")
    assert settles(False)
    changes, restart = prepare(URL)
    assert changes == ["autovacuum was off: turned on (a reload applies it)"] and restart is False
    assert settles(True)
    assert prepare(URL) == ([], False)                  # ready: left alone
    assert max_connections(URL) >= NEEDED_CONNECTIONS    # make test prepared it first


def test_the_server_is_ready_for_logical_replication(server_available):
    """make test prepared it: wal_level, slots and senders, and a replication line in pg_hba."""
    with db.maintenance_connection(URL) as conn, conn.cursor() as cur:
        cur.execute(db.load_sql("admin/replication_settings.sql"))
        wal_level, slots, senders, _, replication_allowed = cur.fetchone()
    assert (wal_level, replication_allowed) == ("logical", True)
    assert slots >= NEEDED_REPLICATION_SLOTS and senders >= NEEDED_WAL_SENDERS
    conn = psycopg2.connect(URL, connection_factory=LogicalReplicationConnection)
    try:
        conn.cursor().execute("IDENTIFY_SYSTEM")
    finally:
        conn.close()
