"""Dormant accounts, which nobody has signed in to for DORMANT_USER_DAYS, and their job.

Superusers are never dormant, so the site always keeps a way in; with
DORMANT_USER_DAYS unset, nobody is.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.functions import Coalesce
from django.utils import timezone

logger = logging.getLogger(__name__)


def dormant_users():
    """Active accounts, superusers aside, with no sign-in for DORMANT_USER_DAYS days.

    An account never signed in to counts from the day it was made.
    """
    User = get_user_model()
    if settings.DORMANT_USER_DAYS is None:
        return User.objects.none()
    since = timezone.now() - timedelta(days=settings.DORMANT_USER_DAYS)
    return (
        User.objects.filter(is_active=True, is_superuser=False)
        .alias(last_seen=Coalesce("last_login", "date_joined"))
        .filter(last_seen__lt=since)
    )


def deactivate_if_dormant(user_id):
    """Deactivate one account if it is still dormant; True if this call did it.

    It asks again rather than trusting the job's list: the user may have signed in
    since the list was made, and a second run must change nothing.
    """
    deactivated = dormant_users().filter(pk=user_id).update(is_active=False) == 1
    if deactivated:
        logger.info("deactivated dormant user %s", user_id)
    return deactivated


def deactivate_dormant_users():
    """The job: deactivate every dormant account, one at a time."""
    user_ids = dormant_users().order_by("pk").values_list("pk", flat=True)
    deactivated = sum(deactivate_if_dormant(user_id) for user_id in user_ids)
    logger.info("deactivated %d dormant users", deactivated)
