-- A row read again at the version we already hold changes nothing: drop it before any work.
-- (A long-running source transaction pins the watermark and brings the same rows back each poll.)
DELETE FROM stage_rows s
USING facts f
WHERE f.source = %(source)s AND f.id = s.id AND f.version = s.version
