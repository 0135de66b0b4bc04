"""The API's role reads the central summaries and can do nothing else: each way out, tried as
that role, is refused."""
from __future__ import annotations

import psycopg2
import psycopg2.errors
import pytest

from pisa import db


def as_api_role(env, url: str | None = None):
    """A connection as the API role (to `url`'s database, default the central one)."""
    api_url = env.settings.api_url()
    if url is not None:
        api_url = api_url.rsplit("/", 1)[0] + "/" + db.database_name(url)
    return psycopg2.connect(api_url, application_name="pisa-test")


def attempt(conn, statement: str) -> str:
    """Run `statement` (autocommit); 'allowed', or the class name of the error it raised."""
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
        return "allowed"
    except psycopg2.Error as exc:
        return type(exc).__name__


def test_the_api_role_reads_the_summaries_and_nothing_else(make_env):
    env = make_env(sources=("ALB",), rows=10)
    central = as_api_role(env)
    central.autocommit = True
    try:
        assert attempt(central, "SELECT count(*) FROM country_stats, arrivals_hourly, sync_state, quarantine") == "allowed"
        assert attempt(central, "SELECT count(*) FROM facts") == "InsufficientPrivilege"     # only what sql/api reads
        assert attempt(central, "CREATE TEMP TABLE t (x int)") == "ReadOnlySqlTransaction"
        # Read-only is only the role's default: a session may turn it off. Privileges hold then.
        assert attempt(central, "SET default_transaction_read_only = off") == "allowed"
        assert {statement: attempt(central, statement) for statement in (
            "CREATE TEMP TABLE t (x int)",
            "CREATE TABLE public.t (x int)",
            "SELECT lo_create(0)",
            "SELECT lo_creat(-1)",
            "SELECT lo_from_bytea(0, 'x')",
            "UPDATE country_stats SET rows = 0",
            "DELETE FROM quarantine",
        )} == dict.fromkeys((
            "CREATE TEMP TABLE t (x int)", "CREATE TABLE public.t (x int)", "SELECT lo_create(0)",
            "SELECT lo_creat(-1)", "SELECT lo_from_bytea(0, 'x')", "UPDATE country_stats SET rows = 0",
            "DELETE FROM quarantine"), "InsufficientPrivilege")
    finally:
        central.close()
    with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
        as_api_role(env, env.settings.source_url("ALB"))


def test_no_database_the_product_creates_lets_the_api_role_in_but_central(make_env):
    env = make_env(sources=("ALB",), rows=1)
    airflow_like = env.settings.central_url + "_airflow"    # as pisa/airflow_env.py creates Airflow's
    db.create_database(airflow_like)
    try:
        with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
            as_api_role(env, airflow_like)
    finally:
        db.drop_database(airflow_like)
    conn = db.connect(env.settings.source_url("ALB"), application_name="pisa-test", autocommit=True)
    with conn.cursor() as cur:                  # an existing source made before: the next init fixes it
        cur.execute("GRANT ALL ON DATABASE " + db.database_name(env.settings.source_url("ALB")) + " TO PUBLIC")
    conn.close()
    assert as_api_role(env, env.settings.source_url("ALB")).close() is None
    assert db.create_database(env.settings.source_url("ALB")) is False
    with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
        as_api_role(env, env.settings.source_url("ALB"))
