"""Enqueueing is part of the surrounding transaction; fan-out queues below urgent work."""

import pytest
from django.db import transaction
from django.tasks import TaskResultStatus, task
from django.tasks.exceptions import InvalidTask
from django_tasks_db.models import DBTaskResult

from {{ cookiecutter.project_slug }}.queue.fanout import BULK_PRIORITY, fan_out

from ..support import wait_for
from .tasks import add, nothing, sleep_then_return


class Rollback(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_an_enqueue_in_a_transaction_that_rolls_back_leaves_no_task():
    with pytest.raises(Rollback), transaction.atomic():
        add.enqueue(1, 2)
        raise Rollback
    assert not DBTaskResult.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_fan_out_queues_all_items_or_none():
    def items():
        yield 1
        yield 2
        raise Rollback

    with pytest.raises(Rollback):
        fan_out(sleep_then_return, items())
    assert not DBTaskResult.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_fan_out_queues_one_low_priority_task_per_item():
    assert fan_out(sleep_then_return, [0, 0, 0]) == 3
    queued = DBTaskResult.objects.all()
    assert [task.args_kwargs["args"] for task in queued] == [[0], [0], [0]]
    assert {task.priority for task in queued} == {BULK_PRIORITY}


def test_urgent_work_goes_before_fanned_out_work(start_worker):
    fan_out(sleep_then_return, [0] * 20)
    urgent = add.enqueue(1, 1)
    start_worker()
    wait_for(
        lambda: not DBTaskResult.objects.exclude(status=TaskResultStatus.SUCCESSFUL).exists(),
        what="every task",
    )
    urgent.refresh()
    first_bulk = DBTaskResult.objects.exclude(id=urgent.id).order_by("started_at").first()
    assert urgent.started_at < first_bulk.started_at


def test_a_task_refuses_a_meaningless_retry_policy():
    with pytest.raises(InvalidTask, match="attempts must be 1 or more"):
        task(attempts=0)(nothing)
