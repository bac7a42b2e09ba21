"""`manage.py queue_status`: per queue, the tasks waiting and the oldest's age; failures."""

from django.core.management.base import BaseCommand

from ...status import queue_states, tasks_failed, workers_seen


class Command(BaseCommand):
    help = "Show ready, running and failed tasks per queue, the workers, and recent failures."

    def handle(self, **options):
        self.stdout.write(
            f"{'queue':<20} {'ready':>7} {'oldest (s)':>11} {'running':>8} {'failed':>7}"
        )
        for queue in queue_states():
            self.stdout.write(
                f"{queue.name:<20} {queue.ready:>7} {queue.oldest_seconds:>11.1f}"
                f" {queue.running:>8} {queue.failed:>7}"
            )
        self.stdout.write("\nWorkers (last heartbeat):")
        for worker in workers_seen():
            self.stdout.write(f"  {worker}: {worker.seen_at:%Y-%m-%d %H:%M:%S}")
        self.stdout.write("\nFailed tasks, newest first:")
        for failed in tasks_failed():
            self.stdout.write(
                f"  {failed.id} {failed.task_path} on {failed.queue_name}, "
                f"{failed.finished_at:%Y-%m-%d %H:%M:%S}: {failed.exception_class_path}"
            )
