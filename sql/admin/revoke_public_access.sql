-- Nobody but the owner (and the roles granted below it) may connect to, or make temp tables
-- in, a database the product creates: PUBLIC's defaults (CONNECT, TEMP) would let the API's
-- read-only role into the source and Airflow databases. Idempotent.
REVOKE ALL ON DATABASE {database} FROM PUBLIC
