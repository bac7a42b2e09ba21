"""Bulk work as one small task per item, queued below everything urgent."""

from django.db import transaction

# Work done in bulk, which nobody waits on: fan-out's tasks and the scheduled jobs.
# Below the default priority (0), so a worker takes any urgent task first.
BULK_PRIORITY = -50


def fan_out(task, items):
    """Enqueue `task` once per item, the item as its one argument; return the count.

    One transaction: either every item is queued or none is, and workers see them
    all at once when it commits.
    """
    low = task.using(priority=BULK_PRIORITY)
    count = 0
    with transaction.atomic():
        for item in items:
            low.enqueue(item)
            count += 1
    return count
