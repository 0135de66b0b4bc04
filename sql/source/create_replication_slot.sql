-- A replication command (a replication connection takes no bind parameters): the product's slot
-- for pgoutput, exporting a snapshot for the initial read. {slot} is psycopg2.sql.Identifier.
CREATE_REPLICATION_SLOT {slot} LOGICAL pgoutput EXPORT_SNAPSHOT
