-- A lease holder hears the runs that queue for a lease (sql/central/request_lease.sql), of every
-- source: the payload names the source, and the holder keeps its own.
LISTEN pisa_lease_requested
