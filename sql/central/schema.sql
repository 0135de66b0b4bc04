-- Central analytical schema: fact rows, exact pre-aggregates, arrivals, sync state, quarantine.
-- Idempotent: `pisa central init` runs it on every start.

-- One row per source row currently present, with the four parsed indices.
-- `version` is the source row's xmin when we read it: an unchanged row is skipped on re-read.
CREATE TABLE IF NOT EXISTS facts (
    source      text        NOT NULL,
    id          integer     NOT NULL,
    version     bigint      NOT NULL,
    escs        numeric,
    tmins       numeric,
    belong      numeric,
    durecec     smallint,
    content_hash bigint,       -- of the source's raw cnt and index texts (reconcile compares it)
    first_seen  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (source, id)
);
-- Central databases made before content hashes: their rows' buckets differ once and are re-read.
ALTER TABLE facts ADD COLUMN IF NOT EXISTS content_hash bigint;

-- Per-country sums and present-counts, adjusted by old-versus-new differences in the same
-- transaction as the facts. numeric sums are exact: no float drift after millions of updates.
CREATE TABLE IF NOT EXISTS country_stats (
    source       text    PRIMARY KEY,
    rows         bigint  NOT NULL DEFAULT 0,
    escs_sum     numeric NOT NULL DEFAULT 0,
    escs_n       bigint  NOT NULL DEFAULT 0,
    tmins_sum    numeric NOT NULL DEFAULT 0,
    tmins_n      bigint  NOT NULL DEFAULT 0,
    belong_sum   numeric NOT NULL DEFAULT 0,
    belong_n     bigint  NOT NULL DEFAULT 0,
    durecec_sum  numeric NOT NULL DEFAULT 0,
    durecec_n    bigint  NOT NULL DEFAULT 0
);

-- Rows currently present, by source and hour of first arrival (the sources have no timestamps).
CREATE TABLE IF NOT EXISTS arrivals_hourly (
    source  text        NOT NULL,
    hour    timestamptz NOT NULL,
    rows    bigint      NOT NULL,
    PRIMARY KEY (source, hour)
);
CREATE INDEX IF NOT EXISTS arrivals_hourly_hour ON arrivals_hourly (hour);

-- Where each source's sync stands. `watermark` is the capture's position: for xmin the xmin
-- (64-bit, xid8) of the source snapshot the last committed batch reflects, for wal the end LSN
-- of the last source transaction applied; `synced_through` is the source time it reflects.
CREATE TABLE IF NOT EXISTS sync_state (
    source              text        PRIMARY KEY,
    watermark           bigint,
    synced_through      timestamptz,
    rows_applied        bigint      NOT NULL DEFAULT 0,
    last_batch_rows     integer     NOT NULL DEFAULT 0,
    last_poll_ms        real,
    poll_interval_s     real,
    last_success_at     timestamptz,
    last_error          text,
    last_error_at       timestamptz,
    last_reconcile_at   timestamptz,
    last_reconcile_note text
);
-- The capture strategy the watermark belongs to (xmin: an xid; wal: an LSN), why it was chosen
-- or last resynced, and for wal the source's slot and the WAL it keeps from removal.
ALTER TABLE sync_state ADD COLUMN IF NOT EXISTS capture text,
                       ADD COLUMN IF NOT EXISTS capture_note text,
                       ADD COLUMN IF NOT EXISTS replication_slot text,
                       ADD COLUMN IF NOT EXISTS wal_retained_bytes bigint;

-- Malformed values of rows currently present: what, where, and why it was rejected.
CREATE TABLE IF NOT EXISTS quarantine (
    source       text        NOT NULL,
    id           integer     NOT NULL,
    column_name  text        NOT NULL,
    raw_value    text,
    reason       text        NOT NULL,
    seen_at      timestamptz NOT NULL,
    PRIMARY KEY (source, id, column_name)
);
-- An id several source rows share (a source without a primary key): one entry, column 'id',
-- reason 'duplicate id', for the rows not counted, with their number and the sum of their row
-- hashes so reconcile's bucket checksums cover every source row (sql/central/bucket_checksums.sql).
ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS duplicate_rows integer,
                       ADD COLUMN IF NOT EXISTS duplicate_checksum numeric;
CREATE INDEX IF NOT EXISTS quarantine_duplicate_ids ON quarantine (source) WHERE column_name = 'id';
CREATE INDEX IF NOT EXISTS quarantine_seen_at ON quarantine (seen_at DESC);

-- country_stats, arrivals_hourly and sync_state are rewritten several times a second per source.
-- Half of each page is left free (fillfactor) so a row's new version fits beside the old one:
-- the update is HOT and the page prunes itself, without waiting for a vacuum. Autovacuum visits
-- them after 200 dead rows, not after the default 20% of a table that small; they stay a few pages.
ALTER TABLE country_stats SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 200);
ALTER TABLE arrivals_hourly SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 200);
ALTER TABLE sync_state SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 200);
