UPDATE sync_state SET last_error = %(error)s, last_error_at = now() WHERE source = %(source)s
