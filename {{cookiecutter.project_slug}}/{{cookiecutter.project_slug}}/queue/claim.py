"""Claim the most urgent ready task in one statement, in one round trip.

Machinery the template keeps up to date; your tasks go in your apps' tasks.py, as
queue/tasks.py shows.

django-tasks-db claims in a transaction of four statements (BEGIN, SELECT ... FOR
UPDATE SKIP LOCKED, UPDATE, COMMIT; on SQLite under BEGIN EXCLUSIVE). One UPDATE
whose WHERE picks the row, RETURNING it, does the same atomically: where rows can be
locked, the subquery's SKIP LOCKED lets workers pass each other's rows; on SQLite the
statement holds the write lock from start to end. Same order as django-tasks-db:
priority, then run_after, then enqueue time. Times are the database's, never the
worker's: a worker whose clock is wrong can neither look dead nor run a task early.
"""

from django.db import connection
from django.db.models.functions import Now
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from .vendor import vendor_module

# How SQLite appends the worker's id to the JSON list of worker_ids, and locks the
# chosen row (no need: the statement holds the database's write lock). Another
# database's dialect comes with its module (vendor.py).
SQLITE_DIALECT = ("json_insert(worker_ids, '$[#]', %s)", "")

CLAIM = """
UPDATE {table} SET status = %s, started_at = {now}, worker_ids = {append}
WHERE id = (
    SELECT id FROM {table}
    WHERE status = %s AND backend_name = %s AND (run_after = %s OR run_after <= {now}){queues}
    ORDER BY priority DESC, run_after, enqueued_at
    LIMIT 1 {lock}
)
RETURNING *
"""


def task_claim(*, worker_id, backend_name, queue_names=None, excluded_queue_names=()):
    """Mark the most urgent ready task RUNNING for this worker and return it, or None.

    queue_names None means every queue. Commits at once (autocommit).
    """
    append, lock = claim_dialect()
    date_max = connection.ops.adapt_datetimefield_value(get_date_max())
    params = [TaskResultStatus.RUNNING, worker_id]
    params += [TaskResultStatus.READY, backend_name, date_max]
    queues = ""
    if queue_names is not None:
        queues += f" AND queue_name IN ({', '.join(['%s'] * len(queue_names))})"
        params += queue_names
    if excluded_queue_names:
        queues += f" AND queue_name NOT IN ({', '.join(['%s'] * len(excluded_queue_names))})"
        params += excluded_queue_names
    sql = CLAIM.format(
        table=DBTaskResult._meta.db_table, now=now_sql(), append=append, lock=lock, queues=queues
    )
    return next(iter(DBTaskResult.objects.raw(sql, params)), None)


def now_sql():
    """The database's own clock as SQL, as Django's Now() writes it for this database."""
    compiler = DBTaskResult.objects.all().query.get_compiler(connection=connection)
    sql, _ = compiler.compile(Now())  # no parameters, on every database
    return sql


def claim_dialect():
    """This database's (append, lock) SQL for the claim, or None when it has none."""
    if connection.vendor == "sqlite":
        return SQLITE_DIALECT
    return getattr(vendor_module(connection), "CLAIM_DIALECT", None)
