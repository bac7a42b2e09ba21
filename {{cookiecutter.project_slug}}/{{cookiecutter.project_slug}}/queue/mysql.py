"""What only MySQL and MariaDB need: the poll that wakes an idle worker.

Machinery the template keeps up to date; your tasks go in your apps' tasks.py, as
queue/tasks.py shows.

MySQL has no LISTEN/NOTIFY. An idle worker asks instead, every POLL_SECONDS on a
connection of its own, a question that an index answers without reading the table:
how many tasks are READY (counted up to READY_COUNT_CAP) and when the newest of them
was queued. A commit that queues a task, puts one back or claims one changes the
answer; the worker then claims as django-tasks-db does (SELECT ... FOR UPDATE SKIP
LOCKED, then UPDATE, in one transaction: MySQL's UPDATE has no RETURNING). The
question sees committed rows only: a rolled-back enqueue wakes nobody.
"""

import time

from django_tasks_db.models import DBTaskResult

from .wake import Wake

# How often an idle worker asks: a pickup waits half of it on average, and each
# question costs the worker and the server about a tenth of a millisecond of CPU.
POLL_SECONDS = 0.05

# READY rows counted at most per question, so that thousands of deferred tasks keep
# it cheap; past the cap, a new task still moves the newest enqueue time.
READY_COUNT_CAP = 1000

QUESTION = """
SELECT
    (SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE status = 'READY' LIMIT {cap}) AS ready),
    (SELECT MAX(enqueued_at) FROM {table} WHERE status = 'READY')
"""


def wake():
    """How a worker waits on MySQL: it polls the READY tasks' count and newest enqueue."""
    return PollWake()


class PollWake(Wake):
    def start(self):
        table = self.watch.ops.quote_name(DBTaskResult._meta.db_table)
        self.question = QUESTION.format(table=table, cap=READY_COUNT_CAP)
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
