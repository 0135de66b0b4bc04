"""The sync core: one package for the CLI, the Airflow DAGs and the tests. Who owns what:

  capture/     find a source's changes: the interface (`capture/__init__.py`) and one module per
               strategy (`xmin.py`)
  validate.py  parse and validate the four indices; malformed values become quarantine entries
  apply.py     one change batch in ONE central transaction: facts, aggregates, quarantine, deletes
  state.py     sync_state: load it, move the position after a poll's batches, record errors
  reconcile.py bucketed checksums against the central copy; repair what differs (deletes, drift)
  poll.py      one poll as a plain loop: state -> capture -> apply each batch -> reconcile? -> position
  session.py   a source's central connection (and nothing else)
  lease.py     one runner per source: take, hand over, lend; the server-side guards
  pacing.py    space polls so that all sources' polls stay under the CPU budget
  runner.py    a source's runner (connections, lease, capture, pace); once / follow all
  slots.py     one Airflow run's share of a source: take the lease, stream, hand over
"""
