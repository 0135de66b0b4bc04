UPDATE sync_state SET last_reconcile_at = now(), last_reconcile_note = %(note)s WHERE source = %(source)s
