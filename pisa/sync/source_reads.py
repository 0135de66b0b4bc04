"""Reads from a source database: row batches through a server-side cursor, errors in words.

Shared by the capture strategies and reconcile. Runs inside whatever transaction (snapshot) the
caller opened on the source connection, so a catch-up of millions of rows streams in batches.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import psycopg2
import psycopg2.errors

from pisa import db
from pisa.errors import SchemaMismatch, SourceUnavailable


def stream_rows(source_conn, name: str, params: dict, batch_rows: int) -> Iterator[list[tuple]]:
    """Yield the rows of `sql/<name>` in non-empty batches of at most `batch_rows`."""
    with translated_errors():
        with source_conn.cursor(name="pisa_source_read") as cur:
            cur.itersize = batch_rows
            cur.execute(db.load_sql(name), params)
            while batch := cur.fetchmany(batch_rows):
                yield batch


def fetch_all(source_conn, name: str, params: dict) -> list[tuple]:
    """All rows of `sql/<name>` (small results: aggregates, a snapshot's identity)."""
    with translated_errors(), source_conn.cursor() as cur:
        cur.execute(db.load_sql(name), params)
        return cur.fetchall()


@contextmanager
def translated_errors() -> Iterator[None]:
    """Turn a source's database errors into the pipeline's named ones, with the reason."""
    try:
        yield
    except psycopg2.errors.UndefinedColumn as exc:
        raise SchemaMismatch(f"source table responses lacks a needed column: {db.first_line(exc)}") from exc
    except psycopg2.errors.UndefinedTable as exc:
        raise SchemaMismatch("source has no responses table") from exc
    except psycopg2.OperationalError as exc:
        raise SourceUnavailable(f"source read failed: {db.first_line(exc)}") from exc
