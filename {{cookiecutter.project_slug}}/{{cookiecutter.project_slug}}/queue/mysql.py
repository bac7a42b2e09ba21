"""What only MySQL and MariaDB need: the poll that wakes an idle worker.

Machinery the template keeps up to date; your tasks go in your apps' tasks.py, as
queue/tasks.py shows.

MySQL has no LISTEN/NOTIFY. An idle worker asks instead, every POLL_SECONDS on a
connection of its own, a question that the index of migration 0003 answers without
reading the table, at the same cost however many tasks wait deferred: when the newest
READY task was queued, and how many tasks run. A commit that queues a task moves the
first; one that claims a task, finishes it, or puts it back (a retry, a dead worker's
task) moves the second. Then the worker claims as django-tasks-db does (SELECT ... FOR
UPDATE SKIP LOCKED, then UPDATE, in one transaction: MySQL's UPDATE has no
RETURNING). The question sees committed rows only: a rolled-back enqueue wakes nobody.
A commit it cannot see (a task queued with an earlier time than a deferred task's,
while no task starts or ends) waits for the fallback look, `--interval`.
"""

import time

from django_tasks_db.models import DBTaskResult

from .wake import Wake

# How often an idle worker asks: a pickup waits half of it on average, and each
# wake-up and question costs the worker a quarter of a millisecond of CPU, the server
# a tenth (docs/design-decisions.md).
POLL_SECONDS = 0.1

QUESTION = """
SELECT
    (SELECT MAX(enqueued_at) FROM {table} WHERE status = 'READY'),
    (SELECT COUNT(*) FROM {table} WHERE status = 'RUNNING')
"""


def wake():
    """How a worker waits on MySQL: it polls the newest READY task and the running count."""
    return PollWake()


class PollWake(Wake):
    def start(self):
        table = self.watch.ops.quote_name(DBTaskResult._meta.db_table)
        self.question = QUESTION.format(table=table)
        self.cursor = self.watch.connection.cursor()  # MySQLdb's own: no Django per poll
        self.answer = self.ask()

    def ask(self):
        self.cursor.execute(self.question)
        return self.cursor.fetchone()

    def sleep(self, timeout):
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(POLL_SECONDS, left))
            answer = self.ask()
            if answer != self.answer:
                self.answer = answer
                return
