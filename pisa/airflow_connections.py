"""The databases a DAG task talks to, as Airflow resolves its connections at run time
(`AIRFLOW_CONN_<ID>` from `pisa.airflow_env`, or a secrets backend in another deployment)."""
from __future__ import annotations


def connection_url(conn_id: str) -> str:
    """A libpq URL for an Airflow connection."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook
    from psycopg2.extensions import make_dsn

    conn = PostgresHook.get_connection(conn_id)
    return make_dsn(host=conn.host, port=conn.port, user=conn.login, password=conn.password or None,
                    dbname=conn.schema)
