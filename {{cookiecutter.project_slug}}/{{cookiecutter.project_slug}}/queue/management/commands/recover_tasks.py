"""`manage.py recover_tasks`: put dead workers' tasks back in the queue now.

Every worker already does this every few seconds; the command is for when none runs.
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from ...heartbeat import tasks_recover


class Command(BaseCommand):
    help = (
        "Put RUNNING tasks whose worker died back in the queue (READY), or mark them FAILED "
        "once their attempts are spent."
    )

    def handle(self, **options):
        recovered = tasks_recover(dead_after=settings.TASK_WORKER_DEAD_AFTER)
        self.stdout.write(f"Put {recovered} task(s) of dead workers back in the queue.")
