-- Tell the API processes listening (sql/api/listen_figures_changed.sql) that this transaction
-- changed the figures. Delivered at commit, never for a rollback; the payload names the source.
SELECT pg_notify('pisa_figures_changed', %(source)s)
