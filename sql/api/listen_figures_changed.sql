-- An API process's listening connection: the sync's transactions that change figures notify
-- this channel (sql/central/notify_figures_changed.sql).
LISTEN pisa_figures_changed
