"""The central schema: idempotent init, and a read-only role for the API."""
import psycopg2
import pytest

from pisa.central_setup import init_central

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
