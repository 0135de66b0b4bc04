"""Create the country source databases and bulk-load their initial rows with COPY."""
from __future__ import annotations

import io
import logging
import random
import time
from dataclasses import dataclass

from psycopg2 import sql

from pisa import db
from pisa.config import Settings
from pisa.sources import defaults
from pisa.sources.generate import RowGenerator, filler_column_names

log = logging.getLogger(__name__)

COPY_CHUNK_ROWS = 10_000


@dataclass
class SourceInitResult:
    """What `init_source` did to one source."""

    source: str
    created: bool
    rows_loaded: int


def seed_for(seed: int, source: str) -> int:
    """A per-source seed, so each country gets its own reproducible stream."""
    return seed * 1000 + sum(ord(c) * 31**i for i, c in enumerate(source))


def init_sources(settings: Settings, *, rows: int = defaults.INITIAL_ROWS,
                 filler_columns: int = defaults.FILLER_COLUMNS, seed: int = defaults.SEED,
                 reset: bool = False, progress=None) -> list[SourceInitResult]:
    """Create every configured source database and load `rows` initial rows into each."""
    if not 0 <= filler_columns <= defaults.MAX_FILLER_COLUMNS:
        raise ValueError(f"--filler-columns must be between 0 and {defaults.MAX_FILLER_COLUMNS}")
    return [init_source(settings, source, rows=rows, filler_columns=filler_columns, seed=seed,
                        reset=reset, progress=progress) for source in settings.sources]


def init_source(settings: Settings, source: str, *, rows: int, filler_columns: int, seed: int,
                reset: bool, progress=None) -> SourceInitResult:
    """Create one source database (kept as it is if it already has a table, unless reset)."""
    url = settings.source_url(source)
    db.create_database(url, reset=reset)
    conn = db.connect(url, application_name="pisa-simulator")
    try:
        with conn.cursor() as cur:
            cur.execute(db.load_sql("source/has_responses_table.sql"))
            if cur.fetchone()[0]:
                log.info("%s: source %s already has a responses table; kept as it is "
                         "(use --reset to recreate it)", source, db.describe(url))
                publish_responses(conn, settings.publication)
                return SourceInitResult(source, created=False, rows_loaded=0)
            fillers = sql.SQL("").join(sql.SQL(", {} text").format(sql.Identifier(name))
                                       for name in filler_column_names(filler_columns))
            cur.execute(sql.SQL(db.load_sql("source/create_responses.sql")).format(filler_columns=fillers))
        conn.commit()
        publish_responses(conn, settings.publication)
        generator = RowGenerator(source, random.Random(seed_for(seed, source)), filler_columns)
        loaded = copy_rows(conn, generator, generator.unique_ids(rows), progress=progress)
        with conn.cursor() as cur:
            cur.execute(db.load_sql("source/analyze_responses.sql"))
        conn.commit()
        return SourceInitResult(source, created=True, rows_loaded=loaded)
    finally:
        conn.close()


def publish_responses(conn, publication: str) -> None:
    """Create the publication wal capture reads, as a source owner would (once)."""
    with conn.cursor() as cur:
        cur.execute(db.load_sql("source/publication_exists.sql"), {"publication": publication})
        if not cur.fetchone()[0]:
            cur.execute(sql.SQL(db.load_sql("source/create_publication.sql")).format(
                publication=sql.Identifier(publication)))
    conn.commit()


def copy_rows(conn, generator: RowGenerator, ids: list[int], progress=None) -> int:
    """Bulk-load rows for `ids` with COPY, in chunks, reporting progress after each chunk."""
    started = time.monotonic()
    done = 0
    with conn.cursor() as cur:
        for start in range(0, len(ids), COPY_CHUNK_ROWS):
            chunk = ids[start:start + COPY_CHUNK_ROWS]
            buffer = io.StringIO()
            for row_id in chunk:
                buffer.write("\t".join(map(str, generator.row(row_id))))
                buffer.write("\n")
            buffer.seek(0)
            cur.copy_expert(db.load_sql("source/copy_rows.sql"), buffer)
            done += len(chunk)
            if progress:
                progress(generator.source, done, len(ids), time.monotonic() - started)
    conn.commit()
    return done
