-- A row read again at the version and content we already hold changes nothing: drop it before
-- any work. (A long-running source transaction pins the watermark and brings the same rows back
-- each poll.) The content matters too: a table swapped for a copy made in the same transaction
-- as an update brings rows back at the same version with other values.
DELETE FROM stage_rows s
USING facts f
WHERE f.source = %(source)s AND f.id = s.id AND f.version = s.version
  AND f.content_hash IS NOT DISTINCT FROM s.content_hash
