"""What the queue holds right now, for /healthz and `manage.py queue_status`.

Machinery the template keeps up to date; your tasks go in your apps' tasks.py, as
queue/tasks.py shows.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Min, Q
from django.db.models.functions import Now
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from .heartbeat import live_workers
from .models import Worker

# /healthz counts ready tasks up to this many: it means "this many or more".
READY_COUNT_CAP = 1000


@dataclass(frozen=True, kw_only=True)
class QueueState:
    name: str
    ready: int
    oldest_seconds: float
    running: int
    failed: int


def queue_states():
    """Per queue: the tasks ready to run now, how long the oldest has waited, how many
    run and how many failed."""
    now = timezone.now()
    # What DBTaskResult.objects.ready() selects: not deferred, or due by now.
    ready = Q(status=TaskResultStatus.READY) & (Q(run_after=get_date_max()) | Q(run_after__lte=now))
    rows = (
        DBTaskResult.objects.values("queue_name")
        .annotate(
            ready=Count("id", filter=ready),
            oldest=Min("enqueued_at", filter=ready),
            running=Count("id", filter=Q(status=TaskResultStatus.RUNNING)),
            failed=Count("id", filter=Q(status=TaskResultStatus.FAILED)),
        )
        .order_by("queue_name")
    )
    return [
        QueueState(
            name=row["queue_name"],
            ready=row["ready"],
            oldest_seconds=(now - row["oldest"]).total_seconds() if row["oldest"] else 0.0,
            running=row["running"],
            failed=row["failed"],
        )
        for row in rows
    ]


def backlog():
    """What /healthz shows: (tasks ready now, at most READY_COUNT_CAP; the oldest's age).

    Two index lookups that read at most READY_COUNT_CAP rows, however many tasks the
    table keeps: the count stops at the cap, and the oldest comes first in the partial
    index of migration 0003_ready_enqueued_index.
    """
    ready = DBTaskResult.objects.filter(status=TaskResultStatus.READY).filter(
        Q(run_after=get_date_max()) | Q(run_after__lte=Now())
    )
    # Only indexed columns, so that the index covers the count: no table row is read.
    count = ready.order_by().values("status")[:READY_COUNT_CAP].count()
    oldest = (
        ready.annotate(now=Now()).order_by("enqueued_at").values_list("enqueued_at", "now").first()
    )
    return count, (oldest[1] - oldest[0]).total_seconds() if oldest else 0.0


def workers_alive(*, host):
    """What /healthz shows of the workers: (how many are alive, how many of them on host).

    One query over the heartbeat rows, one per worker, with the rule that recovery uses.
    """
    counts = live_workers(dead_after=settings.TASK_WORKER_DEAD_AFTER).aggregate(
        alive=Count("id"), here=Count("id", filter=Q(host=host))
    )
    return counts["alive"], counts["here"]


def tasks_failed(*, limit=20):
    """The most recent failed tasks, newest first."""
    return DBTaskResult.objects.failed().order_by("-finished_at")[:limit]


def workers_seen():
    """Every worker with a heartbeat row, most recently seen first."""
    return Worker.objects.order_by("-seen_at")
