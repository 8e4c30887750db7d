"""Publishing: moving the live revision and delivering it to outlets.

Pure parts (no Flask, database or Celery): ``formats`` (ninjs, Atom), ``signing``,
``urlguard`` (the address check) and ``webhook`` (the pinned, deadline-bound client). Use
cases: ``publishing`` (publish, take down, embargo), ``outbox`` (deliveries created in the
transaction of the change), ``delivery_runs`` (send one delivery under a lease; the
sweeper), ``deliveries`` (the log, redeliver, cancel), ``outlets`` and ``feeds``.
"""
