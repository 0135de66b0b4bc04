COPY stage_duplicates (id, version, content_hash) FROM STDIN
