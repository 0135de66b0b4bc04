"""Connections and SQL files: the one module that calls `psycopg2.connect`.

SQL lives in `sql/` files named for what they do; `load_sql` reads them once. Values are always
bind parameters, identifiers are composed with `psycopg2.sql.Identifier`.
"""
from __future__ import annotations

import functools
import logging
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import psycopg2
import psycopg2.errors
import psycopg2.extensions
from psycopg2 import sql
from psycopg2.extras import LogicalReplicationConnection

from pisa.errors import CentralUnavailable, SourceUnavailable

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"

SOURCE_SESSION_OPTIONS = "-c statement_timeout=300s -c idle_in_transaction_session_timeout=120s"
CONNECT_TIMEOUT_S = 5


@functools.cache
def load_sql(name: str) -> str:
    """Text of `sql/<name>`, read once."""
    return (SQL_DIR / name).read_text()


def load_command(name: str) -> str:
    """A replication command from `sql/<name>`, without its comment lines (the replication
    protocol's grammar has no comments)."""
    return "\n".join(line for line in load_sql(name).splitlines() if not line.startswith("--"))


def describe(url: str) -> str:
    """A URL safe to log: host, port and database, never the password."""
    params = psycopg2.extensions.parse_dsn(url)
    return f"{params.get('host', 'localhost')}:{params.get('port', '5432')}/{params.get('dbname', '?')}"


def database_name(url: str) -> str:
    """The database a libpq URL points at."""
    return psycopg2.extensions.parse_dsn(url)["dbname"]


def connect(url: str, *, application_name: str, options: str = "", autocommit: bool = False):
    """Open one connection; errors propagate as psycopg2.OperationalError."""
    conn = psycopg2.connect(url, application_name=application_name, options=options,
                            connect_timeout=CONNECT_TIMEOUT_S)
    conn.autocommit = autocommit
    return conn


def connect_central(url: str, *, application_name: str, options: str):
    """A connection to the central database, with session `options` (a sync runner's lease
    guards: `pisa.sync.lease.session_guards`)."""
    try:
        return connect(url, application_name=application_name, options=options)
    except psycopg2.OperationalError as exc:
        raise CentralUnavailable(f"central database {describe(url)} is unreachable: {first_line(exc)}") from exc


def connect_source(url: str, *, application_name: str = "pisa-sync"):
    """A read-only connection to one source database."""
    try:
        conn = connect(url, application_name=application_name, options=SOURCE_SESSION_OPTIONS)
    except psycopg2.OperationalError as exc:
        raise SourceUnavailable(f"source {describe(url)} is unreachable: {first_line(exc)}") from exc
    conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ, readonly=True)
    return conn


def connect_replication(url: str, *, application_name: str):
    """A logical replication connection to one source database (its WAL sender)."""
    try:
        return psycopg2.connect(url, application_name=application_name, connect_timeout=CONNECT_TIMEOUT_S,
                                connection_factory=LogicalReplicationConnection)
    except psycopg2.OperationalError as exc:
        raise SourceUnavailable(f"source {describe(url)} refused a replication connection: {first_line(exc)}") from exc


def first_line(exc: BaseException) -> str:
    """The first line of a database error, for one-line log messages."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def maintenance_connection(url: str) -> Iterator:
    """An autocommit connection to the `postgres` database of the server `url` points at."""
    conn = psycopg2.connect(url, dbname="postgres", application_name="pisa-admin",
                            connect_timeout=CONNECT_TIMEOUT_S)
    conn.autocommit = True
    try:
        yield conn
    finally:
        conn.close()


def create_database(url: str, *, reset: bool = False) -> bool:
    """Create the database `url` names; with reset, drop it first. True when it was created.
    Either way PUBLIC keeps no access to it (no CONNECT, no TEMP): only its owner and the roles
    it grants, such as the API role on the central database, get in."""
    name = database_name(url)
    with maintenance_connection(url) as conn, conn.cursor() as cur:
        if reset:
            cur.execute(_database_statement("admin/drop_database.sql", name))
        cur.execute(load_sql("admin/database_exists.sql"), (name,))
        created = not cur.fetchone()
        if created:
            cur.execute(_database_statement("admin/create_database.sql", name))
        cur.execute(_database_statement("admin/revoke_public_access.sql", name))
        return created


def drop_database(url: str) -> None:
    """Drop the database `url` names, disconnecting its sessions; its replication slots first
    (a database with logical slots cannot be dropped, and a slot left behind would keep WAL)."""
    drop_replication_slots(url, "%")
    with maintenance_connection(url) as conn, conn.cursor() as cur:
        cur.execute(_database_statement("admin/drop_database.sql", database_name(url)))


def _database_statement(name: str, database: str) -> sql.Composed:
    return sql.SQL(load_sql(name)).format(database=sql.Identifier(database))


SLOT_DROP_WAIT_S = 5.0      # a terminated WAL sender exits within moments


def drop_replication_slots(url: str, pattern: str) -> list[str]:
    """Drop the replication slots of the database `url` names whose names match the LIKE
    `pattern`, ending their readers first; the names dropped. A database that does not exist
    or cannot be reached has none to drop (the latter is logged)."""
    try:
        conn = connect(url, application_name="pisa-admin", autocommit=True)
    except psycopg2.OperationalError as exc:
        if "does not exist" not in str(exc):
            log.warning("could not reach %s to drop its replication slots: %s", describe(url), first_line(exc))
        return []
    try:
        with conn.cursor() as cur:
            cur.execute(load_sql("source/product_slots.sql"), {"pattern": pattern})
            names = [name for name, _ in cur.fetchall()]
        return [name for name in names if _drop_slot(conn, name)]
    finally:
        conn.close()


def _drop_slot(conn, slot: str) -> bool:
    deadline = time.monotonic() + SLOT_DROP_WAIT_S
    while True:
        with conn.cursor() as cur:
            cur.execute(load_sql("source/slot_status.sql"), {"slot": slot})
            row = cur.fetchone()
            if row is None:
                return False
            active_pid = row[1]
            if active_pid is None:
                try:
                    cur.execute(load_sql("source/drop_slot.sql"), {"slot": slot})
                    return True
                except psycopg2.errors.ObjectInUse:
                    pass                    # a reader started meanwhile: end it too
            else:
                cur.execute(load_sql("source/end_slot_reader.sql"), {"pid": active_pid})
        if time.monotonic() > deadline:
            raise TimeoutError(f"replication slot {slot} stayed in use for {SLOT_DROP_WAIT_S:.0f} s")
        time.sleep(0.05)
