#!/bin/sh
# Run once by the postgres image when it creates its data directory (docker-compose.yml): lets the
# product's containers open logical replication connections (wal capture). `make run` prepares a
# local server the same way (pisa/local_server.py).
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
