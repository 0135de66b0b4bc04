"""The local PostgreSQL made ready for the whole product: `scripts/prepare_postgres.sh` runs
`python -m pisa.local_server` for `make run` and `make test` alike.

* max_connections of at least 300: twenty sources under Airflow (two overlapping runs of each,
  two sessions per run, reconcile, the simulator, the API's pools and Airflow's own).
* autovacuum on: without it the tables rewritten every second (the central hot tables, Airflow's
  runs and task instances) grow without end; this machine kind's CI configuration turns it off.
* logical replication (capture `wal`): `wal_level=logical`, replication slots and WAL senders for
  twenty sources plus hand-overs and the tests' stacks, and a `replication` line in pg_hba.conf
  for 127.0.0.1 (the stock file has only `all` lines, which do not cover replication).

Prints each change it makes. Exits 3 when a change waits for a restart, which the script then
does, saying so; a server already ready is left alone.
"""
from __future__ import annotations

import sys

from psycopg2 import sql

from pisa import db
from pisa.config import load_settings

NEEDED_CONNECTIONS = 300
# Twenty sources, each with a moment of two walsenders at a hand-over, plus test stacks' slots.
NEEDED_REPLICATION_SLOTS = 64
NEEDED_WAL_SENDERS = 64
REPLICATION_HBA_LINE = "host replication all 127.0.0.1/32 trust"
RESTART_NEEDED = 3


def max_connections(url: str) -> int:
    """The server's max_connections."""
    with db.maintenance_connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.load_sql("admin/max_connections.sql"))
        return int(cur.fetchone()[0])


def _set(cur, name: str, value) -> None:
    cur.execute(sql.SQL(db.load_sql("admin/set_server_setting.sql")).format(
        name=sql.Identifier(name), value=sql.Literal(value)))


def prepare(url: str) -> tuple[list[str], bool]:
    """Make the server at `url` ready; what was changed, and whether a restart must apply it."""
    changes, restart = [], False
    with db.maintenance_connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.load_sql("admin/autovacuum.sql"))
        if not cur.fetchone()[0]:
            _set(cur, "autovacuum", "on")
            cur.execute(db.load_sql("admin/reload_configuration.sql"))
            changes.append("autovacuum was off: turned on (a reload applies it)")
        cur.execute(db.load_sql("admin/max_connections.sql"))
        if int(cur.fetchone()[0]) < NEEDED_CONNECTIONS:
            _set(cur, "max_connections", NEEDED_CONNECTIONS)
            changes.append(f"max_connections raised to {NEEDED_CONNECTIONS} for twenty sources under Airflow "
                           "(a restart applies it)")
            restart = True
        replication_changes, replication_restart = _prepare_replication(cur)
        changes += replication_changes
        restart = restart or replication_restart
    return changes, restart


def _prepare_replication(cur) -> tuple[list[str], bool]:
    cur.execute(db.load_sql("admin/replication_settings.sql"))
    wal_level, slots, senders, hba_file, replication_allowed = cur.fetchone()
    changes, restart = [], False
    if wal_level != "logical":
        _set(cur, "wal_level", "logical")
        changes.append(f"wal_level was {wal_level}: set to logical for logical replication capture "
                       "(a restart applies it)")
        restart = True
    for name, have, need in (("max_replication_slots", slots, NEEDED_REPLICATION_SLOTS),
                             ("max_wal_senders", senders, NEEDED_WAL_SENDERS)):
        if have < need:
            _set(cur, name, need)
            changes.append(f"{name} raised from {have} to {need} for twenty sources plus hand-overs "
                           "(a restart applies it)")
            restart = True
    if not replication_allowed:
        with open(hba_file, "a", encoding="utf-8") as hba:
            hba.write(f"# added by the PISA dashboard (pisa/local_server.py): logical replication capture\n"
                      f"{REPLICATION_HBA_LINE}\n")
        cur.execute(db.load_sql("admin/reload_configuration.sql"))
        changes.append(f"pg_hba.conf had no replication line for 127.0.0.1: added '{REPLICATION_HBA_LINE}' "
                       f"to {hba_file} (a reload applies it)")
    return changes, restart


def main() -> int:
    changes, restart = prepare(load_settings().central_url)
    for change in changes:
        print(f"PostgreSQL: {change}")
    return RESTART_NEEDED if restart else 0


if __name__ == "__main__":
    sys.exit(main())
