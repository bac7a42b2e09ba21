"""What only PostgreSQL needs: the LISTEN that wakes a worker, and the claim's SQL.

Machinery the template keeps up to date; your tasks go in your apps' tasks.py, as
queue/tasks.py shows.

The trigger of migration 0002 sends the NOTIFY, which PostgreSQL delivers when the
enqueuing transaction commits: a rolled-back enqueue wakes nobody. LISTEN needs a
session of its own: point DATABASE_URL past a transaction-pooling PgBouncer.
"""

import select

from .wake import Wake

# The channel that migration 0002's trigger notifies.
CHANNEL = "queue_task_ready"

# How the claim appends the worker's id to worker_ids (jsonb), and locks its row so
# that workers pass each other's rows instead of waiting.
CLAIM_DIALECT = ("worker_ids || jsonb_build_array(%s::text)", "FOR UPDATE SKIP LOCKED")


def wake():
    """How a worker waits on PostgreSQL: LISTEN on the trigger's channel."""
    return ListenWake()


class ListenWake(Wake):
    def start(self):
        self.watch.connection.execute(f"LISTEN {CHANNEL}")

    def sleep(self, timeout):
        # select() sleeps on the socket for the whole timeout; psycopg's notifies()
        # would wake ten times a second to look.
        raw = self.watch.connection
        readable, _, _ = select.select([raw.fileno()], [], [], timeout)
        if readable:
            for _ in raw.notifies(timeout=0):  # consume the burst: it wakes nobody again
                pass
