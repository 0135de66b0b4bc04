"""Connections and SQL files: the one module that calls `psycopg2.connect`.

SQL lives in `sql/` files named for what they do; `load_sql` reads them once. Values are always
bind parameters, identifiers are composed with `psycopg2.sql.Identifier`.
"""
from __future__ import annotations

import functools
import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from pisa.errors import CentralUnavailable, SourceUnavailable

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"

# Server-side guards: a client that dies, hangs or is stopped must not keep a lease or a
# transaction open. The idle-session timeout frees a stopped runner's lease; keepalives and the
# connection check find a vanished client even in the middle of a statement.
CENTRAL_SESSION_OPTIONS = (
    "-c statement_timeout={statement_ms} -c idle_in_transaction_session_timeout={idle_ms} "
    "-c idle_session_timeout={idle_ms} -c lock_timeout={idle_ms} -c synchronous_commit=off "
    "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3 "
    "-c client_connection_check_interval=2s"
)
SOURCE_SESSION_OPTIONS = "-c statement_timeout=300s -c idle_in_transaction_session_timeout=120s"
CONNECT_TIMEOUT_S = 5


@functools.cache
def load_sql(name: str) -> str:
    """Text of `sql/<name>`, read once."""
    return (SQL_DIR / name).read_text()


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


def connect_central(url: str, *, application_name: str = "pisa-sync", idle_timeout_s: float = 60):
    """A connection to the central database, with the server-side guards set: a statement may
    run for twice the idle timeout (a batch takes well under a second), a lock wait as long."""
    options = CENTRAL_SESSION_OPTIONS.format(idle_ms=int(idle_timeout_s * 1000),
                                             statement_ms=int(2 * idle_timeout_s * 1000))
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
    """Create the database `url` names; with reset, drop it first. True when it was created."""
    name = database_name(url)
    with maintenance_connection(url) as conn, conn.cursor() as cur:
        if reset:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        cur.execute(load_sql("admin/database_exists.sql"), (name,))
        if cur.fetchone():
            return False
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def drop_database(url: str) -> None:
    """Drop the database `url` names, disconnecting its sessions."""
    with maintenance_connection(url) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(database_name(url))))
