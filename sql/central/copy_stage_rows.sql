COPY stage_rows (id, version, escs, tmins, belong, durecec) FROM STDIN
