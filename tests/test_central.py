"""The central schema: idempotent init, and a read-only role for the API."""
import psycopg2
import pytest

from pisa import db
from pisa.central_setup import init_central
from pisa.sync.session import SyncSession

WRITES = ("INSERT INTO country_stats (source) VALUES ('XXX')", "DELETE FROM facts",
          "UPDATE sync_state SET last_error = 'x'", "CREATE TABLE sneaky (x int)")


def test_init_is_idempotent_and_keeps_data(env):
    conn = env.central_conn()
    with conn.cursor() as cur:
        cur.execute("INSERT INTO country_stats (source, rows) VALUES ('ALB', 5)")
    assert init_central(env.settings) is False
    with conn.cursor() as cur:
        cur.execute("SELECT rows FROM country_stats WHERE source = 'ALB'")
        assert cur.fetchone() == (5,)
    conn.close()


def test_the_api_role_can_read_but_not_write(env):
    url = env.settings.central_url.replace("postgres@", f"{env.settings.api_role}@")
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM country_stats")
        assert cur.fetchone() == (0,)
        for statement in WRITES:                       # read-only sessions by default...
            with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction):
                cur.execute(statement)
        cur.execute("SET default_transaction_read_only = off")
        for statement in WRITES:                       # ...and no write privilege either
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(statement)
    conn.close()


def test_reset_recreates_an_empty_central_database(env):
    conn = env.central_conn()
    with conn.cursor() as cur:
        cur.execute("INSERT INTO country_stats (source, rows) VALUES ('ALB', 5)")
    conn.close()
    assert init_central(env.settings, reset=True) is True
    conn = env.central_conn()
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM country_stats")
        assert cur.fetchone() == (0,)
    conn.close()


def test_a_one_row_batch_looks_its_row_up_rather_than_reading_the_sources_facts(env):
    """The staging tables' statistics make the planner expect a batch's real size: with none, it
    expected 550 rows and hashed every fact of the source for each batch of one."""
    conn = env.central_conn()
    with conn.cursor() as cur:
        cur.execute("INSERT INTO facts (source, id, version, first_seen, updated_at) "
                    "SELECT 'ALB', g, 1, now(), now() FROM generate_series(1, 20000) g")
        cur.execute("ANALYZE facts")
    conn.commit()
    conn.close()
    session = SyncSession(env.settings.central_url, "ALB", application_name="test", lease_timeout_s=30)
    try:
        with session.transaction() as cur:
            cur.execute("INSERT INTO stage_rows (id, version) VALUES (12345, 2)")
            for name in ("central/drop_unchanged_rows.sql", "central/apply_changed_rows.sql"):
                cur.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + db.load_sql(name),
                            {"source": "ALB", "seen_at": "2026-12-07T08:00:00Z"})
                plan = cur.fetchone()[0][0]["Plan"]
                touched = plan["Shared Hit Blocks"] + plan["Shared Read Blocks"]
                assert touched < 30, f"{name}: {touched} blocks for a batch of one row"
            session.rollback()
    finally:
        session.close()
