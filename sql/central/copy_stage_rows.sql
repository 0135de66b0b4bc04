COPY stage_rows (id, version, escs, tmins, belong, durecec, content_hash) FROM STDIN
