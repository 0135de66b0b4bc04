"""Rows the tests write into a source, as the outside world would (committed by the caller)."""
from __future__ import annotations


def insert_row(conn, row_id, cnt="ALB", escs="0.5", tmins="1500", belong="0.1", durecec="3"):
    with conn.cursor() as cur:
        cur.execute("INSERT INTO responses (id, cnt, escs, tmins, belong, durecec) VALUES (%s, %s, %s, %s, %s, %s)",
                    (row_id, cnt, escs, tmins, belong, durecec))
