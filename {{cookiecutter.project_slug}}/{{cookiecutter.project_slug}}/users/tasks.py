"""The dormant-account job through the task queue, run instead of dormant's own.

It only picks the accounts and queues one small task per account, below urgent work;
workers deactivate them as they have time.
"""

import logging

from django.tasks import task

from ..queue.fanout import fan_out
from . import dormant

logger = logging.getLogger(__name__)


@task
def deactivate_if_dormant(user_id):
    """Deactivate one account if it is still dormant when a worker gets to it."""
    return dormant.deactivate_if_dormant(user_id)


def deactivate_dormant_users():
    """The job: queue one task per dormant account."""
    user_ids = dormant.dormant_users().order_by("pk").values_list("pk", flat=True)
    queued = fan_out(deactivate_if_dormant, user_ids)
    logger.info("queued %d dormant users to deactivate, one task each", queued)
