"""Claim the most urgent ready task in one statement, in one round trip.

django-tasks-db claims in a transaction of four statements (BEGIN, SELECT ... FOR
UPDATE SKIP LOCKED, UPDATE, COMMIT; on SQLite under BEGIN EXCLUSIVE). One UPDATE
whose WHERE picks the row, RETURNING it, does the same atomically: on PostgreSQL the
subquery's FOR UPDATE SKIP LOCKED lets workers pass each other's rows, on SQLite the
statement holds the write lock from start to end. Same order as django-tasks-db:
priority, then run_after, then enqueue time.
"""

from django.db import connection
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

# How each database appends the worker's id to the JSON list of worker_ids, and
# locks the chosen row.
DIALECTS = {
    "postgresql": ("worker_ids || jsonb_build_array(%s::text)", "FOR UPDATE SKIP LOCKED"),
    "sqlite": ("json_insert(worker_ids, '$[#]', %s)", ""),
}

CLAIM = """
UPDATE {table} SET status = %s, started_at = %s, worker_ids = {append}
WHERE id = (
    SELECT id FROM {table}
    WHERE status = %s AND backend_name = %s AND (run_after = %s OR run_after <= %s){queues}
    ORDER BY priority DESC, run_after, enqueued_at
    LIMIT 1 {lock}
)
RETURNING *
"""


def task_claim(*, worker_id, backend_name, queue_names=None, excluded_queue_names=()):
    """Mark the most urgent ready task RUNNING for this worker and return it, or None.

    queue_names None means every queue. Commits at once (autocommit).
    """
    append, lock = DIALECTS[connection.vendor]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    date_max = connection.ops.adapt_datetimefield_value(get_date_max())
    params = [TaskResultStatus.RUNNING, now, worker_id]
    params += [TaskResultStatus.READY, backend_name, date_max, now]
    queues = ""
    if queue_names is not None:
        queues += f" AND queue_name IN ({', '.join(['%s'] * len(queue_names))})"
        params += queue_names
    if excluded_queue_names:
        queues += f" AND queue_name NOT IN ({', '.join(['%s'] * len(excluded_queue_names))})"
        params += excluded_queue_names
    sql = CLAIM.format(table=DBTaskResult._meta.db_table, append=append, lock=lock, queues=queues)
    return next(iter(DBTaskResult.objects.raw(sql, params)), None)


def claims_in_one_statement():
    """Whether this database has a one-statement claim; others use django-tasks-db's."""
    return connection.vendor in DIALECTS
