"""The local PostgreSQL made ready for the whole product: `scripts/prepare_postgres.sh` runs
`python -m pisa.local_server` for `make run` and `make test` alike.

* max_connections of at least 300: twenty sources under Airflow (two overlapping runs of each,
  two sessions per run, reconcile, the simulator, the API's pools and Airflow's own).
* autovacuum on: without it the tables rewritten every second (the central hot tables, Airflow's
  runs and task instances) grow without end; this machine kind's CI configuration turns it off.

Prints each change it makes. Exits 3 when a change waits for a restart (max_connections), which
the script then does, saying so; a server already ready is left alone.
"""
from __future__ import annotations

import sys

from psycopg2 import sql

from pisa import db
from pisa.config import load_settings

NEEDED_CONNECTIONS = 300
RESTART_NEEDED = 3


def max_connections(url: str) -> int:
    """The server's max_connections."""
    with db.maintenance_connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.load_sql("admin/max_connections.sql"))
        return int(cur.fetchone()[0])


def prepare(url: str) -> tuple[list[str], bool]:
    """Make the server at `url` ready; what was changed, and whether a restart must apply it."""
    changes, restart = [], False
    with db.maintenance_connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.load_sql("admin/autovacuum.sql"))
        if not cur.fetchone()[0]:
            cur.execute(db.load_sql("admin/turn_on_autovacuum.sql"))
            cur.execute(db.load_sql("admin/reload_configuration.sql"))
            changes.append("autovacuum was off: turned on (a reload applies it)")
        cur.execute(db.load_sql("admin/max_connections.sql"))
        if int(cur.fetchone()[0]) < NEEDED_CONNECTIONS:
            cur.execute(sql.SQL(db.load_sql("admin/raise_max_connections.sql")).format(
                value=sql.Literal(NEEDED_CONNECTIONS)))
            changes.append(f"max_connections raised to {NEEDED_CONNECTIONS} for twenty sources under Airflow "
                           "(a restart applies it)")
            restart = True
    return changes, restart


def main() -> int:
    changes, restart = prepare(load_settings().central_url)
    for change in changes:
        print(f"PostgreSQL: {change}")
    return RESTART_NEEDED if restart else 0


if __name__ == "__main__":
    sys.exit(main())
